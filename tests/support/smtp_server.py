"""A local SMTP server for tests (aiosmtpd on 127.0.0.1, a free port) that records what it accepts.

AUTH is offered over plain SMTP (auth_require_tls=False: tests only) and checked against one test login;
MAIL FROM is refused (530) until the client has logged in.
Recipients can be scripted to be refused for a while (451) or for good (550). With `tls="ssl"` it speaks
implicit TLS, with `tls="starttls"` it offers STARTTLS, on a certificate made by `self_signed_certificate`
(clients trust it through SSL_CERT_FILE, as the default context reads it).

    with SmtpServer() as server:
        server.refuse("busy@example.com", 451)
        ... EmailSettings(host=server.host, port=server.port, security="none", username=server.username)
        server.messages[0]["Subject"]
"""
from __future__ import annotations

import ipaddress
import ssl
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USERNAME = "custody@example.com"
PASSWORD = "smtp-test-password-42"
REFUSALS = {
    451: "451 4.3.0 Mailbox temporarily unavailable, try again later",
    550: "550 5.1.1 Mailbox does not exist",
}


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    raw: bytes
    tls: bool = False  # the message came over TLS (implicit or after STARTTLS)


class _Recorder:
    """The aiosmtpd handler: refuse scripted recipients, record every accepted message."""

    def __init__(self, require_auth: bool) -> None:
        self.require_auth = require_auth
        self.received: list[Received] = []
        self.refusals: dict[str, int] = {}
        self.lock = threading.Lock()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802
        # Enforced here rather than with aiosmtpd's auth_required, which warns about AUTH without TLS.
        if self.require_auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's name)
        code = self.refusals.get(address.lower())
        if code:
            return REFUSALS[code]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        raw = envelope.original_content or envelope.content
        message = BytesParser(policy=policy.default).parsebytes(raw)
        tls = server.transport.get_extra_info("ssl_object") is not None
        with self.lock:
            self.received.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), message, raw, tls))
        return "250 2.0.0 Message accepted for delivery"


class _EphemeralController(Controller):
    """aiosmtpd binds port 0 fine but then probes port 0: read the real port first."""

    def _trigger_server(self) -> None:
        if self.port == 0 and self.server is not None:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def self_signed_certificate(folder: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """(certificate, key) PEM files for `host` (an IP address in the SAN), valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


class SmtpServer:
    def __init__(self, username: str = USERNAME, password: str = PASSWORD, require_auth: bool = True,
                 tls: str = "none", certificate: tuple[Path, Path] | None = None):
        self.username, self.password = username, password
        self.handler = _Recorder(require_auth)
        self.logins: list[tuple[str, bool]] = []  # (login, succeeded)
        secure = {}
        if tls == "ssl":
            secure = {"ssl_context": _server_context(certificate)}
        elif tls == "starttls":
            secure = {"tls_context": _server_context(certificate), "require_starttls": True}
        self._controller = _EphemeralController(
            self.handler,
            hostname="127.0.0.1",
            port=0,
            authenticator=self._authenticate,
            auth_require_tls=False,  # tests only: real servers take AUTH over TLS
            **secure,
        )

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._controller.stop()

    @property
    def host(self) -> str:
        return self._controller.hostname

    @property
    def port(self) -> int:
        return self._controller.port

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    @property
    def messages(self) -> list[EmailMessage]:
        return [item.message for item in self.received]

    def refuse(self, address: str, code: int) -> None:
        """Answer RCPT TO for this address with 451 (temporary) or 550 (permanent)."""
        self.handler.refusals[address.lower()] = code

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode()
        ok = login == self.username and auth_data.password.decode() == self.password
        self.logins.append((login, ok))
        return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535 itself

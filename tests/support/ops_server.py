"""A local OPS-compatible server for tests, on 127.0.0.1: token endpoint, number service and legal service.

It answers as OPS 3.2 does (reference guide 2.1-3.5): POST /3.2/auth/accesstoken takes HTTP Basic
key:secret and grant_type=client_credentials and answers JSON with access_token and expires_in; the services take
POST with the input in a text/plain body and a Bearer token, and answer ops:world-patent-data XML with the
X-Throttling-Control and X-RegisteredQuotaPerWeek-Used headers. An unknown or expired token gets 400 with the
message invalid_access_token (what the client library looks for before it renews), a used-up quota 403 with
X-Rejection-Reason, an unknown document 404 with SERVER.EntityNotFound.

    with OpsServer(legal={"(CN).(202010000018).(A)": "cn_restored.xml"}) as ops:
        ops.throttle = "busy (images=green:100, inpadoc=yellow:30, other=green:1000, search=green:10)"
        ops.fail_next("legal", 403, rejection="RegisteredQuotaPerWeek exceeded")
        OpsGateway(KEY, SECRET, ops.base_url)
"""
from __future__ import annotations

import base64
import itertools
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl

KEY = "ops-test-consumer-key-0001"
SECRET = "ops-test-consumer-secret-s3cr3t-0001"
DATA = Path(__file__).resolve().parents[1] / "data" / "ops"
IDLE = "idle (images=green:200, inpadoc=green:1000, other=green:1000, retrieval=green:200, search=green:30)"
NOT_FOUND = (b'<?xml version="1.0" encoding="UTF-8"?><fault xmlns="http://ops.epo.org"><code>SERVER.EntityNotFound'
             b'</code><message>No results found</message></fault>')
FAIR_USE = (b'<error><code>403</code><message>This request has been rejected due to the violation of Fair Use '
            b'policy</message></error>')
BAD_TOKEN = b"<error><code>CLIENT.InvalidAccessToken</code><message>invalid_access_token</message></error>"


@dataclass(frozen=True)
class Fault:
    service: str  # "token", "number", "legal"
    status: int
    body: bytes = b""
    rejection: str = ""


class OpsServer:
    def __init__(self, legal: Mapping[str, str] | None = None, numbers: Mapping[str, str] | None = None,
                 key: str = KEY, secret: str = SECRET) -> None:
        self.legal = dict(legal or {})  # request body -> fixture file (or raw bytes)
        self.numbers = dict(numbers or {})  # original body -> docdb "CN.number.kind"
        self.key, self.secret = key, secret
        self.throttle = IDLE
        self.week_used: int | None = None
        self.expires_in = 1200
        self.requests: list[dict] = []
        self.tokens: set[str] = set()
        self.faults: list[Fault] = []
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())

    def __enter__(self) -> OpsServer:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/3.2"

    def fail_next(self, service: str, status: int, body: bytes = b"", rejection: str = "") -> None:
        self.faults.append(Fault(service, status, body, rejection))

    def expire_tokens(self) -> None:
        """Every token issued so far stops working (OPS tokens live 20 minutes)."""
        with self._lock:
            self.tokens.clear()

    def calls(self, service: str) -> list[dict]:
        return [r for r in self.requests if r["service"] == service]

    def _fault(self, service: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.service == service:
                    self.faults.remove(fault)
                    return fault
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        ops = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8")
                service = _service_of(self.path)
                ops.requests.append({"service": service, "path": self.path, "body": body,
                                     "authorization": self.headers.get("Authorization", "")})
                if service == "token":
                    return self._token(body)
                if self.headers.get("Authorization", "").removeprefix("Bearer ") not in ops.tokens:
                    return self._send(400, BAD_TOKEN)
                fault = ops._fault(service)
                if fault is not None:
                    headers = {"X-Rejection-Reason": fault.rejection} if fault.rejection else {}
                    return self._send(fault.status, fault.body or (FAIR_USE if fault.status == 403 else NOT_FOUND),
                                      headers)
                answer = ops.legal.get(body) if service == "legal" else _number_answer(ops.numbers.get(body), body)
                if answer is None:
                    return self._send(404, NOT_FOUND)
                self._send(200, answer if isinstance(answer, bytes) else (DATA / answer).read_bytes())

            def _token(self, body: str) -> None:
                expected = base64.b64encode(f"{ops.key}:{ops.secret}".encode()).decode()
                fault = ops._fault("token")
                if fault is not None or self.headers.get("Authorization") != f"Basic {expected}" \
                        or dict(parse_qsl(body)).get("grant_type") != "client_credentials":
                    status = fault.status if fault else 401
                    return self._send(status, b'{"error": "invalid_client"}', content_type="application/json")
                token = f"token-{next(ops._counter)}"
                ops.tokens.add(token)
                answer = {"access_token": token, "token_type": "BearerToken", "expires_in": str(ops.expires_in),
                          "status": "approved"}
                self._send(200, json.dumps(answer).encode(), content_type="application/json")

            def _send(self, status: int, body: bytes, headers: Mapping[str, str] | None = None,
                      content_type: str = "application/xml;charset=utf-8") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("X-API", "ops-v3.2")
                if ops.throttle:
                    self.send_header("X-Throttling-Control", ops.throttle)
                if ops.week_used is not None:
                    self.send_header("X-RegisteredQuotaPerWeek-Used", str(ops.week_used))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        return Handler


def _service_of(path: str) -> str:
    if path.endswith("/auth/accesstoken"):
        return "token"
    if "/rest-services/number-service/" in path:
        return "number"
    if "/rest-services/legal/" in path:
        return "legal"
    return "other"


def _number_answer(docdb: str | None, body: str) -> bytes | None:
    """A number-service answer (ops:standardization) converting `body` to the DOCDB number `docdb`."""
    if docdb is None:
        return None
    country, number, kind = docdb.split(".")
    original = body.replace("(", "").replace(")", "").split(".", 1)[-1]
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<ops:world-patent-data xmlns="http://www.epo.org/exchange" xmlns:ops="http://ops.epo.org">
  <ops:meta name="status" value="SUCCESS"/>
  <ops:standardization inputFormat="original" outputFormat="docdb">
    <ops:input><ops:application-reference><document-id document-id-type="original">
      <country>CN</country><doc-number>{original}</doc-number></document-id></ops:application-reference></ops:input>
    <ops:output><ops:application-reference><document-id document-id-type="docdb">
      <country>{country}</country><doc-number>{number}</doc-number><kind>{kind}</kind>
    </document-id></ops:application-reference></ops:output>
  </ops:standardization>
</ops:world-patent-data>""".encode()

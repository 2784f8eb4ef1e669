"""SMTP email transport: real smtplib against a real local aiosmtpd server."""
from __future__ import annotations

import socket
from dataclasses import replace

import pytest

from notifiers.base import Message, Outcome, Transport
from notifiers.email_smtp import SmtpEmail
from tests.support.smtp_server import PASSWORD, USERNAME, SmtpServer, self_signed_certificate

SUBJECT = "专利年费提醒：ZL202310123456.7 第7年年费将于2024年3月1日到期"
TEXT = "您好，专利 ZL202310123456.7 的第7年年费 900 元将于 2024年3月1日 到期，请及时缴纳。"
HTML = "<p>您好，专利 <b>ZL202310123456.7</b> 的第7年年费 900 元将于 2024年3月1日 到期。</p>"


def reminder(recipient: str = "zhang.san@example.com", html: str | None = HTML) -> Message:
    return Message(key="outbox-42", channel="email", recipient=recipient, text=TEXT, subject=SUBJECT, html=html)


def test_email_transport_is_a_transport(email_transport):
    assert isinstance(email_transport, Transport) and email_transport.name == "email"


def test_plain_and_html_with_a_chinese_subject_arrive_intact(email_transport, smtp_server):
    result = email_transport.send(reminder())

    [received] = smtp_server.received
    message = received.message
    assert result.outcome is Outcome.SENT
    assert received.rcpt_tos == ("zhang.san@example.com",) and received.mail_from == "reminders@example.com"
    assert message["Subject"] == SUBJECT
    assert message["From"].addresses[0].display_name == "专利年费提醒"
    assert message.get_content_type() == "multipart/alternative"
    assert message.get_body(("plain",)).get_content().strip() == TEXT
    assert message.get_body(("html",)).get_content().strip() == HTML
    assert smtp_server.logins == [(USERNAME, True)]


def test_the_raw_message_is_seven_bit_safe(email_transport, smtp_server):
    email_transport.send(reminder())

    assert smtp_server.received[0].raw.isascii()  # relays without 8BITMIME/SMTPUTF8 still carry it


def test_plain_text_only_is_a_single_part(email_transport, smtp_server):
    email_transport.send(reminder(html=None))

    [message] = smtp_server.messages
    assert message.get_content_type() == "text/plain" and message.get_content().strip() == TEXT


def test_message_id_is_derived_from_the_key(email_transport, smtp_server):
    result = email_transport.send(reminder())

    assert smtp_server.messages[0]["Message-ID"] == result.provider_id == "<custody.outbox-42@example.com>"


@pytest.mark.parametrize(
    ("code", "outcome"),
    [(451, Outcome.RETRY), (550, Outcome.PERMANENT)],
    ids=["451-temporary-is-retried", "550-refused-is-permanent"],
)
def test_refused_recipient(email_transport, smtp_server, code, outcome):
    smtp_server.refuse("zhang.san@example.com", code)

    result = email_transport.send(reminder())

    assert (result.outcome, result.code) == (outcome, str(code))
    assert smtp_server.received == []


def test_temporary_refusal_waits_minutes_not_seconds(email_transport, smtp_server):
    smtp_server.refuse("zhang.san@example.com", 451)

    assert email_transport.send(reminder()).retry_after_seconds >= 60


def test_bad_password_is_misconfigured(email_settings, smtp_server):
    result = SmtpEmail(email_settings, password="wrong-password").send(reminder())

    assert (result.outcome, result.code) == (Outcome.MISCONFIGURED, "535")
    assert smtp_server.logins and all(not ok for _, ok in smtp_server.logins)  # smtplib tries PLAIN, then LOGIN
    assert smtp_server.received == []


def test_missing_password_is_misconfigured_without_connecting(email_settings, smtp_server, monkeypatch):
    monkeypatch.delenv("CUSTODY_SMTP_PASSWORD", raising=False)

    result = SmtpEmail(email_settings).send(reminder())

    assert (result.outcome, result.code) == (Outcome.MISCONFIGURED, "config.NO_PASSWORD")
    assert smtp_server.logins == []


def test_password_is_read_from_the_environment(email_settings, smtp_server, monkeypatch):
    monkeypatch.setenv("CUSTODY_SMTP_PASSWORD", smtp_server.password)

    assert SmtpEmail(email_settings).send(reminder()).outcome is Outcome.SENT


def test_invalid_address_is_permanent(email_transport, smtp_server):
    result = email_transport.send(reminder(recipient="zhang.san@"))

    assert (result.outcome, result.code) == (Outcome.PERMANENT, "local.BAD_ADDRESS")


def test_unreachable_server_is_retried(email_settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]

    result = SmtpEmail(replace(email_settings, port=closed_port), password="x").send(reminder())

    assert result.outcome is Outcome.RETRY and result.retry_after_seconds


def test_tls_to_a_plain_server_is_retried_not_raised(email_settings, smtp_server):
    result = SmtpEmail(replace(email_settings, security="ssl", timeout=2.0), password="x").send(reminder())

    assert result.outcome in (Outcome.RETRY, Outcome.MISCONFIGURED)


def test_server_requiring_a_login_we_do_not_give_is_misconfigured(email_settings, smtp_server):
    result = SmtpEmail(replace(email_settings, username="")).send(reminder())

    assert (result.outcome, result.code) == (Outcome.MISCONFIGURED, "530")


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_tls_with_a_trusted_certificate_logs_in_and_delivers_encrypted(email_settings, tmp_path, monkeypatch,
                                                                       security):
    certificate = self_signed_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # the default context trusts what this names
    with SmtpServer(tls=security, certificate=certificate) as server:
        settings = replace(email_settings, host=server.host, port=server.port, security=security)
        result = SmtpEmail(settings, password=PASSWORD).send(reminder())
        received = server.received

    assert result.outcome is Outcome.SENT
    assert [(r.rcpt_tos, r.tls) for r in received] == [(("zhang.san@example.com",), True)]
    assert server.logins == [(USERNAME, True)]
    assert received[0].message["Subject"] == SUBJECT


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_tls_with_an_untrusted_certificate_sends_nothing_and_is_misconfigured(email_settings, tmp_path, monkeypatch,
                                                                             security):
    certificate = self_signed_certificate(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.setenv("SSL_CERT_FILE", str(self_signed_certificate(other)[0]))  # trusts a different one
    with SmtpServer(tls=security, certificate=certificate) as server:
        settings = replace(email_settings, host=server.host, port=server.port, security=security)
        result = SmtpEmail(settings, password=PASSWORD).send(reminder())
        received, logins = server.received, server.logins

    assert result.outcome is Outcome.MISCONFIGURED and "TLS certificate not trusted" in result.detail
    assert received == [] and logins == []  # the password never went to an unverified server

"""Pytest fixtures for the local channel servers; loaded for every test by tests/conftest.py
(`pytest_plugins = ["tests.support.fixtures"]`).

- `aliyun_gateway`: a running `AliyunGateway` (accepts any template and signature name).
- `sms_settings` / `sms_transport`: [sms] settings and an `AliyunSms` pointed at it with the test keys and short
  timeouts (read timeout 1 s; a scripted `timeout()` holds its answer 3 s).
- `smtp_server`: a running `SmtpServer` that requires the test login.
- `email_settings` / `email_transport`: [email] settings and an `SmtpEmail` for it (plain SMTP, test password).
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from notifiers.aliyun_sms import AliyunSms, SmsSettings
from notifiers.email_smtp import EmailSettings, SmtpEmail
from tests.support.aliyun_gateway import KEY_ID, KEY_SECRET, AliyunGateway
from tests.support.smtp_server import PASSWORD, USERNAME, SmtpServer

SIGN_NAME = "专利托管"
TEMPLATES = {"due_soon": "SMS_465100001", "overdue": "SMS_465100002", "lapsed": "SMS_465100003",
             "lapsed_due": "SMS_465100004", "overdue_final": "SMS_465100005"}
SMS_READ_TIMEOUT = 1.0


@pytest.fixture
def aliyun_gateway() -> Iterator[AliyunGateway]:
    with AliyunGateway() as gateway:
        yield gateway


@pytest.fixture
def sms_settings(aliyun_gateway: AliyunGateway) -> SmsSettings:
    return SmsSettings(
        enabled=True,
        endpoint=aliyun_gateway.endpoint,
        protocol="http",
        sign_name=SIGN_NAME,
        templates=TEMPLATES,
        connect_timeout=2.0,
        read_timeout=SMS_READ_TIMEOUT,
    )


@pytest.fixture
def sms_transport(sms_settings: SmsSettings) -> AliyunSms:
    return AliyunSms(sms_settings, key_id=KEY_ID, key_secret=KEY_SECRET)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def email_settings(smtp_server: SmtpServer) -> EmailSettings:
    return EmailSettings(
        enabled=True,
        host=smtp_server.host,
        port=smtp_server.port,
        security="none",
        username=USERNAME,
        from_address="reminders@example.com",
        from_name="专利年费提醒",
        timeout=5.0,
    )


@pytest.fixture
def email_transport(email_settings: EmailSettings) -> SmtpEmail:
    return SmtpEmail(email_settings, password=PASSWORD)

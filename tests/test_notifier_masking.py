"""Masking of phone numbers, email addresses and secrets; and no raw personal data or secret in send logs."""
from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from custody.masking import MaskingFilter, mask_email, mask_phone, mask_text, secret_values
from notifiers.aliyun_sms import AliyunSms
from notifiers.base import Message
from notifiers.email_smtp import SmtpEmail
from notifiers.webhook import AlertSettings, RobotWebhook
from tests.support import aliyun_gateway as gw
from tests.support.aliyun_gateway import KEY_ID, KEY_SECRET

MOBILE = "13812345678"
ADDRESS = "zhang.san@example.com"


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("+8613812345678", "+86138****5678"),
        ("138-1234-5678", "138****5678"),
        (" 19912345678 ", "199****5678"),
        ("0571-88886666", "05*********66"),
        ("123", "***"),
    ],
    ids=["mobile", "plus-86", "dashed", "padded", "landline-keeps-ends", "short"],
)
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("zhang.san@example.com", "z***@example.com"),
        ("a@b.cn", "a***@b.cn"),
        ("ops@公司.中国", "o***@公司.中国"),
    ],
    ids=["dotted-local-part", "one-letter", "idn-domain"],
)
def test_mask_email(address, masked):
    assert mask_email(address) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("请联系 13812345678 或 zhang.san@example.com。", "请联系 138****5678 或 z***@example.com。"),
        ("联系zhang.san@example.com", "联系z***@example.com"),
        ("PhoneNumbers%3D13812345678%26", "PhoneNumbers%3D138****5678%26"),
        ("BizId 900619746936498440^0 stays", "BizId 900619746936498440^0 stays"),
        ("ZL202310123456.7 stays", "ZL202310123456.7 stays"),
        ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx",
         "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=******"),
        ("https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1&sign=xyz",
         "https://oapi.dingtalk.com/robot/send?access_token=******&timestamp=1&sign=******"),
    ],
    ids=["phone-and-email", "email-after-chinese", "url-encoded-phone", "long-ids-untouched",
         "application-number-untouched", "wecom-key", "dingtalk-token"],
)
def test_mask_text(text, masked):
    assert mask_text(text) == masked


def test_mask_text_masks_given_secrets_but_not_short_values():
    assert mask_text("key=s3cr3t-value and 1", secrets=["s3cr3t-value", "1"]) == "key=****** and 1"


def test_secret_values_come_from_variables_named_as_secrets():
    environ = {"ALIBABA_CLOUD_ACCESS_KEY_SECRET": "abcdef123", "CUSTODY_SMTP_PASSWORD": "pw-123456",
               "CUSTODY_ALERT_WEBHOOK_URL": "https://x/send?key=1", "HOME": "/home/custody", "API_TOKEN": ""}

    assert sorted(secret_values(environ)) == ["abcdef123", "https://x/send?key=1", "pw-123456"]


def test_filter_masks_message_args_and_traceback():
    logger = logging.getLogger("test.masking")
    record_filter = MaskingFilter(environ={"CUSTODY_SMTP_PASSWORD": "hunter2-password"})
    try:
        raise ValueError(f"login failed for {ADDRESS} with hunter2-password")
    except ValueError:
        record = logger.makeRecord("test.masking", logging.ERROR, __file__, 1, "send to %s failed",
                                   (MOBILE,), exc_info=__import__("sys").exc_info())

    assert record_filter.filter(record) is True
    assert record.getMessage() == "send to 138****5678 failed"
    assert "z***@example.com with ******" in record.exc_text and ADDRESS not in record.exc_text


def test_message_repr_hides_recipient_and_text():
    message = Message(key="k", channel="sms", recipient=MOBILE, text="秘密内容")

    assert MOBILE not in repr(message) and "秘密内容" not in repr(message)


def raw_leaks(records: list[logging.LogRecord], raw: list[str]) -> list[str]:
    """Formatted records (message and traceback) that still contain any raw value; the test servers' own
    logs (aiosmtpd's mail.log) are not the product's and are left out."""
    shown = [f"{r.name}: {r.getMessage()} {r.exc_text or ''}" for r in records if not r.name.startswith("mail.log")]
    return [line for line in shown if any(value in line for value in raw)]


def test_no_log_record_of_a_send_contains_a_raw_phone_address_or_secret(
    caplog, monkeypatch, aliyun_gateway, sms_settings, email_settings, smtp_server,
):
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", KEY_SECRET)
    monkeypatch.setenv("CUSTODY_SMTP_PASSWORD", smtp_server.password)
    monkeypatch.setenv("CUSTODY_ALERT_WEBHOOK_URL", f"http://{aliyun_gateway.endpoint}/send?key=robot-token-xyz")
    caplog.set_level(logging.DEBUG)
    sms = Message(key="k1", channel="sms", recipient=MOBILE, text="t", template="due_soon", params={"n": "1"})
    mail = Message(key="k2", channel="email", recipient=ADDRESS, text="正文", subject="主题")
    transport = AliyunSms(sms_settings)

    transport.send(sms)  # accepted
    AliyunSms(sms_settings, key_secret="wrong-secret-value").send(sms)  # the SDK logs the echoed request
    aliyun_gateway.fail_next(gw.timeout(record=True))
    transport.send(replace(sms, key="k3"))  # the SDK logs the HTTP error with the URL
    transport.lookup(replace(sms, key="k3"), aliyun_gateway.accepted()[-1].sent_at.date())
    SmtpEmail(email_settings).send(mail)
    smtp_server.refuse(ADDRESS, 550)
    SmtpEmail(email_settings).send(mail)
    RobotWebhook(AlertSettings(enabled=True)).send(Message(key="a", channel="webhook", recipient="ops", text="x"))

    assert len(caplog.records) >= 5
    assert raw_leaks(caplog.records, [MOBILE, ADDRESS, KEY_ID, KEY_SECRET, smtp_server.password,
                                      "robot-token-xyz"]) == []

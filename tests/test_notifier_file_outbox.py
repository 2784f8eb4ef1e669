"""File outbox and the channel registry built from configuration."""
from __future__ import annotations

import json
import tomllib
from dataclasses import MISSING, fields
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from custody.config import Config, ConfigError, load_config
from notifiers.aliyun_sms import SMS_LIMITS, AliyunSms, SmsSettings
from notifiers.base import Message, Outcome, Transport
from notifiers.email_smtp import EmailSettings, SmtpEmail
from notifiers.file_outbox import JOURNAL, FileOutbox, OutboxSettings
from notifiers.registry import channel_problems, transports_from_config
from notifiers.webhook import AlertSettings, RobotWebhook

REPO_CONFIG = Path(__file__).resolve().parents[1] / "config.toml"
SMS = Message(key="outbox-1", channel="sms", recipient="13812345678", text="专利年费将到期",
              template="due_soon", params={"number": "ZL202310123456.7"})
EMAIL = Message(key="outbox-2", channel="email", recipient="zhang.san@example.com", text="年费提醒正文",
                subject="年费提醒", html="<p>年费提醒</p>")


def journal(directory: Path) -> list[dict]:
    return [json.loads(line) for line in (directory / JOURNAL).read_text(encoding="utf-8").splitlines()]


def test_file_outbox_writes_one_json_line_per_message(tmp_path):
    outbox = FileOutbox(tmp_path / "outbox")

    results = [outbox.send(SMS), outbox.send(EMAIL)]

    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.SENT]
    first, second = journal(tmp_path / "outbox")
    assert (first["key"], first["recipient"], first["text"], first["params"]) == (
        "outbox-1", "13812345678", "专利年费将到期", {"number": "ZL202310123456.7"})
    assert (second["subject"], second["html"]) == ("年费提醒", "<p>年费提醒</p>")


def test_file_outbox_writes_an_eml_file_for_email(tmp_path):
    FileOutbox(tmp_path).send(EMAIL)

    message = BytesParser(policy=policy.default).parsebytes((tmp_path / "outbox-2.eml").read_bytes())
    assert message["Subject"] == "年费提醒" and message.get_body(("plain",)).get_content().strip() == "年费提醒正文"


def test_file_outbox_that_cannot_write_asks_for_a_retry(tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")

    result = FileOutbox(blocker / "outbox").send(SMS)

    assert (result.outcome, result.code) == (Outcome.RETRY, "local.DISK")


def test_default_configuration_has_only_the_file_outbox():
    transports = transports_from_config(Config())

    assert list(transports) == ["file"] and isinstance(transports["file"], FileOutbox)


def test_repository_config_file_is_valid_and_enables_no_remote_channel():
    transports = transports_from_config(load_config(REPO_CONFIG))

    assert list(transports) == ["file"] and transports["file"].directory == Path("outbox")


def test_enabled_channels_are_built():
    config = Config(data={
        "sms": {"enabled": True, "sign_name": "专利托管", "templates": {"due_soon": "SMS_1"}},
        "email": {"enabled": True, "host": "smtp.example.com", "from_address": "r@example.com"},
        "alerts": {"enabled": True, "kind": "dingtalk"},
    })

    transports = transports_from_config(config)

    assert isinstance(transports["sms"], AliyunSms) and isinstance(transports["email"], SmtpEmail)
    assert isinstance(transports["webhook"], RobotWebhook)
    assert all(isinstance(t, Transport) for t in transports.values())


def test_replace_mode_writes_sms_and_email_to_the_outbox_keeping_their_limits(tmp_path):
    config = Config(data={
        "sms": {"enabled": True, "sign_name": "专利托管"},
        "outbox": {"dir": str(tmp_path), "replace": True},  # keys of other helpers are ignored
    })

    transports = transports_from_config(config)
    transports["sms"].send(SMS)

    assert isinstance(transports["sms"], FileOutbox) and transports["sms"].limits == SMS_LIMITS
    assert isinstance(transports["email"], FileOutbox)
    assert journal(tmp_path)[0]["via"] == "file"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"sms": {"protocol": "ftp"}}, "[sms].protocol"),
        ({"sms": {"enabled": True}}, "[sms].sign_name"),
        ({"sms": {"sign": "x"}}, "[sms]"),
        ({"email": {"security": "tls"}}, "[email].security"),
        ({"email": {"enabled": True}}, "[email].host"),
        ({"alerts": {"kind": "slack"}}, "[alerts].kind"),
        ({"alerts": {"format": "html"}}, "[alerts].format"),
    ],
    ids=["bad-protocol", "sms-without-signature", "unknown-sms-key", "bad-security", "email-without-host",
         "unknown-robot", "unknown-format"],
)
def test_bad_channel_settings_are_configuration_errors(data, fragment):
    with pytest.raises(ConfigError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        transports_from_config(Config(data=data))


def test_channel_problems_name_missing_secrets_without_values(monkeypatch):
    for name in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "CUSTODY_ALERT_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    config = Config(data={"sms": {"enabled": True, "sign_name": "x"}, "alerts": {"enabled": True}})

    problems = channel_problems(config)

    assert len(problems) == 3 and "ALIBABA_CLOUD_ACCESS_KEY_ID" in problems[0]
    assert problems[1].startswith("[sms.templates] has no due_soon, overdue, overdue_final, lapsed, lapsed_due:")


def test_a_missing_sms_template_key_is_named_at_start(monkeypatch):
    templates = {"due_soon": "SMS_1", "overdue": "SMS_2", "lapsed": "SMS_3"}  # before lapsed_due and overdue_final
    config = Config(data={"sms": {"enabled": True, "sign_name": "x", "templates": templates}})
    assert [p for p in channel_problems(config) if "templates" in p] == [
        "[sms.templates] has no overdue_final, lapsed_due: such SMS fail (the email fallback goes) and the channel "
        "rests"]


@pytest.mark.parametrize("section", ["sms", "email", "outbox", "alerts"])
def test_config_toml_documents_the_channel_defaults(section):
    settings_class = {"sms": SmsSettings, "email": EmailSettings, "outbox": OutboxSettings,
                      "alerts": AlertSettings}[section]
    documented = tomllib.loads(REPO_CONFIG.read_text(encoding="utf-8"))[section]
    defaults = {f.name: f.default if f.default is not MISSING else f.default_factory() for f in fields(settings_class)}

    assert documented == {name: value for name, value in defaults.items() if value is not None}

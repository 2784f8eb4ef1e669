"""The transports a configuration asks for, by channel name ("sms", "email", "file", "webhook").

Only enabled channels are built, and reminders are planned on no other (`sending_channels`). The file outbox
is always there as "file"; with [outbox].replace = true it also stands in for "sms" and "email" (demo mode, dry
runs), keeping their limits so planning behaves the same.
A channel that is enabled but lacks its secret in this process's environment (a cron `run-once` started without
the secrets file) is still built and says which secret it lacks (`missing_secret`): the dispatch tick then leaves
its messages for a process that has the secret (the daemon) instead of failing them all, and says so; if no
process has it, they become late and `custody health` fails on them. Each start warns (`channel_problems`).
"""
from __future__ import annotations

from custody.config import Config, secret
from custody.messages import SMS_TEMPLATES
from notifiers.aliyun_sms import KEY_ID_ENV, KEY_SECRET_ENV, SMS_LIMITS, AliyunSms, SmsSettings
from notifiers.base import ChannelLimits, Transport
from notifiers.email_smtp import PASSWORD_ENV, EmailSettings, SmtpEmail
from notifiers.file_outbox import FileOutbox, OutboxSettings
from notifiers.webhook import URL_ENV, AlertSettings, RobotWebhook


def transports_from_config(config: Config) -> dict[str, Transport]:
    sms, email = sms_settings(config), email_settings(config)
    outbox = outbox_settings(config)
    transports: dict[str, Transport] = {"file": FileOutbox(outbox.dir)}
    if outbox.replace:
        transports["sms"] = FileOutbox(outbox.dir, name="file", limits=SMS_LIMITS)
        transports["email"] = FileOutbox(outbox.dir, name="file", limits=_email_limits(email))
    else:
        if sms.enabled:
            transports["sms"] = AliyunSms(sms)
        if email.enabled:
            transports["email"] = SmtpEmail(email)
    alerts = alert_settings(config)
    if alerts.enabled:
        transports["webhook"] = RobotWebhook(alerts)
    return transports


def sending_channels(config: Config) -> frozenset[str]:
    """The channels this configuration can send on (enabled, or the file outbox standing in for them)."""
    return frozenset(transports_from_config(config))


def channel_problems(config: Config) -> list[str]:
    """What keeps an enabled channel from working, in words for the operator (secrets are only named)."""
    problems: list[str] = []
    sms = sms_settings(config)
    if sms.enabled and not (secret(KEY_ID_ENV) and secret(KEY_SECRET_ENV)):
        problems.append(f"[sms] is enabled but {KEY_ID_ENV} / {KEY_SECRET_ENV} are not set")
    missing = [key for key in SMS_TEMPLATES if key not in sms.templates]
    if sms.enabled and missing:
        problems.append(f"[sms.templates] has no {', '.join(missing)}: such SMS fail (the email fallback goes) "
                        f"and the channel rests")
    email = email_settings(config)
    if email.enabled and email.username and not secret(PASSWORD_ENV):
        problems.append(f"[email] has a username but {PASSWORD_ENV} is not set")
    if alert_settings(config).enabled and not secret(URL_ENV):
        problems.append(f"[alerts] is enabled but {URL_ENV} is not set")
    return problems


def sms_settings(config: Config) -> SmsSettings:
    return SmsSettings.from_section(config.section("sms"), config.origin)


def email_settings(config: Config) -> EmailSettings:
    return EmailSettings.from_section(config.section("email"), config.origin)


def alert_settings(config: Config) -> AlertSettings:
    return AlertSettings.from_section(config.section("alerts"), config.origin)


def outbox_settings(config: Config) -> OutboxSettings:
    return OutboxSettings(**config.section("outbox"))


def _email_limits(settings: EmailSettings) -> ChannelLimits:
    return ChannelLimits(max_chars=None, per_recipient_per_day=None, per_second=settings.per_second)


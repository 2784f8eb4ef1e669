"""A channel that only writes: each message becomes one JSON line in `messages.jsonl` (and each email also an
.eml file) under [outbox].dir. Used by `make demo`, dry runs, and in place of SMS/email with [outbox].replace.

Nothing leaves the machine, so a message is always SENT unless the disk refuses the write (then RETRY).
The lines carry the real recipients: the directory is data, like the database, not a log.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from custody import clock
from custody.masking import mask_text
from notifiers.base import UNLIMITED, ChannelLimits, Message, Outcome, SendResult, add_attachments

log = logging.getLogger(__name__)

JOURNAL = "messages.jsonl"
DISK_WAIT = 60.0


@dataclass(frozen=True)
class OutboxSettings:
    dir: str = "outbox"
    replace: bool = False  # stand in for the sms and email channels (demo mode)


class FileOutbox:
    """Transport for channel "file" (or standing in for another channel, keeping that channel's limits)."""

    missing_secret = None  # writes to a folder: no secret to lack

    def __init__(self, directory: str | Path, name: str = "file", limits: ChannelLimits = UNLIMITED):
        self.directory = Path(directory)
        self.name = name
        self.limits = limits

    def send(self, message: Message) -> SendResult:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            line = json.dumps(self._record(message), ensure_ascii=False)
            # One write per line in append mode: concurrent writers never interleave inside a line.
            with open(self.directory / JOURNAL, "a", encoding="utf-8") as journal:
                journal.write(line + "\n")
            if message.channel == "email":
                (self.directory / f"{_safe(message.key)}.eml").write_bytes(bytes(_eml(message)))
        except OSError as exc:
            return SendResult(Outcome.RETRY, code="local.DISK", detail=mask_text(str(exc)),
                              retry_after_seconds=DISK_WAIT)
        except ValueError as exc:  # a subject that cannot be a header (e.g. a line break in it)
            return SendResult(Outcome.PERMANENT, code="local.BAD_MESSAGE", detail=mask_text(str(exc)))
        log.info("outbox %s: %s message written to %s", message.key, message.channel, self.directory)
        return SendResult(Outcome.SENT, provider_id=f"file:{message.key}", code="OK")

    def _record(self, message: Message) -> dict[str, object]:
        record: dict[str, object] = {
            "key": message.key,
            "channel": message.channel,
            "via": self.name,
            "recipient": message.recipient,
            "subject": message.subject,
            "text": message.text,
            "template": message.template,
            "params": dict(message.params),
            "written_at": clock.now().isoformat(timespec="seconds"),
        }
        if message.html:
            record["html"] = message.html
        if message.attachments:
            record["attachments"] = [a.filename for a in message.attachments]  # the files are in the .eml
        return record


def _safe(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", key) or "message"


def _eml(message: Message) -> EmailMessage:
    email = EmailMessage()
    email["Subject"] = message.subject or ""
    email["To"] = message.recipient
    email["X-Custody-Key"] = message.key
    email.set_content(message.text, charset="utf-8")
    if message.html:
        email.add_alternative(message.html, subtype="html", charset="utf-8")
    add_attachments(email, message)
    return email

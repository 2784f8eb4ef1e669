"""A small world for the reminder and scheduler tests: enterprises, contacts and patents with known fee dates,
the ticks wired to the real local servers (Aliyun gateway, aiosmtpd, a group-robot webhook), and readers of what
the servers received and what the outbox says. Imported by tests/test_remind_*.py and tests/test_scheduler_*.py.

The reference patent: invention filed 2017-04-25, grant year 3, paid through year 8. Its year-9 fee is due on
2025-04-25 (a Friday); the late fee rises on 2025-05-27 (5 %), 06-26, 07-26 (15 %), 08-26 and 09-26 (25 %); the
grace period ends on 2025-10-27. Tiers by default: email 90/60/30/15/7/1 days before (2025-01-25 ... 04-24), SMS
30/7/1 days before (03-26, 04-18, 04-24).
"""
from __future__ import annotations

import itertools
import json
import threading
from dataclasses import replace
from datetime import date, datetime, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session

from custody.clock import SHANGHAI
from custody.models import Contact, Enterprise, Patent
from custody.models.reminders import Reminder, ReminderItem
from custody.reminder_settings import ReminderSettings, RetryPolicy
from custody.ruleset import default_rules
from custody.store.db import session_for
from notifiers.webhook import AlertSettings, RobotWebhook
from scheduler.ticks import Ticks

DUE = date(2025, 4, 25)
GRACE_END = date(2025, 10, 27)
_numbers = itertools.count(1)


def at(day: str, clock: str = "10:00") -> datetime:
    """A moment in Asia/Shanghai."""
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), SHANGHAI)


def fast_settings(**changes) -> ReminderSettings:
    """The default policy, with no sending hours and quick retries (the clock is moved by hand in tests)."""
    base = ReminderSettings(send_windows={}, retry=RetryPolicy(base_seconds=1, factor=2, max_seconds=60))
    return replace(base, **changes)


def add_enterprise(session: Session, name: str = "福建测试科技有限公司", *, mobile: str | None = "13800000001",
                   email: str | None = "ip@example.com", role: str = "ip_manager", **contact) -> Enterprise:
    n = next(_numbers)
    enterprise = Enterprise(credit_code=f"TEST{n:014d}", name=name)
    session.add(enterprise)
    session.flush()
    if mobile or email:
        session.add(Contact(enterprise_id=enterprise.id, name="张经理", role=role, mobile=mobile, email=email,
                            **contact))
    session.flush()
    return enterprise


def add_contact(session: Session, enterprise: Enterprise, role: str, mobile: str | None = None,
                email: str | None = None, name: str = "联系人", **consent) -> Contact:
    contact = Contact(enterprise_id=enterprise.id, name=name, role=role, mobile=mobile, email=email, **consent)
    session.add(contact)
    session.flush()
    return contact


def add_patent(session: Session, enterprise: Enterprise | None, *, filed: date = date(2017, 4, 25),
               grant_year: int = 3, paid_through: int = 8, type_: str = "invention", mode: str = "custody",
               title: str = "一种测试装置") -> Patent:
    n = next(_numbers)
    patent = Patent(application_number=f"2017{n:08d}.X", type=type_, title=title, filing_date=filed,
                    grant_year=grant_year, paid_through=paid_through, enterprise_id=enterprise.id if enterprise
                    else None, mode=mode)
    session.add(patent)
    session.flush()
    return patent


def outbox(engine: Engine, **where) -> list[Reminder]:
    with Session(engine) as session:
        query = sa.select(Reminder).filter_by(**where).order_by(Reminder.id)
        return list(session.execute(query).scalars())


def items(engine: Engine, **where) -> list[ReminderItem]:
    with Session(engine) as session:
        query = sa.select(ReminderItem).filter_by(**where).order_by(ReminderItem.id)
        return list(session.execute(query).scalars())


def world(engine: Engine, build) -> dict:
    """Run `build(session)` in a committed transaction and return what it returns."""
    with session_for(engine) as session:
        return build(session)


class _Robot(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.append(json.loads(body))
        answer = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        pass


class RobotServer:
    """A WeCom group robot on loopback: records each alert's JSON."""

    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Robot)
        self.server.received = []
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> RobotServer:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/cgi-bin/webhook/send?key=test-robot-key"

    @property
    def texts(self) -> list[str]:
        return [entry["text"]["content"] for entry in self.server.received]


def channels_on(sms_transport, email_transport, robot: RobotServer) -> dict:
    """Real transports on the local servers, keyed by channel, as cli.py hands them to the ticks."""
    return {"sms": sms_transport, "email": email_transport,
            "webhook": RobotWebhook(AlertSettings(enabled=True), url=robot.url)}


def ticks_for(engine: Engine, transports: dict, settings: ReminderSettings | None = None, clock=None) -> Ticks:
    found = Ticks(engine, settings or fast_settings(), default_rules(), transports)
    if clock is not None:
        found.clock = clock
    return found


class Clock:
    """A clock a test moves by hand (for threads and subprocess tests, where freezegun is not wanted)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

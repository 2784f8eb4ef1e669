"""What every tick works with (`Ticks`): the database, the settings and rules, the channels and the clock.

Apart from the ticks themselves (scheduler.ticks) so that the work they run (scheduler.dispatch,
scheduler.receipts) can take it without importing the module that runs them: imports go one way.
"""
from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from custody import clock
from custody.reminder_settings import ReminderSettings
from custody.ruleset import RestorationRule, RuleSet
from custody.statement import StatementSettings
from scheduler.ports import Transports


@dataclass
class Ticks:
    """Everything a tick needs, built once by cli.py (`custody daemon`, `custody run-once`)."""

    engine: Engine
    settings: ReminderSettings
    rules: RuleSet
    transports: Transports
    clock: Callable[[], datetime] = clock.now
    stop: threading.Event = field(default_factory=threading.Event)  # set on SIGTERM: finish, claim no more
    dispatching: threading.Lock = field(default_factory=threading.Lock)  # one dispatch at a time in this process
    statements: StatementSettings = field(default_factory=StatementSettings)  # [statement], [platform]

    @property
    def restoration(self) -> RestorationRule:
        return self.rules.restoration

    def unready(self) -> dict[str, str]:
        """{channel: the secret this process lacks for it}: such channels are left for a process that has it."""
        return {channel: why for channel, transport in self.transports.items()
                if (why := getattr(transport, "missing_secret", None))}

    def worker(self) -> str:
        """A name for one run of a dispatcher: host, process and a random part (threads differ too)."""
        return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

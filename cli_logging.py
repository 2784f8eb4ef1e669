"""Where a command's log lines go: everything to the [general] log file, warnings also to stderr, each handler
masking phones, emails and secrets (custody.masking); `custody daemon` and `run-once` make stderr more talkative
for journald and cron mail. Times in Asia/Shanghai, like every other time the engine shows.
"""
from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from custody import clock
from custody.config_error import ConfigError

if TYPE_CHECKING:
    from custody.config import Config




class _WordedLevel(logging.Formatter):
    """`WARNING: …` on an operator's terminal in the operator's language (警告：…); the log file keeps the
    level names that tools filter on."""

    def format(self, record: logging.LogRecord) -> str:
        from custody.i18n import current_language, tr

        if current_language() == "en":
            return super().format(record)
        return f"{tr(record.levelname)}：{record.getMessage()}"


class _ShanghaiTimes(logging.Formatter):
    """Log times in Asia/Shanghai with the offset, like every other time the engine shows (not the machine's zone,
    which is UTC on most servers)."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 (logging's)
        from datetime import datetime

        return datetime.fromtimestamp(record.created, clock.SHANGHAI).isoformat(sep=" ", timespec="milliseconds")


def configure_logging(config: Config) -> None:
    """Everything to the log file, warnings also to stderr; every handler masks phones, emails and secrets."""
    from custody.masking import MaskingFilter

    root = logging.getLogger()
    log_file = config.log_file.resolve()
    if getattr(root, "_custody_log_file", None) == log_file:
        return
    try:  # before the old handlers go: a bad setting must not leave the process without a log
        file_handler = logging.FileHandler(log_file, encoding="utf-8")
    except OSError as exc:  # a missing folder, a folder named as the file, no permission: nothing would be logged
        from custody.i18n import tr
        from custody.table_errors import os_problem

        raise ConfigError(tr("{origin}: [general] log_file {log_file}: cannot write to it ({reason})",
                             origin=config.origin, log_file=log_file, reason=os_problem(exc))) from None
    for handler in list(root.handlers):
        if getattr(handler, "_custody", False):
            root.removeHandler(handler)
    file_handler.setFormatter(_ShanghaiTimes("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    stderr_handler = logging.StreamHandler(sys.stderr)
    stderr_handler.setLevel(logging.WARNING)
    stderr_handler.setFormatter(_WordedLevel("%(levelname)s: %(message)s"))
    for handler in (file_handler, stderr_handler):
        handler.addFilter(MaskingFilter())
        handler._custody = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    # httpx logs each request's URL at INFO, and a webhook's URL is its token: its warnings are enough.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    root._custody_log_file = log_file  # type: ignore[attr-defined]


def log_to_stderr(level: int = logging.INFO) -> None:
    """Log lines on stderr (journald, cron mail), personal data and secrets masked. The stderr handler of
    `configure_logging` is the one made more talkative: a second one would print every warning twice."""
    from custody.masking import MaskingFilter

    root = logging.getLogger()
    stderr = [h for h in root.handlers if getattr(h, "_custody", False) and not isinstance(h, logging.FileHandler)]
    if not stderr:
        handler = logging.StreamHandler(sys.stderr)
        handler.addFilter(MaskingFilter())
        handler._custody = True  # type: ignore[attr-defined]
        root.addHandler(handler)
        stderr = [handler]
    for handler in stderr:
        handler.setFormatter(_ShanghaiTimes("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.setLevel(level)
    root.setLevel(min(root.level or logging.WARNING, level))

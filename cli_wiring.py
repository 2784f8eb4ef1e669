"""The composition root's wiring: the configured [reminders] settings and channels, the ticks' context on the
configured database, the [statement] settings, Rule 6's restoration window, and the legal-status sources and OPS
watch (scheduler.wiring, with importers' readers handed in: scheduler/ and importers/ never import each other).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from cli_base import log, rules_of, state
from custody.config_error import ConfigError

if TYPE_CHECKING:
    from cli_base import State
    from custody.config import Config


def reminder_settings(st: State):
    from custody.reminder_settings import reminder_settings as from_section

    return from_section(st.config.section("reminders"))


def configured_reminders(st: State):
    """The [reminders] settings with the channels this configuration can send on."""
    from dataclasses import replace

    from notifiers.registry import sending_channels

    return replace(reminder_settings(st), sending_channels=sending_channels(st.config))


@contextmanager
def reminder_ticks(ctx: typer.Context, transports: bool = True):
    """The ticks' context on the configured (initialised, up-to-date) database, with the configured channels.
    Planning (also `remind plan --dry-run`) plans on the channels that can send, whether or not `transports`."""
    from custody.store.db import engine_for
    from custody.store.readiness import require_current_database
    from scheduler.context import Ticks

    st = state(ctx)
    settings, rules = configured_reminders(st), rules_of(ctx)
    url = st.config.database_url
    require_current_database(url)
    channels = {}
    if transports:
        from notifiers.registry import channel_problems, transports_from_config

        for problem in channel_problems(st.config):
            log.warning("%s", problem)
        channels = transports_from_config(st.config)
    engine = engine_for(url)
    try:
        yield Ticks(engine, settings, rules, channels, statements=statement_settings(ctx, rules))
    finally:
        engine.dispose()


def statement_settings(ctx: typer.Context, rules):
    from custody.statement import statement_settings as from_sections

    config = state(ctx).config
    return from_sections(config.section("statement"), config.section("platform"), restoration_window(ctx, rules),
                         config.language)


def restoration_window(ctx: typer.Context, rules):
    """Rule 6 ¶2's window, and the assumed delay of CNIPA's notice from [status] assumed_notice_months."""
    from custody.reports import restoration_window as window

    config = state(ctx).config
    try:
        return window(rules, config.section("status"))
    except ValueError as exc:
        raise ConfigError(f"{config.origin}: {exc}") from None


def status_wiring(config: Config):
    """The legal-status sources configured in [status], handed to the status ticks."""
    from importers.status_file import read_status_file
    from importers.status_http import http_source_from_config
    from scheduler.wiring import status_wiring as wiring

    return wiring(config.section("status"), config.origin, read_status_file, http_source_from_config)


def ops_wiring(config: Config):
    """The OPS watch from [status.ops] and the credentials in the environment (never from a file)."""
    from custody.config import secret
    from custody.ops_schedule import KEY_ENV, SECRET_ENV
    from importers.status_ops import OpsGateway, OpsStatusSource
    from scheduler.wiring import ops_wiring as wiring

    return wiring(config.section("status"), config.origin, (secret(KEY_ENV), secret(SECRET_ENV)), OpsGateway,
                  OpsStatusSource, lambda: status_wiring(config))


def status_jobs(config: Config, status_at) -> list:
    """The daemon's legal-status jobs from [status] (daily and at start; the drop folder every minute)."""
    from scheduler.ops_tick import ops_jobs
    from scheduler.status_tick import status_jobs as jobs

    return jobs(status_wiring(config), status_at) + ops_jobs(ops_wiring(config))

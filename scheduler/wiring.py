"""The legal-status sources and the OPS watch as [status] configures them, for the ticks (scheduler.status_tick,
scheduler.ops_tick) and `custody status sync`.

scheduler/ does not import importers/: the readers (a status file's, the HTTP feed's, the OPS gateway and source)
are handed in by the composition root (cli_wiring.py), which is the one place that knows both.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from custody.i18n import tr
from custody.ops_schedule import KEY_ENV, SECRET_ENV, ops_settings
from scheduler.ops_tick import OpsWiring
from scheduler.status_tick import StatusWiring, plan_status_notices


def status_wiring(section: Mapping[str, Any], origin: str, read_file: Callable, http_source: Callable) -> StatusWiring:
    """The sources of [status]: `http_source(section["http"], origin)` when a feed URL is set, the drop folder,
    and who is told what changed."""
    http = section.get("http", {})

    def feeds() -> list:
        return [http_source(http, origin)] if http.get("url") else []

    drop = section.get("drop_folder")
    return StatusWiring(feeds, read_file, Path(drop) if drop else None,
                        tuple(section.get("notify_channels", ["email"])),
                        tuple(section.get("digest_roles", ["ip_manager"])), float(section.get("settle_seconds", 5)))


def ops_wiring(section: Mapping[str, Any], origin: str, credentials: tuple[str | None, str | None],
               gateway: Callable, source: Callable, status: Callable[[], StatusWiring]) -> OpsWiring:
    """The OPS watch of [status.ops] with the (key, secret) credentials from the environment: no gateway, and
    the reason in `missing`, unless both are set. `status` builds the status wiring the notices go by."""
    settings = ops_settings(section.get("ops", {}), origin)
    key, secret_value = credentials
    missing = None if key and secret_value else tr("{key} and {secret} are not both set in the environment",
                                                   key=KEY_ENV, secret=SECRET_ENV)
    opened = (lambda: gateway(key, secret_value, settings.base_url, settings.timeout_seconds)) if not missing \
        else None
    return OpsWiring(settings, opened, source, missing,
                     lambda engine, rules, now, alerts: plan_status_notices(engine, status(), rules, now, alerts))

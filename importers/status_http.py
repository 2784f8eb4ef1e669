"""A generic HTTP JSON legal-status feed: URL, auth header and field mapping come from config [status.http].

The whole body is read and every record checked before anything is returned, so an HTTP error, a body that is
not JSON, or one bad record fails the fetch with a clear message and nothing is applied (all or nothing).
The auth header's value is a secret: it comes from an environment variable and never appears in a message.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from custody.appno import InvalidApplicationNumber, parse_application_number
from custody.config import ConfigError, secret
from custody.dates import DateParseError, parse_date
from custody.status_vocab import SourceProblem, StatusBatch, StatusRecord, StatusSourceError

DEFAULT_FIELDS = {"application_number": "application_number", "announced_on": "announced_on", "status": "status",
                  "detail": "detail"}
REQUIRED = ("application_number", "announced_on", "status")
MAX_SHOWN_PROBLEMS = 5


@dataclass(frozen=True)
class HttpStatusSource:
    url: str
    records_path: str = "records"  # dotted path to the list in the body; "" means the body is the list
    fields: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_FIELDS))
    auth_header: str | None = None
    auth_value: str | None = field(default=None, repr=False)
    timeout_seconds: float = 30.0

    @property
    def name(self) -> str:
        return f"http:{self.url}"

    def fetch(self) -> StatusBatch:
        items = _records_in(_body(self), self.records_path, self.url)
        records, problems = [], []
        for index, item in enumerate(items):
            record, found = _record(item, self.fields, f"{self.url}#{index}")
            records.extend([record] if record else [])
            problems.extend(found)
        if problems:
            shown = "; ".join(str(p) for p in problems[:MAX_SHOWN_PROBLEMS])
            more = f" (and {len(problems) - MAX_SHOWN_PROBLEMS} more)" if len(problems) > MAX_SHOWN_PROBLEMS else ""
            raise StatusSourceError(f"{self.url}: {len(problems)} malformed record(s), nothing applied: {shown}{more}")
        return StatusBatch(self.name, tuple(records))


def _body(source: HttpStatusSource) -> Any:
    headers = {"Accept": "application/json"}
    if source.auth_header and source.auth_value:
        headers[source.auth_header] = source.auth_value
    try:
        response = httpx.get(source.url, headers=headers, timeout=source.timeout_seconds, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise StatusSourceError(f"{source.url}: cannot reach the status feed ({type(exc).__name__}: {exc})") from None
    if response.status_code != 200:
        raise StatusSourceError(f"{source.url}: HTTP {response.status_code} from the status feed, nothing applied: "
                                f"{_snippet(response.text)}")
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise StatusSourceError(f"{source.url}: the body is not JSON ({exc}), nothing applied: "
                                f"{_snippet(response.text)}") from None


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text[:200] + ("…" if len(text) > 200 else "") if text else "(empty body)"


def _records_in(body: Any, path: str, url: str) -> list[Any]:
    node = body
    for part in [p for p in path.split(".") if p]:
        if not isinstance(node, Mapping) or part not in node:
            raise StatusSourceError(f"{url}: the body has no {path!r} (records_path), nothing applied")
        node = node[part]
    if not isinstance(node, list):
        raise StatusSourceError(f"{url}: expected a list of records at {path or 'the top level'!r}, "
                                f"got {type(node).__name__}, nothing applied")
    return node


def _record(item: Any, fields: Mapping[str, str], where: str) -> tuple[StatusRecord | None, list[SourceProblem]]:
    if not isinstance(item, Mapping):
        return None, [SourceProblem(where, f"expected an object, got {type(item).__name__}")]
    values = {f: _value(item, path) for f, path in fields.items()}
    problems = [SourceProblem(f"{where}:{fields[f]}", "missing") for f in REQUIRED if values.get(f) in (None, "")]
    if problems:
        return None, problems
    try:
        number = str(parse_application_number(str(values["application_number"])))
    except InvalidApplicationNumber as exc:
        problems.append(SourceProblem(f"{where}:{fields['application_number']}", str(exc)))
    try:
        announced = parse_date(values["announced_on"])
    except DateParseError as exc:
        problems.append(SourceProblem(f"{where}:{fields['announced_on']}", str(exc)))
    if problems:
        return None, problems
    detail = str(values.get("detail") or "").strip()
    return StatusRecord(number, announced, str(values["status"]).strip(), detail, where), []


def _value(item: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path ("patent.appNo"), or None."""
    node: Any = item
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def http_source_from_config(section: Mapping[str, Any], origin: str = "config") -> HttpStatusSource:
    """The feed described by [status.http]: url, records_path, auth_header, auth_env, timeout_seconds, [fields]."""
    url = section.get("url")
    if not url:
        raise ConfigError(f"{origin}: [status.http] url is not set: no HTTP status source configured")
    fields = {**DEFAULT_FIELDS, **dict(section.get("fields", {}))}
    auth_header, auth_env = section.get("auth_header"), section.get("auth_env")
    value = secret(auth_env) if auth_env else None
    if auth_header and auth_env and value is None:
        raise ConfigError(f"{origin}: [status.http] auth_env names {auth_env}, which is not set in the environment")
    return HttpStatusSource(url, section.get("records_path", "records"), fields, auth_header, value,
                            float(section.get("timeout_seconds", 30)))

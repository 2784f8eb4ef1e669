"""A generic HTTP JSON legal-status feed: URL, auth header, field mapping and bounds come from config [status.http].

The whole body is read and every record checked before anything is returned, so an HTTP error, a body that is
not JSON, or one bad record fails the fetch with a clear message and nothing is applied (all or nothing).
Every fetch is bounded (importers.bounded_http): an overall deadline however slowly the answer trickles in, a
body size counted as it streams, redirects only to the feed's own origin unless configured otherwise, and
limits on JSON nesting and the number of records. Each breach is a StatusSourceError like any other failure.
The auth header's value is a secret: it comes from an environment variable and never appears in a message
(custody.masking.redacted removes it, and any echo of it, from every error text).
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from custody.appno import InvalidApplicationNumber, parse_application_number
from custody.config import ConfigError, secret
from custody.dates import DateParseError, parse_date
from custody.explained import tx
from custody.i18n import current_language, tr
from custody.masking import redacted
from custody.status_vocab import SourceProblem, StatusBatch, StatusRecord, StatusSourceError
from importers.bounded_http import FeedLimits, FetchRefused, fetch, json_depth
from importers.messages import render_message
from importers.values import CellProblem, one_line

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
    limits: FeedLimits = FeedLimits()

    @property
    def name(self) -> str:
        return f"http:{self.shown_url}"

    @property
    def shown_url(self) -> str:
        """The URL as messages show it: without userinfo or a token in it."""
        return redacted(self.url, [self.auth_value or ""])

    def fetch(self) -> StatusBatch:
        items = _records_in(_body(self), self.records_path, self.shown_url, self.limits.max_records)
        records, problems = [], []
        for index, item in enumerate(items):
            record, found = _record(item, self.fields, f"{self.shown_url}#{index}")
            records.extend([record] if record else [])
            problems.extend(found)
        if problems:
            shown = "; ".join(str(p) for p in problems[:MAX_SHOWN_PROBLEMS])
            more = tr(" (and {n} more)", n=len(problems) - MAX_SHOWN_PROBLEMS) if len(problems) > MAX_SHOWN_PROBLEMS \
                else ""
            raise self.failure(tr("{count} malformed record(s), nothing applied: {shown}{more}", count=len(problems),
                                  shown=shown, more=more))
        return StatusBatch(self.name, tuple(records))

    def failure(self, message: str) -> StatusSourceError:
        """The feed's failure, with every secret and echo of one taken out."""
        return StatusSourceError(redacted(f"{self.shown_url}: {message}", [self.auth_value or ""]))


def _body(source: HttpStatusSource) -> Any:
    headers = {"Accept": "application/json"}
    if source.auth_header and source.auth_value:
        headers[source.auth_header] = source.auth_value
    try:
        status, body = fetch(source.url, headers, source.timeout_seconds, source.limits)
    except FetchRefused as exc:
        raise source.failure(tr("{why}, nothing applied", why=exc)) from None
    if status != 200:
        raise source.failure(tr("HTTP {status} from the status feed, nothing applied: {body}", status=status,
                                body=_snippet(body)))
    depth = json_depth(body)
    if depth > source.limits.max_depth:
        raise source.failure(tr("the body nests {depth} levels deep, more than max_depth = {limit} ([status.http]), "
                                "nothing applied", depth=depth, limit=source.limits.max_depth))
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise source.failure(tr("the body is not JSON ({why}), nothing applied: {body}", why=exc,
                                body=_snippet(body))) from None


def _snippet(body: bytes) -> str:
    text = " ".join(body[:4000].decode("utf-8", "replace").split())
    return text[:200] + ("…" if len(text) > 200 else "") if text else "(empty body)"


def _records_in(body: Any, path: str, url: str, max_records: int) -> list[Any]:
    node = body
    for part in [p for p in path.split(".") if p]:
        if not isinstance(node, Mapping) or part not in node:
            raise StatusSourceError(tr("{url}: the body has no {path!r} (records_path), nothing applied", url=url,
                                       path=path))
        node = node[part]
    if not isinstance(node, list):
        raise StatusSourceError(tr("{url}: expected a list of records at {path!r}, got {kind}, nothing applied",
                                   url=url, path=path or "the top level", kind=type(node).__name__))
    if len(node) > max_records:
        raise StatusSourceError(tr("{url}: {count} records, more than max_records = {limit} ([status.http]), nothing "
                                   "applied", url=url, count=len(node), limit=max_records))
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
    texts = {}
    for key in ("status", "detail"):
        try:  # line breaks folded to one space; another control character is a problem
            texts[key] = one_line(str(values.get(key) or "").strip())
        except CellProblem as exc:
            problems.append(SourceProblem(f"{where}:{fields[key]}",
                                          render_message(exc.code, exc.params, current_language())))
    if problems:
        return None, problems
    return StatusRecord(number, announced, texts["status"], texts["detail"], where), []


def _value(item: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path ("patent.appNo"), or None."""
    node: Any = item
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def http_source_from_config(section: Mapping[str, Any], origin: str = "config") -> HttpStatusSource:
    """The feed described by [status.http]: url, records_path, auth_header, auth_env, the timeouts and bounds,
    [fields]."""
    url = section.get("url")
    if not url:
        raise ConfigError(tx("{where}: [status.http] url is not set: no HTTP status source configured", where=origin))
    fields = {**DEFAULT_FIELDS, **dict(section.get("fields", {}))}
    auth_header, auth_env = section.get("auth_header"), section.get("auth_env")
    value = secret(auth_env) if auth_env else None
    if auth_header and auth_env and value is None:
        raise ConfigError(tx("{where}: [status.http] auth_env names {name}, which is not set in the environment",
                             where=origin, name=auth_env))
    return HttpStatusSource(url, section.get("records_path", "records"), fields, auth_header, value,
                            float(section.get("timeout_seconds", 30)), FeedLimits.from_section(section))

"""What OPS (the EPO's Open Patent Services) answers, read into the engine's terms. Pure: bytes in, values out.

- `docdb_guess`: the DOCDB application number OPS expects for a CN application number of the 12-digit form
  (CN + the 12 digits without the check character + kind A, U or S by the type digit); the 8-digit form and any
  number OPS does not know that way go through OPS's number service (`docdb_from_number_service`).
- `legal_records`: the legal events of one Chinese application in a legal-service answer. The answer is an INPADOC
  family (`ops:patent-family`), each `ops:family-member` with its `ops:legal` events; only the member whose
  application is ours counts (a family also holds other countries' members, and often a second CN member: the
  utility model filed beside an invention, or a divisional). Each event becomes a `StatusRecord` whose status is
  the CNIPA heading its code stands for (custody/rules/ops_legal_codes.toml), dated by its gazette date (L007EP,
  the 法律状态公告日 of an export file). An unknown code keeps "CODE DESCRIPTION" as its status.
- `throttle_of`: the `X-Throttling-Control` header: the system state (idle, busy, overloaded) and each service's
  traffic light (green, yellow, red, black) with its allowance in requests per minute.

A body that is not the documented XML raises `OpsFormatError`: nothing of it is applied.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from custody.appno import ApplicationNumber
from custody.i18n import tr
from custody.ops_codes import UNKNOWN_ORDER, OpsCode, code_entry, normalised_code
from custody.status_vocab import StatusRecord

NS = {"ops": "http://ops.epo.org", "ex": "http://www.epo.org/exchange"}
MAX_BODY_BYTES = 4 * 1024 * 1024  # a CN family's legal answer is a few kB to some hundred kB
KIND_BY_TYPE_DIGIT = {"1": "A", "8": "A", "2": "U", "9": "U", "3": "S"}
SYSTEM_STATES = ("idle", "busy", "overloaded")
LIGHTS = ("green", "yellow", "red", "black")
WATCHED_SERVICES = ("inpadoc", "other")  # the throttling middleware's names for the legal and number services
_THROTTLE = re.compile(r"^\s*(?P<system>[a-z-]+)\s*(?:\((?P<services>[^)]*)\))?", re.IGNORECASE)
_SERVICE = re.compile(r"(?P<name>[a-z-]+)\s*=\s*(?P<light>[a-z]+)\s*:\s*(?P<limit>\d+)", re.IGNORECASE)


class OpsError(RuntimeError):
    """OPS could not give a usable answer for one request; `code` names the case for the record. `size` and
    `requests` say what the failed exchange still cost (an error body counts against the quota too)."""

    code = "ops_error"
    size = 0
    requests = 0
    throttle: Throttle | None = None


class OpsFormatError(OpsError):
    code = "malformed_response"


class OpsNotFound(OpsError):
    code = "not_found"


class OpsNoMember(OpsError):
    code = "no_cn_member"


class OpsQuotaExceeded(OpsError):
    """403 with X-Rejection-Reason: the hourly or the weekly quota; `scope` is "hour" or "week"."""

    code = "quota_exceeded"

    def __init__(self, message: str, scope: str) -> None:
        super().__init__(message)
        self.scope = scope


class OpsRefused(OpsError):
    """403 for another reason (robot detection, black-listed): back off."""

    code = "refused"


class OpsAuthError(OpsError):
    """No access token could be had (wrong key or secret, or the token endpoint refuses)."""

    code = "auth_failed"


class OpsUnavailable(OpsError):
    """Network error, timeout or a server error: try again later."""

    code = "unavailable"


@dataclass(frozen=True)
class DocdbNumber:
    country: str
    number: str
    kind: str

    @property
    def key(self) -> str:
        return f"{self.country}.{self.number}.{self.kind}"

    @classmethod
    def from_key(cls, key: str) -> DocdbNumber:
        country, number, kind = key.split(".")
        return cls(country, number, kind)


@dataclass(frozen=True)
class Throttle:
    """One X-Throttling-Control header; `system` is "" when the header is absent or unreadable."""

    system: str = ""
    services: dict[str, tuple[str, int]] = field(default_factory=dict)

    def light(self, service: str) -> str:
        return self.services.get(service, ("", 0))[0]

    @property
    def is_black_listed(self) -> bool:
        """A black light on a service the watch uses: inpadoc (legal) or other (number service, token)."""
        return any(self.light(service) == "black" for service in WATCHED_SERVICES)


@dataclass(frozen=True)
class OpsReply:
    """One OPS answer: its body, the bytes it cost (with any token fetch it needed) and the throttling state."""

    body: bytes
    size: int
    requests: int
    throttle: Throttle
    reported_week: int | None = None  # X-RegisteredQuotaPerWeek-Used, when OPS sends it


class OpsPort(Protocol):
    """What the watch needs from OPS (importers/status_ops.py implements it over python-epo-ops-client)."""

    def number_service(self, number: ApplicationNumber) -> OpsReply: ...

    def legal(self, docdb: DocdbNumber) -> OpsReply: ...


def docdb_guess(number: ApplicationNumber) -> DocdbNumber | None:
    """The DOCDB form of a 12-digit CN application number; None for the old 8-digit form (number service)."""
    if number.is_old_form:
        return None
    return DocdbNumber("CN", number.digits, KIND_BY_TYPE_DIGIT[number.type_digit])


def throttle_of(header: str | None) -> Throttle:
    found = _THROTTLE.match(header or "")
    if not found:
        return Throttle()
    services = {m["name"].lower(): (m["light"].lower(), int(m["limit"]))
                for m in _SERVICE.finditer(found["services"] or "")}
    return Throttle(found["system"].lower(), services)


def _root(body: bytes, what: str) -> ET.Element:
    if len(body) > MAX_BODY_BYTES:
        raise OpsFormatError(tr("{what}: the answer is {size} bytes, more than {limit}: refused", what=what,
                                size=len(body), limit=MAX_BODY_BYTES))
    if b"<!DOCTYPE" in body[:2048].upper() or b"<!ENTITY" in body.upper():
        raise OpsFormatError(tr("{what}: the answer declares a DTD or entities, which OPS never sends: refused",
                                what=what))
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise OpsFormatError(tr("{what}: the answer is not well-formed XML (line {line}, column {column})", what=what,
                                line=exc.position[0], column=exc.position[1])) from None
    if root.tag != f"{{{NS['ops']}}}world-patent-data":
        raise OpsFormatError(tr("{what}: expected ops:world-patent-data, got {tag}", what=what, tag=root.tag))
    return root


def _docdb_of(reference: ET.Element | None) -> DocdbNumber | None:
    if reference is None:
        return None
    for doc in reference.findall("ex:document-id", NS):
        if doc.get("document-id-type") == "docdb":
            country, number, kind = (doc.findtext(f"ex:{t}", "", NS).strip() for t in ("country", "doc-number", "kind"))
            if country and number:
                return DocdbNumber(country, number, kind)
    return None


def docdb_from_number_service(body: bytes, what: str) -> DocdbNumber:
    """The DOCDB application number in a number-service answer (ops:standardization/ops:output)."""
    root = _root(body, what)
    output = root.find("ops:standardization/ops:output/ops:application-reference", NS)
    found = _docdb_of(output)
    if found is None or not found.kind:
        raise OpsFormatError(tr("{what}: the number service gave no DOCDB application number", what=what))
    return found


def _is_same_application(their_number: str, digits: str) -> bool:
    """DOCDB writes CN application numbers with or without the check character (CN201010596747XA)."""
    theirs = re.sub(r"[^0-9X]", "", their_number.upper())
    return theirs == digits or (len(theirs) == len(digits) + 1 and theirs.startswith(digits))


def _our_members(root: ET.Element, digits: str) -> list[ET.Element]:
    members = root.findall("ops:patent-family/ops:family-member", NS)
    ours = []
    for member in members:
        application = _docdb_of(member.find("ex:application-reference", NS))
        if application and application.country == "CN" and _is_same_application(application.number, digits):
            ours.append(member)
    return ours


def legal_records(body: bytes, number: ApplicationNumber, docdb: DocdbNumber) -> tuple[StatusRecord, ...]:
    """Every legal event of our CN application in a legal-service answer, by day and same-day order."""
    what = tr("OPS legal events of {key}", key=docdb.key)
    root = _root(body, what)
    if root.find("ops:patent-family", NS) is None:
        raise OpsFormatError(tr("{what}: the answer has no ops:patent-family", what=what))
    members = _our_members(root, number.digits)
    if not members:
        raise OpsNoMember(tr("{what}: the answer has no family member for CN application {number}", what=what,
                             number=number))
    events = [_event(legal, number, docdb, index) for member in members
              for index, legal in enumerate(member.findall("ops:legal", NS), start=1)]
    ordered = sorted((e for e in events if e is not None), key=lambda e: (e[0].announced_on, e[1], e[0].status))
    return tuple(record for record, _ in ordered)


def _text(legal: ET.Element, tag: str) -> str:
    node = legal.find(f".//ops:{tag}", NS)
    return " ".join((node.text or "").split()) if node is not None else ""


def _event_date(text: str, where: str) -> date:
    for pattern in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise OpsFormatError(tr("{where}: gazette date (L007EP) {text!r} is not a date", where=where, text=text))


def _event(legal: ET.Element, number: ApplicationNumber, docdb: DocdbNumber,
           index: int) -> tuple[StatusRecord, int] | None:
    where = f"ops:{docdb.key}#{index}"
    country = _text(legal, "L001EP")
    if country and country != "CN":
        return None  # an event another office reported on this member (rare, but not ours to apply)
    raw_code = _text(legal, "L008EP") or legal.get("code", "")
    if not normalised_code(raw_code):
        raise OpsFormatError(tr("{where}: a legal event without a code", where=where))
    announced = _event_date(_text(legal, "L007EP"), where)
    entry = code_entry(raw_code)
    status = entry.wording_zh if entry else f"{normalised_code(raw_code)} {legal.get('desc', '').strip()}".strip()
    record = StatusRecord(str(number), announced, status, _detail(legal, raw_code, entry), where)
    return record, entry.order if entry else UNKNOWN_ORDER


def _detail(legal: ET.Element, raw_code: str, entry: OpsCode | None) -> str:
    """The event's own text for the vocabulary's fields, then what OPS called it (kept for the record)."""
    parts = [entry.detail_zh if entry else "", _text(legal, "L510EP")]
    new_owner = _text(legal, "L509EP")
    if new_owner:
        # L509EP is the new owner's name: written as an export's detail writes it, so the vocabulary reads it
        parts.append(f"变更后权利人: {new_owner}")
    description = entry.description if entry else legal.get("desc", "").strip()
    parts.append(f"[OPS {normalised_code(raw_code)}: {description}]")
    return " ".join(p for p in parts if p)

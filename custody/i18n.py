"""One catalogue for every word a person reads: operators at the terminal, enterprises in their statements.

Messages are written in English in the code (the msgid) and looked up in the catalogue for the configured
language; the catalogue is data (custody/locale/<language>/*.toml, one file per area, `"msgid" = "text"`),
so a translator edits text, not code. Enumerated values (patent type, state, mode, role, reduction, flags)
are never printed raw: `label(domain, value)` reads custody/locale/labels.toml. Python's None/True/False
never reach output: `label` renders them as the field's own words (无/是/否).

The language is process-wide (`set_language`), set once by the CLI from `[general] language`; the core's
pure functions take no language argument for text they do not print. Tests run the core in English (the msgids:
tests/conftest.py); a CLI test speaks its configuration's language, Chinese by default.

Words that are data elsewhere are not repeated here: a contact role's words are the role table's
(custody/rules/contact_roles.toml) and a legal-status event kind's the vocabulary's (custody/rules/
legal_status.toml); `label` reads them. `cell_label` labels a table cell: several values ("a; b"), a history
row's "reminder: sent", or a bilingual text ("中文 English", the KPI labels) shown in its language's half.
Reports label a column at a time (custody.report_output: once per distinct value), so a million rows stream.
"""
from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

# The catalogue and the process language live in custody.catalogue (below the data tables, whose words `label`
# reads); re-exported here, where every caller takes them from.
from custody.catalogue import (  # noqa: E402, F401
    DEFAULT_LANGUAGE,
    LANGUAGES,
    catalogue,
    current_language,
    set_language,
    tr,
)

_LOCALE = Path(__file__).with_name("locale")


@cache
def labels() -> dict[str, dict[str, dict[str, str]]]:
    """domain → value → language → word."""
    path = _LOCALE / "labels.toml"
    return tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


_LITERALS = {None: ("none", "无"), True: ("yes", "是"), False: ("no", "否")}


def label(domain: str, value: Any, language: str | None = None) -> str:
    """The word for an enumerated value (`label("type", "invention")` → 发明); None/True/False as words.

    An unknown value is shown as it is stored: the catalogue test lists every domain's values, so a value
    missing from labels.toml fails that test rather than reaching an operator."""
    language = language or current_language()
    if value is None or isinstance(value, bool):
        en, zh = _LITERALS[value]
        return zh if language == "zh" else en
    words = labels().get(domain, {}).get(str(value))
    if not words:
        return _event_label(domain, str(value), language)
    return words.get(language) or words.get("en") or str(value)


# Domains whose values may also be a legal-status event kind (a state ended by an event, an event in a history):
# their words are the vocabulary's (custody/rules/legal_status.toml), not repeated here.
_EVENT_DOMAINS = ("state", "event", "effect")


# A reduction waiting to be re-filed by a new owner, as stored in a report's cell (custody.display
# reduction_refile_text): "to re-file since 2026-12-07: full fee".
_REFILE = re.compile(r"^to re-file since (?P<day>\d{4}-\d{2}-\d{2}): full fee$")


def _event_label(domain: str, value: str, language: str) -> str:
    if domain == "reduction" and (refile := _REFILE.match(value)):
        return tr("to re-file since {day}: full fee", language, day=refile.group("day"))
    if domain == "role":  # the role table is where roles and their words are data (one place)
        from custody.contact_roles import role_table

        return role_table().label(value, language)
    if domain == "tier":  # a reminder's tier event label ("before_due:due-60"): when it fires, in words
        from custody.tier_words import tier_message

        said = tier_message(value)
        return "".join(tr(msgid, language, **fields) for msgid, fields in said) if said else value
    if domain not in _EVENT_DOMAINS:
        return value
    from custody.status_vocab import default_vocabulary

    vocabulary = default_vocabulary()
    return vocabulary.label_of(value, language) if value in vocabulary.kinds else value


# Cells that hold several values of a domain ("paid-through inferred; unknown — check") or a domain and a value
# ("reminder: sent", as `patent history` lists them).
_LIST_SEPARATORS = {"zh": "；", "en": "; "}
_PAIR_DOMAINS = {"reminder": "reminder_state", "effect": "effect", "decision": "decision", "event": "event"}
_PAIR_WORDS = {"reminder": ("reminder", "提醒"), "effect": ("effect", "影响"), "decision": ("decision", "企业决定"),
               "event": ("event", "法律事件")}


_BILINGUAL = re.compile(r"^(?P<zh>.*[^\x00-\x7f].*?)\s+(?P<en>[A-Z][\x00-\x7f]*)$")


def _half(text: str, language: str) -> str:
    found = _BILINGUAL.match(text)
    return found.group(language if language in ("zh", "en") else "en") if found else text


# The kinds of source a record is stored with ("import:x.csv", "cli:张三", "status:file:x.csv", "http:…", "ops:…"):
# shown in Chinese as the kind's word and what follows it; in English as stored.
_SOURCE_WORDS = {"cli": "命令行", "import": "导入", "status": "法律状态", "file": "文件", "http": "数据源",
                 "ops": "OPS", "drop": "投放文件夹"}


def source_label(text: str, language: str | None = None) -> str:
    """A stored source as a person reads it: "file:x.csv" → 文件 x.csv (unchanged in English or when unknown)."""
    kind, colon, rest = text.partition(":")
    if (language or current_language()) != "zh" or kind not in _SOURCE_WORDS:
        return text
    if not colon:
        return _SOURCE_WORDS[kind]
    return f"{_SOURCE_WORDS[kind]} {source_label(rest, language) if kind == 'status' else rest}"


def cell_label(domain: str, text: str | None, language: str | None = None) -> str:
    """A table cell of `domain` in the language: its values separated by "; " each labelled; for the domain
    "history", "kind: value" as the kind's word and the value's label. Empty stays empty."""
    language = language or current_language()
    if not text:
        return "" if text is None or text == "" else label(domain, text, language)
    if domain == "bilingual":  # "中文说明 English words" (the KPI labels): the language's half
        return _half(text, language)
    if domain == "source":  # where a record came from, stored as "kind:detail" ("cli:张三", "file:x.csv")
        return source_label(text, language)
    if domain == "history" and ": " in text:
        kind, value = text.split(": ", 1)
        if kind in _PAIR_DOMAINS:
            en, zh = _PAIR_WORDS[kind]
            return f"{zh if language == 'zh' else en}{'：' if language == 'zh' else ': '}" \
                   f"{label(_PAIR_DOMAINS[kind], value, language)}"
        return text
    return _LIST_SEPARATORS.get(language, "; ").join(label(domain, part, language) for part in text.split("; "))

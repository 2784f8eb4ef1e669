"""Configuration: config.toml (documented defaults) overridden by a chosen file and by the environment.

Which file: `--config PATH`, else `CUSTODY_CONFIG`, else `./config.toml` when present, else built-in defaults.
`CUSTODY_DATABASE_URL` overrides [database].url. Secrets are never read from a file: only `secret()` from the
environment, so a printed configuration can never contain one.

The file is checked whole when it is loaded, against custody.config_schema: a wrong type, an unknown key or a
value out of range is one `ConfigError` line, `FILE: [section] key: expected …, got …`, before anything runs.
The rest of the code reads each section as the plain dict it always did, now with every default filled in.
"""
from __future__ import annotations

import copy
import json
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from custody.config_error import ConfigError  # raised here; callers take it from custody.config
from custody.explained import Text, joined, tx
from custody.i18n import tr
from custody.masking import register_secret
from custody.ruleset import RuleError, RuleSettings
from custody.table_errors import toml_problem

DEFAULT_LOG_FILE = "custody.log"
TIMEZONE = "Asia/Shanghai"
MAX_SHOWN_ERRORS = 3


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    @cached_property
    def _sections(self) -> dict[str, dict[str, Any]]:
        if not self.data:  # nothing to check: the schema's defaults, kept without loading pydantic (issue 9)
            from custody.config_defaults import DEFAULT_SECTIONS

            return copy.deepcopy(DEFAULT_SECTIONS)
        return validated_sections(self.data, self.origin)

    def section(self, name: str) -> Mapping[str, Any]:
        """A section as a dict, every key present (the file's value or the default)."""
        return self._sections.get(name, {})

    @property
    def origin(self) -> str:
        return str(self.path) if self.path else tr("built-in defaults")

    @property
    def database_url(self) -> str:
        return os.environ.get("CUSTODY_DATABASE_URL") or self.section("database")["url"]

    @property
    def language(self) -> str:
        return self.section("general")["language"]

    @property
    def log_file(self) -> Path:
        """[general] log_file, where unexpected errors are logged; relative to the working directory."""
        return Path(self.section("general").get("log_file", DEFAULT_LOG_FILE)).expanduser().absolute()

    @property
    def rule_settings(self) -> RuleSettings:
        try:
            return RuleSettings(**self.section("rules"))
        except RuleError as exc:
            raise ConfigError(tx("{where}: {problem}", where=self.origin, problem=exc)) from None


def config_path(explicit: str | os.PathLike | None = None) -> Path | None:
    """The file to read, by precedence; None means built-in defaults."""
    chosen = explicit or os.environ.get("CUSTODY_CONFIG")
    if chosen:
        return Path(chosen)
    local = Path("config.toml")
    return local if local.is_file() else None


def load_config(explicit: str | os.PathLike | None = None) -> Config:
    path = config_path(explicit)
    if path is None:
        return Config()
    config = Config(path, _toml(path))
    _ = config._sections  # the whole file checked now: a bad value is a configuration error, not a wrong fee later
    return config


def _toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(tx("configuration file {path} does not exist", path=path)) from None
    except OSError as exc:  # a folder, no permission
        raise ConfigError(tx("{path}: cannot read the configuration file ({reason})", path=path,
                             reason=exc.strerror)) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(tx("{path}: not a configuration file: not UTF-8 text (byte {byte})", path=path,
                             byte=exc.start)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(tx("{path}: not valid TOML: {error}", path=path, error=toml_problem(exc))) from None


def validated_sections(data: Mapping[str, Any], origin: str) -> dict[str, dict[str, Any]]:
    """Every section checked and completed with its defaults; ConfigError naming the first problems."""
    from pydantic import ValidationError

    from custody.config_schema import sections
    from custody.reminder_settings import reminder_settings

    try:
        found = sections(dict(data))
    except ValidationError as exc:
        problems = [_problem(error, data) for error in exc.errors()]
        more = tx(" (and {n} more)", n=len(problems) - MAX_SHOWN_ERRORS) if len(problems) > MAX_SHOWN_ERRORS else None
        raise ConfigError(tx("{where}: {problem}", where=origin,
                             problem=joined(problems[:MAX_SHOWN_ERRORS], more=more))) from None
    try:  # how the keys of a tier go together: custody.reminder_settings says
        reminder_settings(found["reminders"])
    except ConfigError as exc:
        raise ConfigError(tx("{where}: {problem}", where=origin, problem=exc)) from None
    return found


def _problem(error: Mapping[str, Any], data: Mapping[str, Any]) -> Text:
    """One pydantic error as `[section] key: expected …, got …`."""
    loc = list(error["loc"])
    context = error.get("ctx") or {}
    blamed = context.get("error")
    if isinstance(blamed, Exception) and hasattr(blamed, "key"):
        loc.append(blamed.key)
    where = _where(loc, data)
    if error["type"] == "extra_forbidden":
        if len(loc) == 1 and not isinstance(error.get("input"), Mapping):
            return tx("{where}: unknown key outside any [section]", where=where)
        return tx("{where}: unknown section", where=where) if len(loc) == 1 else tx("{where}: unknown key", where=where)
    expected = _expected(error["type"], context, blamed)
    value = error.get("input")
    if error["type"] == "missing" or isinstance(value, Mapping):
        return tx("{where}: {expected}", where=where, expected=expected)
    return tx("{where}: {expected}, got {value}", where=where, expected=expected, value=_shown(value))


def _where(loc: Sequence[Any], data: Mapping[str, Any]) -> str:
    """`[reminders.retry] base_seconds`, `[reminders] tiers[0].anchor`, `[smss]`: the TOML table, then the key."""
    table: list[str] = []
    node: Any = data
    for part in loc[:-1]:
        child = node.get(part) if isinstance(node, Mapping) else None
        if not isinstance(child, Mapping):
            break
        table.append(str(part))
        node = child
    rest = loc[len(table):]
    key = "".join(f"[{p}]" if isinstance(p, int) else ("." if i else "") + str(p) for i, p in enumerate(rest))
    if table:
        return f"[{'.'.join(table)}] {key}"
    return f"[{key}]" if len(rest) == 1 and isinstance(data.get(rest[0]), Mapping) else key


_EXPECTED = {
    "bool_type": "expected true or false",
    "int_type": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "string_type": "expected a text in quotes",
    "list_type": "expected a list in brackets",
    "tuple_type": "expected a list",
    "dict_type": "expected a table",
    "model_type": "expected a table",
    "model_attributes_type": "expected a table",
    "missing": "required",
}


def _expected(kind: str, context: Mapping[str, Any], blamed: object) -> Any:
    if kind in _EXPECTED:
        return tx(_EXPECTED[kind])
    if kind == "literal_error":
        return tx("expected one of {allowed}", allowed=str(context["expected"]).replace("'", '"'))
    bounds = {"greater_than_equal": ("at least", "ge"), "less_than_equal": ("at most", "le"),
              "greater_than": ("more than", "gt"), "less_than": ("less than", "lt")}
    if kind in bounds:
        words, name = bounds[kind]
        return tx(f"expected a value {words} {{bound}}", bound=context[name])
    if kind in ("too_short", "string_too_short"):
        return tx("expected at least {n} item(s)", n=context.get("min_length", 1)) if kind == "too_short" else \
            tx("expected a non-empty text")
    if kind == "too_long":
        return tx("expected at most {n} item(s)", n=context.get("max_length"))
    return blamed if blamed is not None else kind.replace("_", " ")


def _shown(value: Any) -> str:
    """A value as it would be written in TOML, cut short."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "…"


def secret(name: str) -> str | None:
    """A secret from the environment only (keys, passwords); empty counts as missing. Whatever the variable is
    called, its value is then redacted from every error text and log line (custody.masking)."""
    value = os.environ.get(name) or None
    register_secret(value)
    return value

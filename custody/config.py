"""Configuration: config.toml (documented defaults) overridden by a chosen file and by the environment.

Which file: `--config PATH`, else `CUSTODY_CONFIG`, else `./config.toml` when present, else built-in defaults.
`CUSTODY_DATABASE_URL` overrides [database].url. Secrets are never read from a file: only `secret()` from the
environment, so a printed configuration can never contain one.
"""
from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from custody.ruleset import RuleError, RuleSettings

DEFAULT_DATABASE_URL = "sqlite:///custody.sqlite3"
DEFAULT_LOG_FILE = "custody.log"
TIMEZONE = "Asia/Shanghai"


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the file and key."""


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    def section(self, name: str) -> Mapping[str, Any]:
        value = self.data.get(name, {})
        if not isinstance(value, Mapping):
            raise ConfigError(f"{self.origin}: [{name}] must be a table")
        return value

    @property
    def origin(self) -> str:
        return str(self.path) if self.path else "built-in defaults"

    @property
    def database_url(self) -> str:
        return os.environ.get("CUSTODY_DATABASE_URL") or self.section("database").get("url", DEFAULT_DATABASE_URL)

    @property
    def language(self) -> str:
        return self.section("general").get("language", "zh")

    @property
    def log_file(self) -> Path:
        """[general] log_file, where unexpected errors are logged; relative to the working directory."""
        value = self.section("general").get("log_file", DEFAULT_LOG_FILE)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{self.origin}: [general] log_file must be a file path, got {value!r}")
        return Path(value).expanduser().absolute()

    @property
    def rule_settings(self) -> RuleSettings:
        try:
            return RuleSettings(**self.section("rules"))
        except TypeError as exc:
            raise ConfigError(f"{self.origin}: [rules]: {exc}") from None
        except RuleError as exc:
            raise ConfigError(f"{self.origin}: {exc}") from None


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
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"configuration file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    config = Config(path, data)
    _ = config.rule_settings  # validate early: a bad setting is a configuration error, not a wrong fee later
    return config


def secret(name: str) -> str | None:
    """A secret from the environment only (keys, passwords); empty counts as missing."""
    return os.environ.get(name) or None

"""Typed configuration: config.toml documents exactly the models' defaults, and every wrong type, unknown key or
value out of range is one `Error:` line naming the file, the [section] and the key, exit 2, before anything runs."""
from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

from cli import run
from custody.config import Config, ConfigError, load_config
from custody.config_schema import ConfigFile, sections
from custody.reminder_settings import ReminderSettings, reminder_settings
from importers.status_http import HttpStatusSource, http_source_from_config

ROOT = Path(__file__).resolve().parent.parent
CONFIG_TOML = ROOT / "config.toml"
FEES = ["fees", "201710601862.3", "--filed", "2017-04-25", "--grant-year", "3", "--reduction", "85"]


def _documented() -> dict:
    return tomllib.loads(CONFIG_TOML.read_text(encoding="utf-8"))


def test_config_toml_sets_exactly_the_models_defaults() -> None:
    documented = sections(_documented())
    defaults = sections({})
    documented_tiers = documented["reminders"].pop("tiers")
    assert documented == defaults
    # The tiers are listed in config.toml; the model leaves them to custody.reminder_settings.DEFAULT_TIERS.
    assert reminder_settings({"tiers": documented_tiers}).tiers == ReminderSettings().tiers


def _keys(model: type[BaseModel], table: str) -> list[tuple[str, str]]:
    found = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found += _keys(annotation, f"{table}.{key}" if table else key)
        elif table:
            found.append((table, key))
    return found


@pytest.mark.parametrize(("table", "key"), _keys(ConfigFile, ""), ids=lambda v: v)
def test_config_toml_explains_every_key(table: str, key: str) -> None:
    text = CONFIG_TOML.read_text(encoding="utf-8")
    section = re.search(rf"^\[{re.escape(table)}\]\n(.*?)(?=^\[|\Z)", text, re.M | re.S)
    assert section, f"config.toml has no [{table}]"
    # Set to its default, shown in a comment (a key whose default is "not set", like per_second), or a table of
    # its own ([sms.templates], [[reminders.tiers]], # [import.profiles.agency]).
    assert (re.search(rf"^(# ?)?{re.escape(key)} =", section.group(1), re.M)
            or f"[{table}.{key}" in text), f"[{table}] {key} is not explained"


def test_records_path_has_one_default_in_code_and_in_config_toml() -> None:
    assert _documented()["status"]["http"]["records_path"] == "records"
    assert HttpStatusSource("http://127.0.0.1:1/feed").records_path == "records"
    section = {"url": "http://127.0.0.1:1/feed", "auth_env": ""}
    assert http_source_from_config(section).records_path == "records"
    assert Config().section("status")["http"]["records_path"] == "records"


BAD = [
    pytest.param('[reminders]\ndigest = "no"\n', '[reminders] digest: expected true or false, got "no"',
                 id="digest-no"),
    pytest.param('[reminders]\nbatch_size = "many"\n', '[reminders] batch_size: expected a whole number, got "many"',
                 id="batch-size-many"),
    pytest.param('[reminders.retry]\nbase_seconds = "sixty"\n',
                 '[reminders.retry] base_seconds: expected a number, got "sixty"', id="retry-sixty"),
    pytest.param('[email]\nport = "x"\n', '[email] port: expected a whole number, got "x"', id="port-x"),
    pytest.param("[general]\nlanguage = 5\n", '[general] language: expected one of "zh" or "en", got 5',
                 id="language-5"),
    pytest.param('[status]\nnotify_channels = "email"\n',
                 '[status] notify_channels: expected a list in brackets, got "email"', id="channels-as-text"),
    pytest.param('[status]\nsettle_seconds = "five"\n', '[status] settle_seconds: expected a number, got "five"',
                 id="settle-five"),
    pytest.param('[reminders]\ntiers = "all"\n', '[reminders] tiers: expected a list in brackets, got "all"',
                 id="tiers-all"),
    pytest.param("[reminders]\nquiet = 1\n", "[reminders] quiet: unknown key", id="unknown-key"),
    pytest.param("[remindres]\ndigest = true\n", "[remindres]: unknown section", id="unknown-section"),
    pytest.param("[email]\nport = 70000\n", "[email] port: expected a value at most 65535, got 70000",
                 id="port-out-of-range"),
    pytest.param("[reminders]\nbatch_size = 0\n", "[reminders] batch_size: expected a value at least 1, got 0",
                 id="batch-size-zero"),
    pytest.param('[sms]\nenabled = true\n', "[sms] sign_name: required when enabled = true", id="sms-unsigned"),
    pytest.param('[[reminders.tiers]]\nanchor = "birthday"\ndays_before = [1]\n',
                 '[reminders] tiers[0].anchor: expected one of "due_date", ', id="tier-anchor"),
    pytest.param('[status.http]\nurl = "file:///etc/passwd"\n', "[status.http] url: expected an http:// or https://",
                 id="feed-not-http"),
    pytest.param('[import.profiles.agency]\nheader_row = "2"\n',
                 '[import.profiles.agency] header_row: expected a whole number, got "2"', id="profile-row"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_a_bad_value_is_one_error_line_naming_file_section_and_key(text: str, message: str, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture) -> None:
    config = tmp_path / "config.toml"
    config.write_text(text, encoding="utf-8")
    assert run(["--config", str(config), *FEES]) == 2
    out, err = capsys.readouterr()
    assert out == ""  # nothing ran
    assert err.startswith(f"Error: {config}: {message}") and err.count("\n") == 1, err


def test_a_config_file_of_random_bytes_is_a_configuration_error(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture) -> None:
    config = tmp_path / "config.toml"
    config.write_bytes(os.urandom(64) + bytes(range(128, 256)))
    assert run(["--config", str(config), *FEES]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"Error: {config}: not ") and err.count("\n") == 1, err


def test_a_folder_given_as_the_config_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the configuration file"):
        load_config(tmp_path)


def test_several_problems_are_told_on_the_one_line(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[reminders]\ndigest = "no"\nbatch_size = "many"\n[email]\nport = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert str(caught.value).count("expected") == 3 and "\n" not in str(caught.value)


def test_values_are_handed_on_typed_and_complete(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[status]\nsettle_seconds = 2\n[email]\nport = 587\n", encoding="utf-8")
    loaded = load_config(config)
    assert loaded.section("status")["settle_seconds"] == 2.0
    assert loaded.section("status")["notify_channels"] == ["email"]  # the default, filled in
    assert loaded.section("email")["port"] == 587 and loaded.section("email")["host"] == ""

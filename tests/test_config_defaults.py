"""custody/config_defaults.py is the schema's defaults, written out so that a run without a configuration file
does not load pydantic (issue 9): the two must stay equal.

    .venv/bin/python tests/test_config_defaults.py    # writes custody/config_defaults.py again from the schema
"""
from __future__ import annotations

import pprint
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULE = ROOT / "custody" / "config_defaults.py"


def test_the_written_defaults_are_the_schemas():
    from custody.config_defaults import DEFAULT_SECTIONS
    from custody.config_schema import sections

    assert DEFAULT_SECTIONS == sections({}), f"run `.venv/bin/python {Path(__file__).relative_to(ROOT)}`"


def test_a_run_without_a_file_reads_them_without_pydantic_and_cannot_change_them(tmp_path, monkeypatch):
    import subprocess

    code = ("import sys; from custody.config import Config; c = Config(); c.section('general')['language'] = 'en';"
            "assert Config().language == 'zh'; print('pydantic' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_an_empty_file_gives_the_same_config_as_none(tmp_path):
    from custody.config import Config, load_config

    (tmp_path / "empty.toml").write_text("", encoding="utf-8")
    assert load_config(str(tmp_path / "empty.toml"))._sections == Config()._sections


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    from custody.config_schema import sections

    head = MODULE.read_text(encoding="utf-8").split("DEFAULT_SECTIONS:")[0]
    body = pprint.pformat(sections({}), width=116, sort_dicts=False, indent=1)
    MODULE.write_text(f"{head}DEFAULT_SECTIONS: dict[str, dict[str, Any]] = {body}\n", encoding="utf-8")

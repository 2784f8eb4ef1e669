"""Every sample file under tests/data/import/ read and checked, compared with its saved expected output.

The expected output (tests/data/import/expected/NAME.json) holds the rows the file would write and every problem,
in English and Chinese. After a deliberate change, regenerate with CUSTODY_UPDATE_EXPECTED=1 and review the diff.
Runs on SQLite and PostgreSQL: the enterprises (and, for payments, the patents) the file refers to are imported
first through the command, so the lookups are the real ones.
"""
from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

import cli
from custody.ruleset import default_rules
from custody.store.imports import StoreLookup
from custody.workdays import WorkCalendar
from importers.context import Options
from importers.files import ImportFile, parse_file

DATA = Path(__file__).parent / "data" / "import"
EXPECTED = DATA / "expected"
AS_OF = date(2024, 5, 1)
RONGCHENG = "91350100M000100Y43"

# name, kind, options, files imported first (besides enterprises.csv)
SAMPLES = [
    ("portfolio_gbk.csv", "patents", {"as_of": AS_OF}, []),
    ("portfolio_title.xlsx", "patents", {"enterprise": RONGCHENG}, []),
    ("portfolio.xls", "patents", {"as_of": AS_OF}, []),
    ("portfolio_bom.csv", "patents", {"as_of": AS_OF}, []),
    ("patents_float_appno.xlsx", "patents", {"as_of": AS_OF, "enterprise": RONGCHENG}, []),
    ("patents_problems.csv", "patents", {"as_of": AS_OF}, []),
    ("ambiguous_columns.csv", "patents", {"as_of": AS_OF}, []),
    ("missing_columns.csv", "patents", {"as_of": AS_OF}, []),
    ("no_header.csv", "patents", {"as_of": AS_OF}, []),
    ("enterprises.csv", "enterprises", {}, []),
    ("enterprises_problems.csv", "enterprises", {}, []),
    ("payments.csv", "payments", {}, [("patents", "portfolio_gbk.csv")]),
    ("payments_problems.csv", "payments", {}, [("patents", "portfolio_gbk.csv"), ("payments", "payments.csv")]),
]


def _import(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, name: str) -> None:
    monkeypatch.setenv("CUSTODY_DATABASE_URL", db_url)
    config = tmp_path / "config.toml"
    config.write_text('[general]\nlanguage = "en"\n', encoding="utf-8")
    assert cli.run(["--config", str(config), "import", kind, str(DATA / name), "--as-of", AS_OF.isoformat()]
                   if kind == "patents" else ["--config", str(config), "import", kind, str(DATA / name)]) == 0


def _plain(value: object) -> object:
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    return value if isinstance(value, (int, str, bool, type(None))) else str(value)


def observed(parsed: ImportFile) -> dict:
    batch = parsed.batch
    tables = {"enterprises": batch.enterprises, "contacts": batch.contacts, "patents": batch.patents,
              "payments": batch.payments}
    return {
        "rows_read": parsed.rows_read,
        "rejected_rows": sorted(parsed.error_rows),
        **{name: [[_plain(v) for v in row] for row in rows] for name, rows in tables.items() if rows},
        "stats": parsed.stats,
        "problems_en": [p.render("en") for p in parsed.sink.problems],
        "problems_zh": [p.render("zh") for p in parsed.sink.problems],
    }


@pytest.mark.parametrize(("name", "kind", "given", "first"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_sample_file_gives_the_expected_rows_and_problems(
    db_url: str, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name, kind, given, first
):
    _import(db_url, tmp_path, monkeypatch, "enterprises", "enterprises.csv")
    for first_kind, first_name in first:
        _import(db_url, tmp_path, monkeypatch, first_kind, first_name)
    options = Options(rules=default_rules(), calendar=WorkCalendar(), language="en", **given)
    result = observed(parse_file(DATA / name, kind, StoreLookup(engine), options))
    expected_file = EXPECTED / f"{Path(name).stem}.json"
    if os.environ.get("CUSTODY_UPDATE_EXPECTED") or not expected_file.exists():
        EXPECTED.mkdir(exist_ok=True)
        expected_file.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert result == json.loads(expected_file.read_text(encoding="utf-8"))


def test_problems_are_located_file_row_column():
    from custody.appno import InvalidApplicationNumber, parse_application_number
    from custody.explained import in_every_language
    from importers.problems import Problem

    with pytest.raises(InvalidApplicationNumber) as caught:
        parse_application_number("201710601862.4")
    problem = Problem("portfolio.csv", 12, "申请号", "appno_invalid",
                      {"value": "201710601862.4", "detail": in_every_language(caught.value)})
    assert problem.render("en") == ("portfolio.csv:12:申请号: invalid application number 201710601862.4: "
                                    "check digit should be 3, got 4")
    assert problem.render("zh") == "portfolio.csv:12:申请号: 申请号 201710601862.4 无效：校验位应为 3，实为 4"

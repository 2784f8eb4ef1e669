"""The fast reader of large portfolios (importers/patents_fast.py) gives exactly the reference reading's records,
problems and figures, on every sample file and on a seeded file of thousands of rows mixing every kind of cell
(good, odd and wrong), so the speed never changes what an operator is told."""
from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

import cli
from custody.appno import check_character
from custody.ruleset import default_rules
from custody.store.imports import StoreLookup
from custody.workdays import WorkCalendar
from importers.context import Options
from importers.files import parse_file
from importers.patents_fast import is_canonical_number

DATA = Path(__file__).parent / "data" / "import"
AS_OF = date(2024, 5, 1)
CODES = ["91350100MA2YQ1A008", "91350200MA3EXN7T0J", "91110108MA01C8KM05", "91350100M000100Y43"]
NAMES = ["福州闽江智能装备有限公司", "厦门鹭岛新材料科技有限公司", "北京海淀云图软件有限公司", "福州榕城电子有限公司"]
HEADER = ["申请号", "专利名称", "专利类型", "申请日", "授权公告日", "授权年度", "已缴至年度", "费减比例", "法律状态",
          "法律状态日", "期限补偿天数", "托管方式", "专利权人", "统一社会信用代码", "企业名称"]


def _number(rng: random.Random) -> str:
    year = rng.choice([2004, 2010, 2015, 2019, 2021])
    digits = f"{year}{rng.choice('12389')}{rng.randrange(10**7):07d}"
    check = check_character(digits)
    wrong = "0" if check != "0" else "1"
    return rng.choice([f"{digits}.{check}"] * 6 + [f"ZL{digits}.{check}", digits, f"{digits}.{wrong}", "2017106018"])


def _row(rng: random.Random, numbers: list[str]) -> list[str]:
    number = rng.choice(numbers) if numbers and rng.random() < 0.04 else _number(rng)
    numbers.append(number)
    filing = date(int(number.removeprefix("ZL")[:4]), 1, 1) + timedelta(days=rng.randrange(0, 400))
    granted = filing + timedelta(days=rng.randrange(-30, 4000))
    kinds = {"1": "发明", "2": "实用新型", "3": "外观设计", "8": "发明", "9": "实用新型"}
    kind = kinds.get(number.lstrip("ZL")[4], "发明")
    return [
        number, rng.choice(["一种装置", "", "一种方法（改）"]),
        rng.choice([kind] * 8 + ["外观设计", "发明专利", "", "鬼"]),
        rng.choice([filing.isoformat()] * 5 + [filing.strftime("%Y/%m/%d"), "2019-02-30", ""]),
        rng.choice([granted.isoformat()] * 5 + ["", "", "bad"]), rng.choice(["", "", "1", "2", "3", "25", "第2年"]),
        rng.choice(["", "", "", "5", "9", "22", "2023-03-14"]), rng.choice(["85%", "70%", "", "无", "30%", "x"]),
        rng.choice(["有效", "有效", "专利权维持", "实质审查", "未缴年费专利权终止", "", "奇怪状态"]),
        rng.choice(["", "", "", "2023-09-01", "2019-01-01"]), rng.choice(["", "", "", "", "400", "-3"]),
        rng.choice(["", "", "", "托管", "监控", "watch", "乱"]), rng.choice(NAMES + ["某某公司", ""]),
        rng.choice(CODES * 3 + ["", "", "91330100MA27XK9Q0G", "91350100MA2YQ1A00X"]),
        rng.choice(["", "", "", NAMES[0], "无名公司"]),
    ]


@pytest.fixture
def stored(db_url: str, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StoreLookup:
    monkeypatch.setenv("CUSTODY_DATABASE_URL", db_url)
    config = tmp_path / "config.toml"
    config.write_text(f'[general]\nlanguage = "en"\nlog_file = "{tmp_path / "custody.log"}"\n', encoding="utf-8")
    assert cli.run(["--config", str(config), "import", "enterprises", str(DATA / "enterprises.csv")]) == 0
    assert cli.run(["--config", str(config), "import", "patents", str(DATA / "portfolio_gbk.csv"), "--as-of",
                    "2024-05-01"]) == 0
    return StoreLookup(engine)


def _both(path: Path, lookup: StoreLookup, **given) -> tuple[dict, dict]:
    options = Options(rules=default_rules(), calendar=WorkCalendar(), language="en", as_of=AS_OF, **given)
    return tuple(_seen(parse_file(path, "patents", lookup, options, fast=fast)) for fast in (True, False))


def _seen(parsed) -> dict:
    return {"patents": parsed.batch.patents, "rows": parsed.batch.patent_rows, "stats": parsed.stats,
            "problems": [p.render("en") for p in parsed.sink.problems], "rows_read": parsed.rows_read}


@pytest.mark.parametrize("name", ["portfolio_gbk.csv", "portfolio_title.xlsx", "portfolio.xls", "portfolio_bom.csv",
                                  "patents_float_appno.xlsx", "patents_problems.csv"])
def test_fast_reading_equals_the_reference_on_every_sample(stored, name):
    fast, reference = _both(DATA / name, stored)
    assert fast == reference


@pytest.mark.parametrize("seed", [1, 2])
def test_fast_reading_equals_the_reference_on_thousands_of_mixed_rows(stored, tmp_path, seed):
    rng, numbers = random.Random(seed), []
    path = tmp_path / "mixed.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([HEADER, *(_row(rng, numbers) for _ in range(3000))])
    fast, reference = _both(path, stored)
    assert fast == reference
    assert len(fast["patents"]) > 200 and len(fast["problems"]) > 1000  # both sides of the screen were used


def test_fast_reading_equals_the_reference_with_the_enterprise_option(stored, tmp_path):
    rng, numbers = random.Random(3), []
    path = tmp_path / "option.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([HEADER[:12], *(_row(rng, numbers)[:12] for _ in range(1000))])
    fast, reference = _both(path, stored, enterprise=CODES[1])
    assert fast == reference


def _good_row(number: str, **changed: str) -> list[str]:
    """A clean invention row the fast reader takes, with some cells changed."""
    cells = dict(zip(HEADER, [number, "一种装置", "发明", "2015-03-02", "2017-06-09", "3", "8", "85%", "有效", "", "",
                              "托管", NAMES[0], CODES[0], NAMES[0]], strict=True))
    return list({**cells, **changed}.values())


# Each row breaks one fact check the fee engine (custody.fees.fact_problems) makes: the fast reader must hand it to
# the reference reading, which says what is wrong.
REFUSED_FACTS = [
    pytest.param({}, id="clean-row"),
    pytest.param({"已缴至年度": "1"}, id="paid-through-below-the-grant-year"),
    pytest.param({"已缴至年度": "1", "授权年度": ""}, id="paid-through-below-the-inferred-grant-year"),
    pytest.param({"期限补偿天数": "5000"}, id="term-extension-over-ten-years"),
    pytest.param({"申请日": "2016-03-02"}, id="filed-after-the-numbers-year"),
]


@pytest.mark.parametrize("changed", REFUSED_FACTS)
def test_fast_reading_refers_every_impossible_fact_to_the_reference(stored, tmp_path, changed):
    digits = "201510412288"
    path = tmp_path / "facts.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([HEADER, _good_row(f"{digits}.{check_character(digits)}", **changed)])
    fast, reference = _both(path, stored)
    assert fast == reference
    assert bool(reference["patents"]) is (changed == {})


@pytest.mark.parametrize(("text", "expected"), [
    ("201710601862.3", True), ("201710601862.4", False), ("201740601862.3", False), ("200210601862.3", False),
    ("２０１７10601862.3", False), ("ZL201710601862.3", False), (201710601862.3, False), ("201820123456.0", True),
])
def test_only_the_canonical_spelling_takes_the_fast_path(text, expected):
    assert is_canonical_number(text) is expected


def test_fast_reading_equals_the_reference_past_the_remembered_combinations(stored, tmp_path, monkeypatch):
    """Past MAX_COMBINATIONS (a file whose type, years, reduction, status, extension and mode keep changing) the
    fast reader reads those cells column by column: the same records and messages still."""
    import importers.patents_fast

    monkeypatch.setattr(importers.patents_fast, "MAX_COMBINATIONS", 10)
    rng, numbers = random.Random(4), []
    path = tmp_path / "varied.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([HEADER, *(_row(rng, numbers) for _ in range(2000))])
    fast, reference = _both(path, stored)
    assert fast == reference
    assert len(fast["patents"]) > 100

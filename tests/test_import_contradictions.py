"""Import warns about impossible histories (issue 10 point 4): facts of one row that cannot all be true on the file's
date, each a warning at file:row:column in the import summary and its JSON, never a refusal.

As of 2024-05-01 (the file's date, --as-of):
- 201710601862.3, an invention filed 2017-04-25, granted in year 3, paid through year 5, 有效: its year-6 fee was due
  2022-04-25 and its grace period ended 2022-10-25 (Rule 115), so it would have terminated.
- 201820556677.7, a utility model filed 2018-03-10, paid through year 7, 未缴年费终止: 2024-05-01 lies in year 7
  (from 2024-03-10), which is paid: no fee can have lapsed.
- 201920112233.9, a utility model filed 2019-06-03, grant year 3, paid through year 2 (registration "still open"),
  有效: the grant-year fee is paid with registration (Rule 114).
- 201710601863.8, paid through year 7, 有效: consistent, no warning.
"""
from __future__ import annotations

import json

from tests.test_import_rules import AS_OF, MINJIANG, run, write_csv  # noqa: F401 - the `run` fixture

ROWS = [
    ["201710601862.3", "一种智能装配机械臂", "发明", "2017-04-25", "2019-08-02", 3, 5, "有效", MINJIANG],
    ["201820556677.7", "一种夹具", "实用新型", "2018-03-10", "2018-09-01", 1, 7, "未缴年费终止", MINJIANG],
    ["201920112233.9", "一种卡扣", "实用新型", "2019-06-03", "", 3, 2, "有效", MINJIANG],
    ["201710601863.8", "一种传送带", "发明", "2017-04-25", "2019-08-02", 3, 7, "有效", MINJIANG],
]
EXPECTED = [
    (2, "已缴至年度", "in_force_but_lapsed"),
    (3, "法律状态", "terminated_but_paid"),
    (4, "授权年度", "grant_after_paid_through"),
]


def _contradictions(summary: dict) -> list[tuple]:
    codes = {code for _, _, code in EXPECTED}
    return sorted((p["row"], p["column"], p["code"]) for p in summary["problems"] if p["code"] in codes)


def test_impossible_histories_are_warnings_at_their_cells(run, tmp_path) -> None:  # noqa: F811
    path = write_csv(tmp_path / "patents.csv", ROWS)
    code, out, _ = run("import", "patents", str(path), *AS_OF, "--format", "json")
    summary = json.loads(out)
    assert [p["message"] for p in summary["problems"] if p["severity"] == "error"] == []
    assert code == 0 and summary["errors"] == 0 and summary["imported"]
    assert _contradictions(summary) == EXPECTED
    assert all(p["severity"] == "warning" for p in summary["problems"] if p["code"] in {c for *_, c in EXPECTED})
    lapsed = next(p for p in summary["problems"] if p["code"] == "in_force_but_lapsed")
    assert "grace period ended on 2022-10-25" in lapsed["message"]


def test_the_table_summary_names_file_row_and_column(run, tmp_path) -> None:  # noqa: F811
    path = write_csv(tmp_path / "patents.csv", ROWS)
    code, out, err = run("import", "patents", str(path), *AS_OF, "--dry-run", language="zh")
    text = out + err
    assert "patents.csv:2:已缴至年度: 警告：" in text and "第 6 年年费的宽限期已于 2022-10-25 届满" in text
    assert "patents.csv:3:法律状态: 警告：" in text and "patents.csv:4:授权年度: 警告：" in text

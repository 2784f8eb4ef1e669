"""An enterprise's own contacts get the before-due reminders whatever their sheet calls them, or the operator is
told by name which enterprise has nobody (issue 10, point 1). End to end through cli.run on SQLite and PostgreSQL,
judged by the planned outbox rows: who, which tier, which fee."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from freezegun import freeze_time
from sqlalchemy import Engine

import cli
import custody.store.planner  # noqa: F401 - loaded (with pandas) before freezegun stops the clock: pandas' import
from custody.models import Contact, Patent
from custody.models.reminders import ReminderItem

MINJIANG, LUDAO, YUNTU = "91350100MA2YQ1A008", "91350200MA3EXN7T0J", "91110108MA01C8KM05"
P1, P4 = "201710601862.3", "201510308494.4"  # year-9 fee of P1 due 2025-04-25 (a Friday)
HEADER = ["序号", "企业名称", "统一社会信用代码", "联系人", "职务", "手机", "邮箱", "接收短信", "接收邮件"]
CONTACTS = [
    # 福州闽江: the contact sheet a platform gets back from an enterprise: 联系人, IP专员, 总经理.
    [1, "福州闽江智能装备有限公司", MINJIANG, "林晓峰", "联系人", "13800138000", "lin@minjiang.example.cn", "是", "是"],
    [2, "福州闽江智能装备有限公司", MINJIANG, "陈静", "IP专员", None, "chenjing@minjiang.example.cn", None, None],
    [3, "福州闽江智能装备有限公司", MINJIANG, "张建国", "总经理", "13905912345", "zhang@minjiang.example.cn", None,
     None],
    # 厦门鹭岛: only its head and an office clerk whose title no table knows.
    [4, "厦门鹭岛新材料科技有限公司", LUDAO, "黄志强", "董事长", "18605926789", "huang@ludao.example.cn", None, None],
    [5, "厦门鹭岛新材料科技有限公司", LUDAO, "吴敏", "行政", "18605920000", None, None, None],
    # 北京云图: its 经办人 has only a mobile, and said no to SMS.
    [6, "北京海淀云图软件有限公司", YUNTU, "王芳", "经办人", "13701010101", None, "否", None],
]
PATENTS = ("申请号,专利名称,专利类型,申请日,授权年度,已缴至年度,费减比例,法律状态,统一社会信用代码\n"
           f"{P1},一种智能装配机械臂,发明,2017-04-25,3,8,85%,有效,{MINJIANG}\n"
           f"{P4},一种高强度复合材料的制备方法,发明,2015-10-30,3,9,无,有效,{LUDAO}\n")


def contact_sheet(path: Path, rows=CONTACTS) -> Path:
    """An xlsx as platforms receive them: a merged title row above the header."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["鼓楼区知识产权运营服务平台 专利托管企业联系人表（2025年3月）"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


@pytest.fixture
def custody(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    """`custody ARGS` on the test database, Chinese messages, the file outbox standing in for SMS and email (so
    reminders are planned on both); returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("CUSTODY_DATABASE_URL", db_url)
    config = tmp_path / "config.toml"
    config.write_text(f'[general]\nlanguage = "zh"\nlog_file = "{tmp_path / "custody.log"}"\n\n'
                      f'[outbox]\ndir = "{tmp_path / "outbox"}"\nreplace = true\n', encoding="utf-8")

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = cli.run(["--config", str(config), *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _unreached(summary: dict) -> list[tuple[int, str, str]]:
    return [(p["row"], p["severity"], p["message"]) for p in summary["problems"]
            if p["code"] == "no_before_due_recipient"]


def test_a_realistic_sheet_gets_its_contacts_before_due_reminders(custody, tmp_path: Path, engine: Engine) -> None:
    code, out, _ = custody("import", "enterprises", str(contact_sheet(tmp_path / "联系人表.xlsx")), "--format", "json")
    assert code == 0, out
    (tmp_path / "专利.csv").write_text(PATENTS, encoding="utf-8")
    assert custody("import", "patents", str(tmp_path / "专利.csv"), "--as-of", "2025-03-01")[0] == 0
    with freeze_time("2025-04-18 10:00:00+08:00"):  # 7 days before P1's year-9 fee is due
        code, _, err = custody("remind", "plan")
    assert code == 0, err
    with engine.connect() as conn:
        planned = set(conn.execute(sa.select(ReminderItem.recipient, ReminderItem.channel, ReminderItem.tier,
                                             Patent.application_number, ReminderItem.fee_year)
                                   .join(Patent, Patent.id == ReminderItem.patent_id)
                                   .where(ReminderItem.state == "planned")))
    assert {row for row in planned if row[3] == P1} == {
        ("lin@minjiang.example.cn", "email", "before_due:due-7", P1, 9),       # 联系人
        ("chenjing@minjiang.example.cn", "email", "before_due:due-7", P1, 9),  # IP专员
        ("13800138000", "sms", "before_due_sms:due-7", P1, 9),               # 联系人; 总经理 waits for escalation
    }
    # 鹭岛 (nobody on a before-due route) hears of its year-10 fee only 15 days before the grace end, everyone at
    # once: what the import's warning was about.
    assert {row[:3] for row in planned if row[3] == P4} == {
        ("huang@ludao.example.cn", "email", "grace_end:grace_end-15"),
        ("18605926789", "sms", "grace_end:grace_end-15"), ("18605920000", "sms", "grace_end:grace_end-15")}
    code, out, _ = custody("remind", "list", "--format", "json")
    assert {(r["channel"], r["recipient"], r["patents"]) for r in json.loads(out) if r["kind"] == "fee"
            and r["enterprise"] == "福州闽江智能装备有限公司"} == {
        ("email", "l***@minjiang.example.cn", f"{P1}/9"), ("email", "c***@minjiang.example.cn", f"{P1}/9"),
        ("sms", "138****8000", f"{P1}/9")}


def test_an_enterprise_with_nobody_to_remind_is_named_by_the_import_the_list_and_health(
        custody, tmp_path: Path, engine: Engine) -> None:
    code, out, _ = custody("import", "enterprises", str(contact_sheet(tmp_path / "联系人表.xlsx")), "--format", "json")
    assert code == 0
    summary = json.loads(out)
    warned = _unreached(summary)
    assert [(row, severity) for row, severity, _ in warned] == [(6, "warning"), (8, "warning")]  # one each
    assert "厦门鹭岛新材料科技有限公司" in warned[0][2] and "黄志强（法定代表人/负责人，手机、邮箱）" in warned[0][2]
    assert "吴敏（其他，手机）" in warned[0][2] and "（邮件发给专利联系人、财务，短信发给专利联系人）" in warned[0][2]
    assert "北京海淀云图软件有限公司" in warned[1][2] and "王芳（专利联系人，手机（拒收短信））" in warned[1][2]
    assert not any("18605926789" in m or "13701010101" in m for _, _, m in warned)  # no address in a warning
    assert summary["stats"]["no_before_due_recipient"] == [YUNTU, LUDAO]
    with engine.connect() as conn:  # imported all the same: a warning changes nothing
        assert conn.execute(sa.select(sa.func.count()).select_from(Contact)).scalar() == 6

    code, out, _ = custody("enterprise", "list", "--no-recipient", "--format", "json")
    assert code == 0
    assert [(e["credit_code"], e["recipients"]) for e in json.loads(out)] == [(YUNTU, 0), (LUDAO, 0)]
    code, out, _ = custody("enterprise", "list", "--format", "csv")
    assert out.splitlines()[0] == "credit_code,name,contacts,recipients,custody_patents,watch_patents,ended_patents"
    assert f"{MINJIANG},福州闽江智能装备有限公司,3,2,0,0,0" in out.splitlines()

    (tmp_path / "专利.csv").write_text(PATENTS, encoding="utf-8")
    assert custody("import", "patents", str(tmp_path / "专利.csv"), "--as-of", "2025-03-01")[0] == 0
    code, out, _ = custody("health", "--format", "json")
    [check] = [c for c in json.loads(out) if c["check"] == "before-due recipients"]
    assert code == 1 and not check["ok"]
    # Only 鹭岛 has patents in custody: 云图's missing recipient costs nothing yet.
    assert "厦门鹭岛新材料科技有限公司" in check["detail"] and "北京海淀云图" not in check["detail"]


def test_a_corrected_sheet_clears_the_warning(custody, tmp_path: Path) -> None:
    custody("import", "enterprises", str(contact_sheet(tmp_path / "a.xlsx")))
    fixed = [row[:4] + (["专利联系人"] if row[2] == LUDAO and row[3] == "吴敏" else [row[4]]) + row[5:]
             for row in CONTACTS]
    code, out, _ = custody("import", "enterprises", str(contact_sheet(tmp_path / "b.xlsx", fixed)), "--format",
                           "json")
    summary = json.loads(out)
    assert code == 0 and [row for row, _, _ in _unreached(summary)] == [8]  # 鹭岛's 吴敏 now gets them
    assert {(c["key"], c["old"], c["new"]) for c in summary["changes"]} == {
        (f"{LUDAO}:18605920000", "other", "ip_manager")}


def test_strict_makes_nobody_to_remind_an_error_and_changes_nothing(custody, tmp_path: Path, engine: Engine) -> None:
    code, out, err = custody("import", "enterprises", str(contact_sheet(tmp_path / "联系人表.xlsx")), "--strict")
    assert code == 1 and "错误：" in err
    assert "7:职务: 企业 厦门鹭岛新材料科技有限公司" in out  # each of its rows: --partial rejects it whole
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Contact)).scalar() == 0
    code, out, _ = custody("import", "enterprises", str(contact_sheet(tmp_path / "联系人表.xlsx")), "--strict",
                           "--partial", "--format", "json")
    summary = json.loads(out)
    assert code == 1 and summary["rejected"] == 3 and summary["tables"]["contact"]["new"] == 3
    with engine.connect() as conn:
        kept = conn.execute(sa.select(Contact.name).order_by(Contact.id)).scalars().all()
    assert kept == ["林晓峰", "陈静", "张建国"]  # 福州闽江 in; 鹭岛 and 云图 left for the rejects file
    assert (tmp_path / "联系人表.rejects.csv").exists()


def test_the_migration_gives_contacts_stored_as_the_operator_back_to_their_enterprise(empty_db_url: str) -> None:
    from custody.store.db import upgrade

    upgrade(empty_db_url, "0008_status2_unmatched")
    engine = sa.create_engine(empty_db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO enterprise (credit_code, name, created_at, updated_at) "
                                 "VALUES ('X', '甲', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
            conn.execute(sa.text("INSERT INTO contact (enterprise_id, name, role, created_at, updated_at) "
                                 "SELECT id, '王芳', 'operator', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM enterprise"))
        upgrade(empty_db_url)
        with engine.begin() as conn:
            assert conn.execute(sa.text("SELECT role FROM contact")).scalars().all() == ["ip_manager"]
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.text("UPDATE contact SET role = 'operator'"))
    finally:
        engine.dispose()

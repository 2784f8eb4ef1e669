"""The enterprise statement as a document (issue 11): its figures are the reports' own, field by field; the PDF is
A4, Chinese, read back with pypdf over several pages; the workbook has its sheets; the emails go through the outbox
once per enterprise, period and address, with the PDF attached, and a permanent failure alerts the operator
instead of falling back to SMS; the daemon's job plans them from the configured day."""
from __future__ import annotations

import io
import json
import tomllib
from datetime import date, timedelta
from pathlib import Path

import pypdf
import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine
from sqlmodel import Session

from cli import run
from custody.config_schema import Platform, Statement
from custody.models import Enterprise
from custody.report_output import write_json
from custody.ruleset import default_rules
from custody.statement import Platform as PlatformInfo
from custody.statement import (
    StatementSettings,
    layout,
    period_of,
    period_start,
    summary_figures,
)
from custody.statement_render import pdf_bytes, xlsx_bytes
from custody.store.db import session_for
from custody.store.statements import statement_of
from scheduler.statements import plan_statements, statement_jobs, statement_tick
from scheduler.ticks import dispatch_tick
from tests.support.cli import hand_to_cli
from tests.test_remind_world import (
    RobotServer,
    add_enterprise,
    add_patent,
    at,
    channels_on,
    outbox,
    ticks_for,
    world,
)

ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2025, 10, 12)
NAME = "福建测试科技有限公司"
MAILBOX = "ip@example.com"
PLATFORM = PlatformInfo("福州市知识产权公共服务平台", "0591-87654321")


def build_enterprise(session: Session, name: str = NAME, due: int = 40) -> Enterprise:
    """An enterprise whose statement fills more than one A4 page: `due` fees due next April (year 10), five in the
    grace period (year 9, grace end 2025-10-27), three lapsed last spring whose notice is not on record (restorable
    'unknown'), two watched only."""
    enterprise = add_enterprise(session, name)
    for i in range(due):
        add_patent(session, enterprise, paid_through=9, title=f"一种用于测试的装置及其控制方法第{i + 1}号")
    for _ in range(5):
        add_patent(session, enterprise, paid_through=8, title="一种滞纳期内的装置")
    for _ in range(3):
        add_patent(session, enterprise, filed=date(2016, 12, 1), paid_through=8, title="一种已终止的装置")
    for _ in range(2):
        add_patent(session, enterprise, paid_through=9, mode="watch", title="一种仅监控的装置")
    return enterprise


@pytest.fixture
def code(engine: Engine) -> str:
    return world(engine, lambda s: build_enterprise(s).credit_code)


def statement_on(engine: Engine, code: str, day: date = AS_OF, platform: PlatformInfo = PLATFORM):
    with session_for(engine) as session:
        return statement_of(session, code, default_rules(), StatementSettings(platform=platform), day)


# ---------------------------------------------------------------------------------------------- figures


def test_the_statement_has_each_part_of_the_enterprise(engine: Engine, code: str) -> None:
    statement = statement_on(engine, code)
    figures = {msgid: value for msgid, _, _, value in summary_figures(statement)}
    assert (figures["Patents on record"], figures["Under custody"], figures["Watched only"]) == (50, 48, 2)
    assert figures["Number of fees due within a year"] == 40
    assert figures["Fees in the grace period"] == 5
    assert figures["Lapsed patents that can be restored"] == 3
    assert [r["restorable"] for r in statement.restorable.rows.dicts()] == ["unknown — check"] * 3
    assert [year for year, _ in (row for row in _forecast(statement))] == [2025, 2026, 2027, 2028, 2029]


def _forecast(statement):
    from custody.statement import forecast_by_year

    return forecast_by_year(statement)


def _cli_json(capsys, *args: str) -> dict:
    assert run(list(args)) == 0
    return json.loads(capsys.readouterr().out)


def test_statement_figures_are_the_reports_field_by_field(engine: Engine, db_url: str, code: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """One computation: the statement's tables are what `custody report …` prints for the enterprise."""
    statement = statement_on(engine, code)
    hand_to_cli(Session(engine), db_url, monkeypatch, tmp_path)
    day = ("--as-of", AS_OF.isoformat(), "--format", "json")
    for part, args in ((statement.patents, ("report", "enterprise", code)),
                       (statement.due, ("report", "due", "--within", "365d", "--enterprise", code)),
                       (statement.grace, ("report", "grace", "--enterprise", code)),
                       (statement.forecast, ("report", "forecast", "--years", "5", "--enterprise", code))):
        stream = io.StringIO()
        write_json(part, stream)
        assert json.loads(stream.getvalue())["rows"] == _cli_json(capsys, *args, *day)["rows"], args
    lapsed = _cli_json(capsys, "report", "lapsed", "--enterprise", code, *day)["rows"]
    stream = io.StringIO()
    write_json(statement.restorable, stream)
    assert json.loads(stream.getvalue())["rows"] == [r for r in lapsed if r["restorable"] != "no"]


# ---------------------------------------------------------------------------------------------- documents


def _pdf_text(data: bytes) -> tuple[int, str]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def test_the_pdf_is_chinese_a4_over_several_pages(engine: Engine, code: str) -> None:
    statement = statement_on(engine, code)
    data = pdf_bytes(layout(statement, "zh"))
    pages, text = _pdf_text(data)
    reader = pypdf.PdfReader(io.BytesIO(data))
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    assert pages >= 2
    first_due = statement.due.rows.dicts()[0]
    for expected in (NAME, code, "截至日期：2025-10-12", PLATFORM.name, PLATFORM.contact, "专利年费对账单",
                     first_due["application_number"], "滞纳期", "未来五年年费预测", "可请求恢复", "待核实",
                     "发明", "托管", "仅监控", f"第 {pages} 页"):
        assert expected in text, expected
    assert "恢复请求期限自该通知之日起计算" in text  # the note on restorability 'unknown'
    grace = statement.grace.rows.dicts()[0]
    assert f"{grace['total']:,.2f}" in text  # an amount, as yuan with the fen
    for raw in ("None", "True", "False", "in_grace", "invention", "custody", "unknown — check"):
        assert raw not in text, raw


def test_the_pdf_notes_provisional_dates_only_when_it_shows_one(engine: Engine, code: str) -> None:
    """Deadlines in a year whose holiday schedule is not published (2027) are marked, and a note says what the
    mark means; a statement without one has no such note."""
    _, text = _pdf_text(pdf_bytes(layout(statement_on(engine, code), "zh")))
    assert "*" not in text and "暂定" not in text
    later = world(engine, lambda s: add_patent(s, s.get(Enterprise, _id(s, code)), filed=date(2018, 4, 25),
                                               paid_through=9).application_number)
    _, text = _pdf_text(pdf_bytes(layout(statement_on(engine, code, date(2026, 10, 12)), "zh")))
    assert later in text and "2027-04-26*" in text and "标 * 的日期为暂定" in text


def _id(session: Session, code: str) -> int:
    import sqlalchemy as sa

    return session.execute(sa.select(Enterprise.id).where(Enterprise.credit_code == code)).scalar_one()


def test_an_enterprise_without_patents_gets_a_statement_that_says_so(engine: Engine) -> None:
    empty = world(engine, lambda s: add_enterprise(s, "空白科技有限公司").credit_code)
    pages, text = _pdf_text(pdf_bytes(layout(statement_on(engine, empty), "zh")))
    assert pages == 1 and "无在册专利。" in text and "一年内无到期年费。" in text and "无可恢复的终止专利。" in text
    assert "暂定" not in text and "待核实" not in text


def test_the_workbook_has_its_sheets(engine: Engine, code: str) -> None:
    book = load_workbook(io.BytesIO(xlsx_bytes(layout(statement_on(engine, code), "zh"))))
    assert book.sheetnames == ["概要", "专利清单", "应缴", "宽限期", "可恢复", "五年预测"]
    cells = [str(c) for sheet in book for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert NAME in " ".join(cells) and not {"None", "True", "False"} & set(cells)
    due = list(book["应缴"].iter_rows(values_only=True))
    assert len(due) == 40 + 2  # title, heading, a row per fee
    fee = due[1].index("年费(元)")
    assert due[2][fee] == 4000 and not isinstance(due[2][fee], str)  # amounts are numbers a spreadsheet adds up


def test_english_when_the_language_is_english(engine: Engine, code: str) -> None:
    _, text = _pdf_text(pdf_bytes(layout(statement_on(engine, code), "en")))
    assert "Patent annual fee statement" in text and "Page 1" in text and "in grace period" in text
    assert "invention" in text and "发明" not in text and "in_grace" not in text


@pytest.mark.parametrize(("name", "expected"), [("statement.pdf", 0), ("statement.xlsx", 0), ("statement.csv", 2)])
def test_the_command_writes_the_document(engine: Engine, db_url: str, code: str, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch, capsys, name: str, expected: int) -> None:
    hand_to_cli(Session(engine), db_url, monkeypatch, tmp_path)
    got = run(["statement", code, "--as-of", "2025-10-12", "--out", name])
    err = capsys.readouterr().err
    assert got == expected, err
    if expected:
        assert err.startswith("错误：--out") and len(err.splitlines()) == 1
    else:
        assert (tmp_path / name).stat().st_size > 1000


def test_an_unknown_enterprise_is_one_error_line(engine: Engine, db_url: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    hand_to_cli(Session(engine), db_url, monkeypatch, tmp_path)
    assert run(["statement", "914403001922038217", "--out", "s.pdf"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("错误：没有统一社会信用代码为") and len(err.splitlines()) == 1


# ---------------------------------------------------------------------------------------------- emails


@pytest.fixture
def robot():
    with RobotServer() as server:
        yield server


def _ticks(engine: Engine, sms_transport, email_transport, robot, moment: str, **settings):
    ticks = ticks_for(engine, channels_on(sms_transport, email_transport, robot), clock=lambda: at(moment))
    ticks.statements = StatementSettings(platform=PLATFORM, **settings)
    return ticks


def test_the_statement_is_emailed_once_per_period_with_its_pdf(engine: Engine, code: str, sms_transport,
                                                               email_transport, robot, smtp_server) -> None:
    ticks = _ticks(engine, sms_transport, email_transport, robot, "2025-10-12")
    assert plan_statements(ticks, [code]) == {"period": "2025-10", "planned": 1, "already": 0}
    dispatch_tick(ticks)
    # Again, and for all: the unique key per enterprise, period and address says it is planned already.
    assert plan_statements(ticks) == {"period": "2025-10", "planned": 0, "already": 1}
    dispatch_tick(ticks)
    [mail] = smtp_server.messages
    [row] = [m for m in outbox(engine) if m.kind == "statement"]
    assert (row.state, row.key, row.recipient) == ("sent", f"statement:{code}:2025-10:{MAILBOX}", MAILBOX)
    assert NAME in mail["Subject"] and "2025-10" in mail["Subject"]
    [pdf] = [part for part in mail.iter_attachments()]
    assert pdf.get_content_type() == "application/pdf" and pdf.get_filename() == f"statement-{code}-2025-10.pdf"
    _, text = _pdf_text(pdf.get_content())
    assert NAME in text and "截至日期：2025-10-12" in text
    body = mail.get_body(("plain",)).get_content()
    assert "一年内应缴年费 40 笔" in body and PLATFORM.name in body
    # A new quarter is a new period: one more email.
    later = _ticks(engine, sms_transport, email_transport, robot, "2025-11-03", period="quarterly")
    assert plan_statements(later)["planned"] == 1


def test_a_refused_statement_alerts_the_operator_and_sends_no_sms(engine: Engine, code: str, sms_transport,
                                                                  email_transport, robot, smtp_server,
                                                                  aliyun_gateway) -> None:
    from custody.i18n import set_language

    set_language("zh")  # the daemon's language, from [general] language (tests start in English: conftest)
    smtp_server.refuse(MAILBOX, 550)
    ticks = _ticks(engine, sms_transport, email_transport, robot, "2025-10-12")
    plan_statements(ticks, [code])
    dispatch_tick(ticks)
    rows = outbox(engine)
    [statement] = [m for m in rows if m.kind == "statement"]
    assert statement.state == "failed" and not aliyun_gateway.accepted()
    assert not [m for m in rows if m.channel == "sms"]
    [alert] = [m for m in rows if m.kind == "alert"]
    assert "对账单邮件发送失败" in alert.body and NAME in alert.body and f"custody statement {code}" in alert.body


def test_a_crash_after_the_claim_sends_it_once(engine: Engine, code: str, sms_transport, email_transport, robot,
                                               smtp_server) -> None:
    """A dispatcher killed after claiming (the row 'sending', the attempt open) leaves it to the reconciliation,
    which sends it after the claim timeout; the key stays one row."""
    from custody.store.outbox import claim

    ticks = _ticks(engine, sms_transport, email_transport, robot, "2025-10-12")
    plan_statements(ticks, [code])
    with session_for(engine) as session:
        assert len(claim(session, "dead-worker", at("2025-10-12"), ["email"], 10)) == 1
    dispatch_tick(ticks)
    assert not smtp_server.messages  # still claimed by the dead worker
    ticks.clock = lambda: at("2025-10-12", "11:00")
    dispatch_tick(ticks)
    assert len(smtp_server.messages) == 1
    assert [m.state for m in outbox(engine) if m.kind == "statement"] == ["sent"]


def test_the_daemon_job_plans_from_the_configured_day(engine: Engine, code: str, sms_transport, email_transport,
                                                     robot, smtp_server) -> None:
    ticks = _ticks(engine, sms_transport, email_transport, robot, "2025-10-02", enabled=True, day=5)
    assert [job.id for job in statement_jobs(ticks)] == ["statements"]
    assert statement_tick(ticks) == {"waiting_until": "2025-10-05"}
    ticks.clock = lambda: at("2025-10-06")  # the daemon was down on the 5th: it catches up
    assert statement_tick(ticks)["planned"] == 1
    assert len(smtp_server.messages) == 1  # sent at once, not at the next minute
    assert statement_jobs(_ticks(engine, sms_transport, email_transport, robot, "2025-10-06")) == []


@pytest.mark.parametrize(("day", "period", "key", "start"), [
    (date(2026, 12, 7), "monthly", "2026-12", date(2026, 12, 3)),
    (date(2026, 12, 7), "quarterly", "2026-Q4", date(2026, 10, 3)),
    (date(2026, 1, 1), "quarterly", "2026-Q1", date(2026, 1, 3)),
    (date(2026, 6, 30), "quarterly", "2026-Q2", date(2026, 4, 3)),
])
def test_periods(day: date, period: str, key: str, start: date) -> None:
    assert (period_of(day, period), period_start(day, period, 3)) == (key, start)


def test_send_needs_a_code_or_all(engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys) -> None:
    hand_to_cli(Session(engine), db_url, monkeypatch, tmp_path)
    assert run(["statement", "send"]) == 2
    assert capsys.readouterr().err.startswith("错误：企业信用代码与 --all 只能给一个")


# ---------------------------------------------------------------------------------------------- configuration


def test_config_toml_documents_the_statement_and_platform_defaults() -> None:
    documented = tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))
    assert Statement.model_validate(documented["statement"]) == Statement()
    assert Platform.model_validate(documented["platform"]) == Platform()
    assert documented["statement"] == Statement().model_dump() and documented["platform"] == Platform().model_dump()


@pytest.mark.parametrize("text", ['[statement]\nperiod = "weekly"\n', "[statement]\nday = 31\n",
                                  '[platform]\nphone = "1"\n'])
def test_bad_statement_settings_are_refused(tmp_path: Path, capsys, text: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(text, encoding="utf-8")
    assert run(["--config", str(config), "statement", "send", "--all"]) == 2
    assert capsys.readouterr().err.startswith("Error: ")


def test_dates_a_day_apart_do_not_share_a_period() -> None:
    assert period_of(date(2025, 12, 31), "monthly") != period_of(date(2025, 12, 31) + timedelta(days=1), "monthly")



def test_the_file_outbox_keeps_the_attachment(tmp_path: Path) -> None:
    """With [outbox] replace = true the statement lands in the .eml as it would have been mailed."""
    from email import message_from_bytes, policy

    from custody.messages import Attachment
    from notifiers.base import Message
    from notifiers.file_outbox import FileOutbox

    pdf = Attachment("statement-X-2025-10.pdf", "application/pdf", b"%PDF-1.4 test")
    message = Message("custody-7", "email", MAILBOX, "附件为对账单", subject="对账单", attachments=(pdf,))
    assert FileOutbox(tmp_path, name="email").send(message).outcome == "sent"
    [eml] = tmp_path.glob("*.eml")
    [part] = message_from_bytes(eml.read_bytes(), policy=policy.default).iter_attachments()
    assert (part.get_filename(), part.get_content()) == ("statement-X-2025-10.pdf", b"%PDF-1.4 test")
    assert json.loads((tmp_path / "messages.jsonl").read_text(encoding="utf-8"))["attachments"] == [pdf.filename]


def _config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "custody.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_send_from_the_command_line_once(engine: Engine, db_url: str, code: str, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """`custody statement send CODE` plans and dispatches at once; a second run finds the period's row and sends
    nothing (here the file outbox stands in for email: [outbox] replace)."""
    hand_to_cli(Session(engine), db_url, monkeypatch, tmp_path)
    config = _config(tmp_path, f'[outbox]\nreplace = true\n[platform]\nname = "{PLATFORM.name}"\n')
    assert run(["--config", config, "statement", "send", code, "--format", "json"]) == 0
    first = {r["outcome"]: r["count"] for r in json.loads(capsys.readouterr().out)}
    assert (first["planned"], first["sent"]) == (1, 1)
    assert run(["--config", config, "statement", "send", "--all", "--format", "json"]) == 0
    again = {r["outcome"]: r["count"] for r in json.loads(capsys.readouterr().out)}
    assert (again["planned"], again["already"], again.get("sent")) == (0, 1, None)
    [eml] = (tmp_path / "outbox").glob("*.eml")
    assert f"statement-{code}-" in eml.read_text(encoding="utf-8", errors="replace")


def test_send_without_email_is_refused(engine: Engine, db_url: str, code: str, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    hand_to_cli(Session(engine), db_url, monkeypatch, tmp_path)
    assert run(["statement", "send", code]) == 1
    err = capsys.readouterr().err
    assert err.startswith("错误：对账单通过电子邮件发送：未启用电子邮件") and len(err.splitlines()) == 1
    assert not [m for m in outbox(engine) if m.kind == "statement"]


def test_run_once_plans_and_sends_the_period_statement(engine: Engine, db_url: str, code: str, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    hand_to_cli(Session(engine), db_url, monkeypatch, tmp_path)
    config = _config(tmp_path, "[outbox]\nreplace = true\n[statement]\nenabled = true\nday = 1\n")
    run(["--config", config, "run-once", "--format", "json"])
    ticks = {r["tick"]: json.loads(r["result"]) for r in json.loads(capsys.readouterr().out)}
    assert ticks["statements"]["planned"] == 1
    assert [m.state for m in outbox(engine) if m.kind == "statement"] == ["sent"]

"""Why a reminder was cancelled or held back is stored as data (custody.reasons) and worded in the operator's
language only when shown: each path that cancels is driven for real, then `remind list` (custody.store.listing)
and `patent history` (custody.store.reminder_history) are read in Chinese and in English. Rows written by older
versions, as free text, still read sensibly. SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from datetime import date

import pytest
import sqlalchemy as sa
from freezegun import freeze_time
from sqlalchemy import Engine
from sqlmodel import Session, select

import cli
from custody.appno import check_character
from custody.i18n import set_language
from custody.models import Contact, Enterprise, Patent
from custody.models.reminders import Reminder, ReminderItem
from custody.reasons import REASONS, Reason, read_reason, reason, reason_code, shown_reason
from custody.ruleset import default_rules
from custody.store.calendar import calendar_from
from custody.store.compose import prepare_batch
from custody.store.custody_end import end_patent
from custody.store.db import session_for
from custody.store.listing import reminder_rows
from custody.store.modes import set_mode
from custody.store.outbox import claim, mark_no_receipt, reroute_stranded
from custody.store.patents import record_payment
from custody.store.reminder_history import reminder_rows as history_rows
from custody.store.status import decide
from scheduler.ticks import plan_now
from tests.test_remind_world import add_enterprise, add_patent, at, fast_settings, outbox, ticks_for, world

EMAIL_ONLY = fast_settings(sending_channels=frozenset({"email", "file", "webhook"}))


@pytest.fixture
def language() -> Iterator[Callable[[str], None]]:
    yield set_language
    set_language("en")  # the core's tests speak English (tests/conftest.py)


def plan_at(engine: Engine, moment: str, settings=None):
    with freeze_time(moment):
        return plan_now(ticks_for(engine, {}, settings))


def planned_world(engine: Engine) -> int:
    """One custody invention, 201710601862.3 filed 2017-04-25: year 9 due 2025-04-25, planned on 2025-04-18 (due-7:
    an SMS and an email)."""
    def build(s):
        patent = add_patent(s, add_enterprise(s))
        patent.application_number = f"201710601862.{check_character('201710601862')}"
        return patent
    patent_id = world(engine, build).id
    plan_at(engine, "2025-04-18 10:00:00+08:00")
    return patent_id


# ---------------------------------------------------------------------------------------------- the paths


def paid(engine: Engine) -> int:
    patent_id = planned_world(engine)
    with session_for(engine) as session:  # `custody pay`
        record_payment(session, session.get(Patent, patent_id), 9, 300, date(2025, 4, 19), "test",
                       now=at("2025-04-19"))
    return patent_id


def superseded(engine: Engine) -> int:
    patent_id = planned_world(engine)  # then no dispatch for six days: due-1 takes the place of due-7
    plan_at(engine, "2025-04-24 10:00:00+08:00")
    return patent_id


def custody_ended(engine: Engine) -> int:
    patent_id = planned_world(engine)
    with session_for(engine) as session:  # `custody patent remove`
        end_patent(session, session.get(Patent, patent_id), "张三", at("2025-04-19"), date(2025, 4, 19))
    return patent_id


def watch_only(engine: Engine) -> int:
    patent_id = planned_world(engine)
    with session_for(engine) as session:  # `custody patent watch`
        patent = session.get(Patent, patent_id)
        enterprise = session.get(Enterprise, patent.enterprise_id)
        set_mode(session, patent, "watch", enterprise, "张三", at("2025-04-19"), date(2025, 4, 19))
    return patent_id


def abandoned(engine: Engine) -> int:
    patent_id = planned_world(engine)
    with session_for(engine) as session:  # `custody decide --abandon --now`
        decide(session, session.get(Patent, patent_id), "abandon", None, "张三", at("2025-04-19"),
               date(2025, 4, 19), default_rules(), calendar_from(session), immediately=True)
    return patent_id


def too_late(engine: Engine) -> int:
    patent_id = planned_world(engine)  # nothing sent, and the grace period (to 2025-10-27) is over
    plan_at(engine, "2025-11-20 10:00:00+08:00")
    return patent_id


def facts_refused(engine: Engine) -> int:
    patent_id = planned_world(engine)
    with freeze_time("2025-04-18 12:00:00+08:00"), session_for(engine) as session:
        session.get(Patent, patent_id).filing_date = date(2018, 4, 25)  # after the application number's year
    plan_at(engine, "2025-04-18 13:00:00+08:00")
    return patent_id


def consent_withdrawn(engine: Engine) -> int:
    patent_id = planned_world(engine)
    with session_for(engine) as session:
        enterprise_id = session.get(Patent, patent_id).enterprise_id
        for contact in session.exec(select(Contact).where(Contact.enterprise_id == enterprise_id)):
            contact.consent_email = False  # the contact opts out of email before it goes
    now = at("2025-04-18", "10:05")
    with session_for(engine) as session:  # the dispatcher's claim and its last checks before sending
        ids = claim(session, "worker-1", now, ["email"], 10)
        assert prepare_batch(session, ids, "worker-1", now, fast_settings(), {}) == []
    return patent_id


def channel_disabled(engine: Engine) -> int:
    """[sms] enabled = false since planning: the SMS is cancelled and the fee goes by email, where the day's own
    email gives way to that fallback."""
    patent_id = planned_world(engine)
    with session_for(engine) as session:
        assert reroute_stranded(session, EMAIL_ONLY, at("2025-04-18", "10:10")) == 1
    return patent_id


def older_rows(engine: Engine) -> int:
    """Rows a version before stored reasons wrote: their English sentence (a raw tier label in it), a sentence
    written in Chinese, and a text no code knows."""
    patent_id = planned_world(engine)
    with engine.begin() as connection:
        sms, email = sorted(connection.execute(sa.select(Reminder.id, Reminder.channel)).all(), key=lambda r: r[1])
        connection.execute(sa.update(ReminderItem).where(ReminderItem.reminder_id == email.id)
                           .values(state="cancelled", cancel_reason="superseded by before_due:due-1"))
        connection.execute(sa.update(Reminder).where(Reminder.id == email.id)
                           .values(state="cancelled", cancel_reason="custody ended: no reminders"))
        connection.execute(sa.update(ReminderItem).where(ReminderItem.reminder_id == sms.id)
                           .values(state="cancelled", cancel_reason="托管已终止：不再提醒"))
        connection.execute(sa.update(Reminder).where(Reminder.id == sms.id)
                           .values(state="cancelled", cancel_reason="运营人员手工取消"))
    return patent_id


# (path, the codes stored on what it cancelled, a part of what is shown in Chinese, and in English). A planning
# sweep cancels the items, then the messages they left empty ("nothing left to say").
PATHS = [
    pytest.param(paid, {"paid"}, "年费已缴纳", "the fee was paid", id="paid"),
    pytest.param(superseded, {"superseded", "nothing_left"}, "已由更晚一级提醒代替：到期前1天",
                 "superseded by a later reminder: 1 days before the due date", id="superseded"),
    pytest.param(custody_ended, {"custody_ended"}, "托管已终止：不再提醒", "custody ended: no reminders",
                 id="custody-ended"),
    pytest.param(watch_only, {"watch_only"}, "仅监控专利：不发年费提醒", "watch-only patent: no fee reminders",
                 id="watch-only"),
    pytest.param(abandoned, {"abandoned"}, "企业已决定放弃：第9年放弃（张三 于 2025-04-19 决定）",
                 "abandoned by the enterprise: abandon year 9 (decided 2025-04-19 by 张三)", id="abandoned-now"),
    pytest.param(too_late, {"too_late_fee", "nothing_left"}, "为时已晚：该年费已不能缴纳",
                 "too late: the fee can no longer be paid", id="too-late"),
    pytest.param(facts_refused, {"facts_refused"}, "费用信息有误：申请日 2018-04-25 晚于申请号",
                 "fee facts refused: filing date 2018-04-25",
                 id="fee-facts-refused"),
    pytest.param(consent_withdrawn, {"consent_withdrawn"}, "联系人已撤回邮件同意或更换了地址",
                 "the contact withdrew consent for email or changed the address", id="consent-withdrawn"),
    pytest.param(channel_disabled, {"not_enabled", "fallback_duplicate"}, "短信无法发送（未启用）",
                 "SMS cannot send (not enabled)", id="channel-disabled-and-fallback"),
]


def _english_words(text: str) -> list[str]:
    """ASCII words in a Chinese text, apart from message keys (custody-12) and masked addresses."""
    return re.findall(r"[A-Za-z]{2,}", re.sub(r"custody-\d+|\S*\*+\S*", "", text))


def _shown(engine: Engine, patent_id: int) -> tuple[list[str], list[str]]:
    """What `remind list` shows in its `last` column for cancelled messages, and `patent history`'s cancelled rows."""
    with Session(engine) as session:
        listed = [r["last"] for r in reminder_rows(session, "cancelled", None, 100)]
        history = [r["detail"] for r in history_rows(session, patent_id) if r["what"] == "reminder: cancelled"]
    return listed, history


def _stored_codes(engine: Engine) -> set[str | None]:
    with Session(engine) as session:
        texts = [*session.execute(sa.select(Reminder.cancel_reason).where(Reminder.state == "cancelled")).scalars(),
                 *session.execute(sa.select(ReminderItem.cancel_reason)
                                  .where(ReminderItem.state == "cancelled")).scalars()]
    return {reason_code(t) for t in texts}


@pytest.mark.parametrize(("path", "codes", "zh", "en"), PATHS)
def test_a_cancelled_reminder_says_why_in_the_operators_language(engine: Engine, language, path, codes, zh,
                                                                  en) -> None:
    patent_id = path(engine)
    assert _stored_codes(engine) == codes  # stored as codes, not as the words of the moment
    language("zh")
    listed, history = _shown(engine, patent_id)
    assert listed and history
    assert any(zh in text for text in history), history  # (a message emptied by a sweep: "nothing left to say")
    for text in [*listed, *history]:
        assert _english_words(text) == [], text
    language("en")
    listed, history = _shown(engine, patent_id)
    assert any(en in text for text in history), history
    assert not any(re.search(r"[\u4e00-\u9fff]", text.replace("张三", "")) for text in listed), listed


def test_the_fallbacks_duplicate_says_which_message_carries_the_fee(engine: Engine, language) -> None:
    channel_disabled(engine)
    [fallback] = [m for m in outbox(engine) if m.fallback_of is not None]
    [own] = [m for m in outbox(engine, channel="email") if m.fallback_of is None]
    assert read_reason(own.cancel_reason) == reason("fallback_duplicate", message=fallback.id)
    language("zh")
    assert shown_reason(own.cancel_reason) == f"重复：已由备用提醒 custody-{fallback.id} 发送"
    language("en")
    assert shown_reason(own.cancel_reason) == f"duplicate: carried by the fallback custody-{fallback.id}"


def test_rows_written_before_reasons_were_codes_still_read(engine: Engine, language) -> None:
    patent_id = older_rows(engine)
    language("zh")
    listed, history = _shown(engine, patent_id)
    assert sorted(listed) == ["托管已终止：不再提醒", "运营人员手工取消"]  # a text no code knows: as stored
    assert any("（已由更晚一级提醒代替：到期前1天）" in text for text in history)
    assert any("（托管已终止：不再提醒）" in text for text in history)
    language("en")
    listed, history = _shown(engine, patent_id)
    assert sorted(listed) == ["custody ended: no reminders", "运营人员手工取消"]
    assert any("(superseded by a later reminder: 1 days before the due date)" in text for text in history)
    assert any("(custody ended: no reminders)" in text for text in history)


def test_a_missing_delivery_receipt_is_worded_when_listed(engine: Engine, language) -> None:
    planned_world(engine)
    with engine.begin() as connection:
        connection.execute(sa.update(Reminder).where(Reminder.channel == "sms")
                           .values(state="sent", sent_at=at("2025-04-18", "10:01")))
    with session_for(engine) as session:
        assert mark_no_receipt(session, "sms", at("2025-04-22"), fast_settings()) == 1
    language("zh")
    with Session(engine) as session:
        [row] = reminder_rows(session, "sent", None, 10)
    assert row["last"] == "local.NO_RECEIPT 72 小时内未收到送达回执" and row["reason_code"] == "no_receipt"
    language("en")
    with Session(engine) as session:
        [row] = reminder_rows(session, "sent", None, 10)
    assert row["last"] == "local.NO_RECEIPT no delivery receipt within 72 h"


# ---------------------------------------------------------------------------------------------- the table


@pytest.mark.parametrize(("stored", "code", "zh", "en"), [
    pytest.param('{"reason":"paid"}', "paid", "年费已缴纳", "the fee was paid", id="json"),
    pytest.param("paid", "paid", "年费已缴纳", "the fee was paid", id="older-english"),
    pytest.param("superseded by before_due_sms:due-1", "superseded", "已由更晚一级提醒代替：到期前1天",
                 "superseded by a later reminder: 1 days before the due date", id="older-raw-tier"),
    pytest.param("duplicate: already sent in custody-12", "duplicate_sent", "重复：已在 custody-12 中发出",
                 "duplicate: already sent in custody-12", id="older-with-a-field"),
    pytest.param("nothing left to say", "nothing_left", "无需再发：其中已无待提醒的年费", "nothing left to say",
                 id="older-fixed-prefix-of-another"),
    pytest.param("ended (expired, 2024-01-01): reminders stopped, history kept", "ended",
                 "已终止（期满终止，2024-01-01）：提醒停止，历史保留",
                 "ended (expired, 2024-01-01): reminders stopped, history kept", id="older-ended-kind"),
    pytest.param("the enterprise asked for no SMS", "no_sms", "企业要求不发短信", "the enterprise asked for no SMS",
                 id="older-opt-out"),
    pytest.param("email refused this person for good (custody-7): the operator was asked to call", "unreachable",
                 "邮件永久无法送达此人（custody-7）：已请运营人员电话联系",
                 "email refused this person for good (custody-7): the operator was asked to call",
                 id="older-unreachable"),
    pytest.param("no delivery receipt within 24 h", "no_receipt", "24 小时内未收到送达回执",
                 "no delivery receipt within 24 h", id="older-last-error"),
    pytest.param("托管已终止：不再提醒", "custody_ended", "托管已终止：不再提醒", "custody ended: no reminders",
                 id="older-written-in-chinese"),
    pytest.param("550 5.1.1 Mailbox does not exist", None, "550 5.1.1 Mailbox does not exist",
                 "550 5.1.1 Mailbox does not exist", id="a-providers-answer-as-it-is"),
    pytest.param(None, None, "", "", id="none"),
])
def test_a_stored_reason_reads_in_each_language(stored, code, zh, en) -> None:
    assert reason_code(stored) == code
    assert (shown_reason(stored, "zh"), shown_reason(stored, "en")) == (zh, en)


def test_every_reason_has_its_chinese_and_no_english_word_left() -> None:
    samples = {"tier": "before_due:due-1", "channel": "sms", "how": "expired", "day": "2025-04-01",
               "text": {"choice": "abandon", "year": 9, "day": "2025-04-01", "by": "张三", "note": None}}
    for code in REASONS:
        fields = {name: samples.get(name, "1") for name in re.findall(r"\{(\w+)\}", REASONS[code])}
        said = Reason(code, fields).worded("zh")
        assert said != Reason(code, fields).worded("en") and _english_words(said) == [], (code, said)


def test_a_reason_round_trips_through_its_column() -> None:
    why = reason("ended", how="expired", day=date(2024, 1, 1))
    assert why.stored() == '{"day":"2024-01-01","how":"expired","reason":"ended"}'
    assert read_reason(why.stored()) == why
    with pytest.raises(ValueError, match="unknown reason code"):
        reason("no such code")


# ---------------------------------------------------------------------------------------------- the commands


def _config(tmp_path, db_url: str, language: str) -> str:
    path = tmp_path / f"config-{language}.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n[general]\nlanguage = "{language}"\n'
                    f'log_file = "{tmp_path / "custody.log"}"\n[outbox]\ndir = "{tmp_path / "outbox"}"\n',
                    encoding="utf-8")
    return str(path)


def _cli(capsys, *args: str) -> str:
    code = cli.run(list(args))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


@pytest.mark.parametrize(("language_", "said"), [("zh", "年费已缴纳"), ("en", "the fee was paid")])
def test_remind_list_and_patent_history_word_a_payments_cancellation(db_url: str, engine: Engine, tmp_path, capsys,
                                                                      monkeypatch, language, language_, said) -> None:
    monkeypatch.delenv("CUSTODY_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "240")  # the table's every column
    patent_id = paid(engine)
    with Session(engine) as session:
        number = session.get(Patent, patent_id).application_number
    config = _config(tmp_path, db_url, language_)
    listed = json.loads(_cli(capsys, "--config", config, "remind", "list", "--format", "json"))
    assert {(r["state"], r["last"], r["reason_code"]) for r in listed} == {("cancelled", said, "paid")}
    rows = list(csv.DictReader(io.StringIO(_cli(capsys, "--config", config, "remind", "list", "--format", "csv"))))
    assert {r["last"] for r in rows} == {said} and "reason_code" not in rows[0]  # the code is for scripts: JSON
    assert said in _cli(capsys, "--config", config, "remind", "list", "--state", "cancelled")
    history = _cli(capsys, "--config", config, "patent", "history", number, "--format", "json")
    assert said in history and '"reason"' not in history

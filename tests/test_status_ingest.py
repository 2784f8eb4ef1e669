"""Ingesting legal-status records into the database, on SQLite and PostgreSQL: every status of the issue on the
known portfolio, duplicates and unknown statuses, each effect as the reminders gate (issue 4) then sees it, the
history that answers "why", pledgee alerts, watch digests and the drop folder."""
from __future__ import annotations

import os
import shutil
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from custody.eligibility import reminder_block_reason
from custody.fees import fee_schedule, first_unpaid
from custody.models import Contact, Patent, PatentChange
from custody.models.reminders import Reminder, ReminderItem
from custody.models.status import StatusEffect, StatusEvent
from custody.reasons import read_reason, reason, shown_reason
from custody.reminder_settings import ReminderSettings
from custody.ruleset import default_rules
from custody.status_vocab import StatusBatch, StatusRecord
from custody.store.calendar import calendar_from
from custody.store.patents import facts_of
from custody.store.reports import enterprise_by_code
from custody.store.standing import standings
from custody.store.status import history, ingest, watch_state
from custody.store.status_notices import plan_pledgee_alerts, plan_watch_digests
from custody.store.status_transfer import confirm_transfer
from importers.status_file import read_status_file
from scheduler.status_tick import StatusWiring, sync_drop_folder, sync_source
from tests.test_status_portfolio import (
    NOW,
    P1,
    P2,
    P3,
    P4,
    P5,
    RESTORED,
    SPARE,
    TODAY,
    UNPLEDGED,
    A,
    B,
    build_portfolio,
)

DATA = Path(__file__).parent / "data" / "status"
RULES = default_rules()


def _ingest(session: Session, batch: StatusBatch):
    result = ingest(session, batch, RULES, calendar_from(session), NOW)
    session.commit()
    return result


@pytest.fixture
def synced(session: Session) -> tuple[dict[str, Patent], object]:
    """The portfolio with its spare and lifecycle patents, after status-all.csv was applied once."""
    patents = build_portfolio(session, spares=True, lifecycle=True)
    return patents, _ingest(session, read_status_file(DATA / "status-all.csv"))


def _batch(*records: StatusRecord) -> StatusBatch:
    return StatusBatch("test", records)


def _gate(session: Session, patent: Patent, kind: str = "fee", day: date = TODAY) -> str | None:
    standing = standings(session, {patent.id: (patent.mode, patent.enterprise_id)}, {})[patent.id]
    return reminder_block_reason(standing, kind, day)


def test_every_status_is_recorded_once_and_the_rest_reported(session: Session, synced) -> None:
    _, result = synced
    assert (result.records, len(result.new_events), result.duplicates) == (26, 23, 2)
    assert [(u["application_number"], u["status"]) for u in result.unknown] == [(P1, "专利权人请求更正")]
    assert [(u["application_number"], u["location"]) for u in result.unmatched] == [
        ("202210000099.X", "status-all.csv:21")]
    kinds = set(session.exec(select(StatusEvent.kind)).all())
    assert kinds == {"publication", "examination", "grant", "lapse_nonpayment", "termination", "pledge_registered",
                     "pledge_cancelled", "licence_recorded", "invalidated_full", "invalidated_partial", "abandoned",
                     "abandoned_double", "owner_change", "expired", "transfer", "restoration", "unknown"}


def test_syncing_the_same_file_again_changes_nothing(session: Session, synced) -> None:
    effects_before = session.exec(select(func.count()).select_from(StatusEffect)).one()
    again = _ingest(session, read_status_file(DATA / "status-all.csv"))
    assert (len(again.new_events), again.duplicates, again.effects) == (0, 25, [])
    assert session.exec(select(func.count()).select_from(StatusEffect)).one() == effects_before


def test_the_same_event_from_another_source_is_the_same_event(session: Session, synced) -> None:
    again = _ingest(session, _batch(StatusRecord(P3, date(2025, 5, 6), "专利权的终止", "未缴年费专利权终止", "feed#0")))
    assert (len(again.new_events), again.duplicates) == (0, 1)


def test_each_change_is_recorded_with_its_date_and_source(session: Session, synced) -> None:
    patents, _ = synced
    session.refresh(patents[P3])
    assert (patents[P3].legal_status, patents[P3].legal_status_date) == ("未缴年费专利权终止", date(2025, 5, 6))
    event = session.exec(select(StatusEvent).where(StatusEvent.patent_id == patents[P3].id)).one()
    assert (event.source, event.location, event.is_current) == ("file:status-all.csv", "status-all.csv:5", True)


@pytest.mark.parametrize(("number", "kind", "blocked"), [
    pytest.param(P3, "fee", "terminated for non-payment (notice 2025-05-06)", id="lapse-stops-fee-reminders"),
    pytest.param(P3, "lapse", None, id="lapse-lets-restoration-reminders-through"),
    pytest.param(P4, "lapse", "the restoration window closed on 2023-12-11", id="closed-window-stops-restoration"),
    pytest.param(SPARE[0], "fee", "ended (termination, 2025-06-01)", id="termination-without-reason"),
    pytest.param(SPARE[3], "fee", "ended (invalidated_full, 2025-02-02)", id="invalidated-in-full"),
    pytest.param(SPARE[4], "fee", None, id="invalidated-in-part-keeps-reminders"),
    pytest.param(SPARE[5], "fee", "ended (abandoned, 2025-04-01)", id="abandoned"),
    pytest.param(SPARE[6], "fee", "ended (abandoned_double, 2025-04-02)", id="abandoned-against-double-patenting"),
    pytest.param(SPARE[8], "fee", "ended (expired, 2025-01-15)", id="expired"),
    pytest.param(SPARE[9], "fee", "held: transfer to 上海丁有限公司 (2025-06-10)", id="transfer-holds"),
    pytest.param(SPARE[7], "fee", None, id="name-change-keeps-reminders"),
    pytest.param(SPARE[2], "fee", None, id="licence-keeps-reminders"),
    pytest.param(P2, "fee", None, id="pledge-keeps-reminders"),
    pytest.param(P1, "fee", None, id="unknown-status-keeps-reminders"),
    pytest.param(P5, "fee", "watch-only patent: no fee reminders", id="watch-only"),
    pytest.param(RESTORED, "fee", None, id="restoration-resumes-fee-reminders"),
    pytest.param(UNPLEDGED, "fee", None, id="pledge-cancellation-keeps-fee-reminders"),
])
def test_each_effect_reaches_the_reminders_gate(session: Session, synced, number: str, kind: str,
                                                blocked: str | None) -> None:
    patents, _ = synced
    reason = _gate(session, patents[number], kind)
    assert reason == blocked if blocked is None else reason.startswith(blocked)


# The statuses issue 5 lists, as written in status-all.csv ("专利权的无效宣告" twice: in full and in part).
ISSUE_STATUSES = {
    "授权", "未缴年费专利权终止", "专利权的终止", "专利权的恢复", "专利申请权、专利权的转移",
    "专利权质押合同登记的生效", "专利权质押合同登记的注销", "专利实施许可合同备案的生效", "专利权的无效宣告",
    "专利权的无效宣告（部分）", "专利权的主动放弃", "避免重复授权放弃专利权", "专利权人的姓名或者名称、地址的变更",
    "期限届满",
}


def test_every_status_the_issue_lists_is_read_from_a_real_file() -> None:
    statuses = {r.status for r in read_status_file(DATA / "status-all.csv").records}
    assert ISSUE_STATUSES <= statuses


def _codes_of(result, number: str) -> list[str]:
    return [e["code"] for e in result.effects if e["application_number"] == number]


def test_a_lapse_then_a_restoration_from_the_file_resumes_fee_reminders(session: Session, synced) -> None:
    patents, result = synced
    # The notice of 2024-11-15 left until 2025-01-15 to restore (closed by today); the restoration came on
    # 2025-01-10: restoring took the year 5 fee (with its late fee and the restoration fee), which our records
    # still missed.
    assert _codes_of(result, RESTORED) == ["status_changed", "fee_reminders_stopped", "restoration_window_closed",
                                           "status_changed", "fee_reminders_resumed", "fee_paid_by_restoration"]
    state = watch_state(session, patents[RESTORED].id)
    assert (state.lapsed_on, state.restore_by, state.ended) == (None, None, None)
    session.refresh(patents[RESTORED])
    assert patents[RESTORED].paid_through == 5


def test_a_standalone_pledge_cancellation_from_the_file_clears_the_pledgee(session: Session, synced) -> None:
    patents, result = synced
    assert _codes_of(result, UNPLEDGED) == ["status_changed", "pledgee_recorded", "status_changed",
                                            "pledgee_cleared"]
    assert watch_state(session, patents[UNPLEDGED].id).pledgee is None
    # In its grace period, but no longer pledged: its pledgee hears nothing.
    planned = plan_pledgee_alerts(session, RULES, calendar_from(session), TODAY, NOW)
    assert UNPLEDGED not in {p["application_number"] for p in planned}


def test_a_name_change_updates_the_owner_on_record(session: Session, synced) -> None:
    patents, _ = synced
    session.refresh(patents[SPARE[7]])
    assert patents[SPARE[7]].owners == "福州甲智能科技有限公司"


def test_restoration_after_a_lapse_resumes_fee_reminders(session: Session, synced) -> None:
    patents, _ = synced
    result = _ingest(session, _batch(StatusRecord(P3, date(2025, 6, 20), "专利权的恢复", "", "later.csv:2")))
    assert [e["code"] for e in result.effects] == ["status_changed", "fee_reminders_resumed",
                                                   "fee_paid_by_restoration"]
    assert _gate(session, patents[P3]) is None
    # The lapsed year 11 was paid with the restoration: the fee engine goes on with year 12, and the audit trail
    # says where the paid-through year came from.
    session.refresh(patents[P3])
    schedule = fee_schedule(facts_of(session, patents[P3]), RULES, calendar_from(session))
    assert (patents[P3].paid_through, first_unpaid(schedule).year) == (11, 12)
    change = session.exec(select(PatentChange).where(PatentChange.patent_id == patents[P3].id)).one()
    assert (change.field, change.old_value, change.new_value, change.source) == ("paid_through", "10", "11",
                                                                                "status:test")


def test_an_older_event_reported_late_is_history_and_undoes_nothing(session: Session, synced) -> None:
    patents, _ = synced
    result = _ingest(session, _batch(StatusRecord(P3, date(2018, 3, 1), "专利权的恢复", "", "old.csv:2")))
    assert [e["code"] for e in result.effects] == ["history_only"]
    assert watch_state(session, patents[P3].id).lapsed_on == date(2025, 5, 6)
    session.refresh(patents[P3])
    assert patents[P3].legal_status == "未缴年费专利权终止"


TERMINATED = StatusRecord(P3, date(2025, 5, 6), "未缴年费专利权终止", "", "a.csv:2")
RESTORED_P3 = StatusRecord(P3, date(2025, 6, 1), "专利权的恢复", "", "b.csv:2")
PLEDGED_P3 = StatusRecord(P3, date(2025, 6, 10), "专利权质押合同登记的生效", "质权人：招商银行股份有限公司福州分行",
                          "c.csv:2")


@pytest.mark.parametrize("order", [
    pytest.param((TERMINATED, RESTORED_P3, PLEDGED_P3), id="in-announcement-order"),
    pytest.param((PLEDGED_P3, RESTORED_P3, TERMINATED), id="newest-first"),
    pytest.param((RESTORED_P3, TERMINATED, PLEDGED_P3), id="restoration-before-its-termination"),
    pytest.param((TERMINATED, PLEDGED_P3, RESTORED_P3), id="restoration-after-a-later-pledge"),
])
def test_events_reported_in_any_order_leave_the_state_of_the_latest(session: Session, order) -> None:
    patents = build_portfolio(session)
    for record in order:
        _ingest(session, _batch(record))
    state = watch_state(session, patents[P3].id)
    # Terminated, restored (paying year 11), then pledged: in force and pledged, whatever order the files came in.
    assert (state.lapsed_on, state.restore_by, state.pledgee) == (None, None, "招商银行股份有限公司福州分行")
    assert _gate(session, patents[P3]) is None
    session.refresh(patents[P3])
    assert (patents[P3].paid_through, patents[P3].legal_status) == (11, "专利权质押合同登记的生效")


def test_a_late_termination_is_replayed_and_stops_fee_reminders(session: Session) -> None:
    patents = build_portfolio(session)
    _ingest(session, _batch(PLEDGED_P3))
    result = _ingest(session, _batch(TERMINATED))
    assert [e["code"] for e in result.effects] == ["events_replayed"]
    assert result.effects[0]["message"].startswith(
        "older than the latest known event (2025-06-10): every event replayed in announcement order: pledged to "
        "招商银行股份有限公司福州分行 → lapsed (notice 2025-05-06), pledged to")
    assert _gate(session, patents[P3]).startswith("terminated for non-payment")


def test_a_confirmed_transfer_stays_confirmed_when_an_older_event_is_replayed(session: Session, synced) -> None:
    patents, _ = synced
    moved = patents[SPARE[9]]
    confirm_transfer(session, moved, "张三", TODAY)
    session.commit()
    _ingest(session, _batch(StatusRecord(SPARE[9], date(2024, 1, 5), "专利实施许可合同备案的生效", "", "old.csv:2")))
    assert watch_state(session, moved.id).transfer_to is None and _gate(session, moved) is None


def _planned_item(session: Session, patent: Patent, kind: str = "fee", year: int = 6) -> ReminderItem:
    reminder = Reminder(key=f"test:{patent.id}:{kind}", kind=kind, channel="email", recipient="zhang@a.example",
                        enterprise_id=patent.enterprise_id, day=TODAY, not_before=NOW)
    session.add(reminder)
    session.flush()
    item = ReminderItem(reminder_id=reminder.id, patent_id=patent.id, fee_year=year, tier="t:due-30",
                        channel="email", recipient="zhang@a.example", kind=kind, due_date=date(2025, 1, 13),
                        fee=Decimal(1200), full_fee=Decimal(1200), late_fee=Decimal(0), late_fee_rate=Decimal(0),
                        pay_by=date(2025, 7, 14))
    session.add(item)
    session.commit()
    return item


def test_planned_reminders_are_cancelled_at_once_when_a_patent_ends_or_is_held(session: Session) -> None:
    patents = build_portfolio(session, spares=True)
    ended, held = _planned_item(session, patents[SPARE[3]]), _planned_item(session, patents[SPARE[9]])
    lapse = _planned_item(session, patents[P3], "lapse", 11)
    _ingest(session, read_status_file(DATA / "status-all.csv"))
    for item in (ended, held, lapse):
        session.refresh(item)
    assert (ended.state, read_reason(ended.cancel_reason)) == (
        "cancelled", reason("ended", how="invalidated_full", day=date(2025, 2, 2)))
    assert shown_reason(ended.cancel_reason) == "ended (invalidated_full, 2025-02-02): reminders stopped, history kept"
    assert held.state == "cancelled" and shown_reason(held.cancel_reason).startswith("held: transfer to 上海丁有限公司")
    assert lapse.state == "planned"  # the restoration reminder a lapse calls for stays


def test_confirming_a_transfer_records_the_new_owner_and_contacts_then_releases_the_hold(session: Session,
                                                                                       synced) -> None:
    patents, _ = synced
    moved = patents[SPARE[9]]
    effects = confirm_transfer(session, moved, "张三", TODAY, enterprise_by_code(session, B))
    session.commit()
    assert [e.code for e in effects] == ["enterprise_changed", "owner_updated", "transfer_confirmed"]
    assert effects[1].message == "owner: 福州甲科技有限公司 → 上海丁有限公司 (confirmed by 张三)"
    assert effects[2].message.endswith(f"owner 上海丁有限公司; reminders released to 深圳乙电子有限公司 ({B}), "
                                       f"contacts 王五 (patent contact)")
    session.refresh(moved)
    assert (moved.owners, moved.enterprise_id) == ("上海丁有限公司", enterprise_by_code(session, B).id)
    assert _gate(session, moved) is None
    change = session.exec(select(PatentChange).where(PatentChange.patent_id == moved.id)).one()
    assert (change.field, change.old_value, change.new_value) == ("owners", "福州甲科技有限公司", "上海丁有限公司")
    with pytest.raises(ValueError, match="no transfer is awaiting confirmation"):
        confirm_transfer(session, moved, "张三", TODAY)


def test_a_transfer_whose_record_names_no_new_owner_needs_one_to_be_confirmed(session: Session) -> None:
    patents = build_portfolio(session)
    _ingest(session, _batch(StatusRecord(P1, date(2025, 6, 10), "专利申请权、专利权的转移", "", "t.csv:2")))
    with pytest.raises(ValueError, match=r"the record does not name the new owner: give it \(--owner\)"):
        confirm_transfer(session, patents[P1], "张三", TODAY)
    confirm_transfer(session, patents[P1], "张三", TODAY, owner="厦门戊有限公司")
    assert patents[P1].owners == "厦门戊有限公司" and _gate(session, patents[P1]) is None


def test_a_transfer_cannot_be_released_to_an_enterprise_without_contacts(session: Session, synced) -> None:
    patents, _ = synced
    enterprise = enterprise_by_code(session, A)
    for contact in session.exec(select(Contact).where(Contact.enterprise_id == enterprise.id)):
        session.delete(contact)
    session.flush()
    with pytest.raises(ValueError, match="has no contacts: add them before releasing the hold"):
        confirm_transfer(session, patents[SPARE[9]], "张三", TODAY)


def test_history_says_what_happened_and_why(session: Session, synced) -> None:
    patents, _ = synced
    _planned_item(session, patents[P3], "lapse", 11)
    rows = history(session, patents[P3])
    assert [(r["date"], r["what"]) for r in rows] == [
        (date(2025, 5, 6), "event: lapse_nonpayment"),
        (TODAY, "effect: status_changed"), (TODAY, "effect: fee_reminders_stopped"),
        (TODAY, "effect: restoration_reminders_started"), (TODAY, "reminder: planned")]
    assert rows[0]["source"] == "file:status-all.csv (status-all.csv:5)"
    assert "cause: 未缴年费专利权终止 announced 2025-05-06, status-all.csv:5" in rows[3]["detail"]
    assert "z***@a.example" in rows[4]["detail"] and "zhang@" not in rows[4]["detail"]


def test_history_shows_each_reminder_state_with_its_reason_next_to_its_cause(session: Session, synced) -> None:
    patents, _ = synced
    _planned_item(session, patents[P3], "restore", 11)
    failed = _planned_item(session, patents[P3], "fee", 12)
    reminder = session.get(Reminder, failed.reminder_id)
    reminder.state, reminder.last_error, reminder.updated_at = "failed", "550 no mailbox zhang@a.example", NOW
    session.commit()
    # The enterprise gives the patent up: what is still planned is cancelled, with the abandonment as the reason.
    _ingest(session, _batch(StatusRecord(P3, date(2025, 6, 10), "专利权的主动放弃", "", "later.csv:2")))
    rows = {r["detail"].split(" reminder ")[0]: r for r in history(session, patents[P3])
            if r["what"].startswith("reminder")}
    restore, fee = rows["year 11 restore"], rows["year 12 fee"]
    assert (restore["date"], restore["what"], restore["source"]) == (
        TODAY, "reminder: cancelled", "cause: 未缴年费专利权终止 announced 2025-05-06 (status-all.csv:5)")
    assert restore["detail"].endswith(": cancelled (ended (abandoned, 2025-06-10): reminders stopped, history kept)")
    assert (fee["date"], fee["what"], fee["source"]) == (TODAY, "reminder: failed", "cause: year 12 fee due 2025-01-13")
    assert fee["detail"].endswith(": failed (550 no mailbox z***@a.example)")


def test_the_pledgee_is_alerted_once_when_a_pledged_patent_is_in_grace(session: Session, synced) -> None:
    patents, _ = synced
    first = plan_pledgee_alerts(session, RULES, calendar_from(session), TODAY, NOW)
    again = plan_pledgee_alerts(session, RULES, calendar_from(session), TODAY, NOW)
    session.commit()
    # P2 is pledged and in grace; SPARE[1] is in grace too but its pledge was cancelled.
    assert (first, again) == ([{"application_number": P2, "year": 6, "channel": "email",
                                "contact": "招商银行 李经理"}], [])
    alert = session.exec(select(Reminder).where(Reminder.key.startswith("pledgee:"))).one()
    assert (alert.kind, alert.recipient, alert.state) == ("alert", "li@bank.example", "planned")
    assert "2025-09-10前缴纳（今日应缴 1380.00 元，含滞纳金 180.00 元）" in alert.body
    effect, reminder = history(session, patents[P2])[-2:]
    assert (effect["what"], reminder["what"]) == ("effect: pledgee_alerted", "reminder: planned")
    assert reminder["detail"] == "pledge alert by email to 招商银行 李经理: planned"
    assert reminder["source"] == "cause: 专利权质押合同登记的生效 announced 2024-09-01 (status-all.csv:8)"


def _add_contact(session: Session, code: str, name: str, email: str, role: str = "pledgee") -> None:
    session.add(Contact(enterprise_id=enterprise_by_code(session, code).id, name=name, role=role, email=email))
    session.commit()


def test_the_pledgee_alert_goes_only_to_the_contact_of_the_bank_on_record(session: Session, synced) -> None:
    _add_contact(session, A, "中国银行 王经理", "wang@boc.example")  # A's other bank: P2 is not pledged to it
    plan_pledgee_alerts(session, RULES, calendar_from(session), TODAY, NOW)
    session.commit()
    alerts = session.exec(select(Reminder).where(Reminder.key.startswith("pledgee:"))).all()
    assert [a.recipient for a in alerts] == ["li@bank.example"]


def test_without_a_contact_for_the_pledgee_the_operator_is_alerted_instead(session: Session, synced) -> None:
    patents, _ = synced
    contact = session.exec(select(Contact).where(Contact.role == "pledgee")).one()
    contact.name = "中国银行 王经理"  # the only pledgee contact speaks for another bank
    session.commit()
    first = plan_pledgee_alerts(session, RULES, calendar_from(session), TODAY, NOW, settings=ReminderSettings())
    again = plan_pledgee_alerts(session, RULES, calendar_from(session), TODAY, NOW, settings=ReminderSettings())
    session.commit()
    assert (first, again) == ([{"application_number": P2, "year": 6, "channel": "webhook", "contact": "operator"}],
                              [])
    assert session.exec(select(Reminder).where(Reminder.key.startswith("pledgee:"))).all() == []
    alert = session.exec(select(Reminder).where(Reminder.key.startswith("alert:pledgee-unmatched:"))).one()
    assert (alert.recipient, alert.channel) == ("operator", "webhook")
    assert "没有质权人「招商银行股份有限公司福州分行」的联系人" in alert.subject and P2 in alert.body
    last, reminder = history(session, patents[P2])[-2:]
    assert last["what"] == "effect: operator_review" and "no pledgee contact matches" in last["detail"]
    assert reminder["detail"] == "pledge alert by webhook to operator: planned"


def test_a_pledge_cancellation_cancels_the_pledgee_alert_not_sent_yet(session: Session, synced) -> None:
    patents, _ = synced
    plan_pledgee_alerts(session, RULES, calendar_from(session), TODAY, NOW)
    session.commit()
    result = _ingest(session, _batch(StatusRecord(P2, TODAY, "专利权质押合同登记的注销",
                                                  "质权人：招商银行股份有限公司福州分行", "later.csv:2")))
    assert _codes_of(result, P2) == ["status_changed", "pledgee_cleared", "pledgee_alert_cancelled"]
    alert = session.exec(select(Reminder).where(Reminder.key.startswith("pledgee:"))).one()
    session.refresh(alert)
    assert alert.state == "cancelled"
    assert shown_reason(alert.cancel_reason).startswith("pledge cancelled (专利权质押合同登记的注销")
    assert plan_pledgee_alerts(session, RULES, calendar_from(session), TODAY, NOW) == []


def test_cancelling_one_of_two_pledges_cancels_only_its_pledgee_alerts(session: Session, synced) -> None:
    patents, _ = synced
    session.add(Contact(enterprise_id=patents[P2].enterprise_id, name="中国银行 王经理", role="pledgee",
                        email="wang@boc.example"))
    session.commit()
    _ingest(session, _batch(StatusRecord(P2, date(2025, 5, 1), "专利权质押合同登记的生效",
                                         "质权人：中国银行股份有限公司", "second.csv:2")))
    planned = plan_pledgee_alerts(session, RULES, calendar_from(session), TODAY, NOW)
    session.commit()
    assert sorted(p["contact"] for p in planned) == ["中国银行 王经理", "招商银行 李经理"]
    result = _ingest(session, _batch(StatusRecord(P2, TODAY, "专利权质押合同登记的注销", "质权人：中国银行股份有限公司",
                                                  "later.csv:2")))
    assert _codes_of(result, P2) == ["status_changed", "pledgee_cleared", "pledgee_alert_cancelled"]
    states = {r.recipient: r.state for r in session.exec(select(Reminder).where(Reminder.key.startswith("pledgee:")))}
    assert states == {"wang@boc.example": "cancelled", "li@bank.example": "planned"}
    assert watch_state(session, patents[P2].id).pledgee == "招商银行股份有限公司福州分行"


def test_the_watching_enterprise_gets_one_digest_of_its_watched_patents(session: Session, synced) -> None:
    patents, _ = synced
    first = plan_watch_digests(session, TODAY, NOW)
    again = plan_watch_digests(session, TODAY, NOW)
    session.commit()
    assert (first, again) == ([{"enterprise": "北京丙信息有限公司", "events": 1, "recipients": 1}], [])
    digest = session.exec(select(Reminder).where(Reminder.key.startswith("digest:"))).one()
    assert digest.recipient == "zhao@c.example"
    assert f"- {P5}《@竞争对手的发明》 2025-06-12 专利申请权、专利权的转移（专利申请权、专利权的转移）" in digest.body
    assert history(session, patents[P5])[-1]["what"] == "effect: watch_digest_sent"


def test_a_digest_no_contact_can_receive_goes_to_the_operator(session: Session, synced) -> None:
    patents, _ = synced
    contact = session.exec(select(Contact).where(Contact.name == "赵六")).one()
    contact.consent_email = False  # the watching enterprise's only contact refused email
    session.commit()
    first = plan_watch_digests(session, TODAY, NOW, settings=ReminderSettings())
    again = plan_watch_digests(session, TODAY, NOW, settings=ReminderSettings())
    session.commit()
    assert (first, again) == ([{"enterprise": "北京丙信息有限公司", "events": 1, "recipients": 0}], [])
    assert session.exec(select(Reminder).where(Reminder.key.startswith("digest:"))).all() == []
    alert = session.exec(select(Reminder).where(Reminder.key.startswith("alert:digest-unreachable:"))).one()
    assert (alert.recipient, alert.channel) == ("operator", "webhook")
    assert "北京丙信息有限公司没有可接收的联系人" in alert.subject and P5 in alert.body
    assert history(session, patents[P5])[-1]["detail"].endswith("the operator was alerted instead")


def test_an_unrecognised_status_alerts_the_operator(engine: Engine, session: Session) -> None:
    build_portfolio(session, spares=True)
    result = sync_source(engine, lambda: read_status_file(DATA / "status-all.csv"), "file:status-all.csv", RULES,
                         NOW, ReminderSettings())
    assert len(result.unknown) == 1
    with Session(engine) as check:
        alert = check.exec(select(Reminder).where(Reminder.key.startswith("alert:status-unknown"))).one()
    assert "1条未识别的法律状态" in alert.subject and "专利权人请求更正" in alert.body


# ---------------------------------------------------------------------------------------------- drop folder


def _land(folder: Path, name: str, source: str | None = None, age: float = 60) -> Path:
    path = folder / name
    shutil.copy(DATA / (source or name), path)
    old = time.time() - age
    os.utime(path, (old, old))
    return path


def test_files_landing_in_the_drop_folder_are_applied_once_and_filed(engine: Engine, session: Session,
                                                                       tmp_path: Path) -> None:
    build_portfolio(session)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _land(inbox, "status-gbk.csv")
    _land(inbox, "status-bad.csv")
    _land(inbox, "~$status.xlsx", "status-export.xlsx")  # Excel's lock file
    _land(inbox, "copying.csv.part", "status-gbk.csv")
    _land(inbox, "fresh.csv", "status-gbk.csv", age=0)  # may still be being copied
    wiring = StatusWiring(lambda: [], read_status_file, inbox, settle_seconds=30)
    outcomes = sync_drop_folder(engine, wiring, RULES, NOW)
    assert {(o["file"], "error" in o) for o in outcomes} == {("status-bad.csv", True), ("status-gbk.csv", False)}
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == ["copying.csv.part", "fresh.csv",
                                                                        "~$status.xlsx"]
    assert [p.name.split("-", 2)[2] for p in (inbox / "done").iterdir()] == ["status-gbk.csv"]
    failed = sorted(p.name.split("-", 2)[2] for p in (inbox / "failed").iterdir())
    assert failed == ["status-bad.csv", "status-bad.csv.problems.txt"]
    problems = next((inbox / "failed").glob("*.problems.txt")).read_text(encoding="utf-8").splitlines()
    assert problems[0] == "status-bad.csv:3:公告日: '2025-13-45' is not a real date (month must be in 1..12)"
    assert len(problems) == 3
    with Session(engine) as check:
        assert check.exec(select(func.count()).select_from(StatusEvent)).one() == 2
    assert sync_drop_folder(engine, wiring, RULES, NOW) == []


def test_a_drop_folder_sync_moves_only_legal_status_exports(engine: Engine, session: Session,
                                                              tmp_path: Path) -> None:
    build_portfolio(session)
    folder = tmp_path / "custody-home"
    folder.mkdir()
    others = {"custody.sqlite3": b"SQLite format 3\x00", "config.toml": b"[general]\n", "notes.txt": b"x\n"}
    for name, data in others.items():
        (folder / name).write_bytes(data)
    _land(folder, "status-gbk.csv")
    outcomes = sync_drop_folder(engine, StatusWiring(lambda: [], read_status_file, folder, settle_seconds=0), RULES,
                                NOW)
    assert [(o["file"], "summary" in o) for o in outcomes] == [("status-gbk.csv", True)]
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == others
    assert [p.name.split("-", 2)[2] for p in (folder / "done").iterdir()] == ["status-gbk.csv"]
    assert not (folder / "failed").exists()

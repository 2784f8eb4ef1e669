"""A restoration restores, and a transfer re-checks the reduction (issue 10 points 2 and 3), as event sequences on
SQLite and PostgreSQL: legal-status records come in through the watch, the planner plans, and each test judges by
the planned outbox rows (which fee year, which tier kind, to whom), never by wording.

The patent: a utility model filed Tue 2018-05-15, granted in year 2, paid through year 5. Its year-6 fee (1200) was
due 2023-05-15, grace end Wed 2023-11-15; CNIPA's termination notice is dated 2024-01-10. The year-7 fee (1200)
falls due on the anniversary Wed 2024-05-15, grace end Fri 2024-11-15.
"""
from __future__ import annotations

import json
from datetime import date

import sqlalchemy as sa
from freezegun import freeze_time
from sqlalchemy import Engine

from custody.domain import PatentState, Reduction
from custody.fees import fee_schedule, patent_state, quote
from custody.models import Patent
from custody.ruleset import default_rules
from custody.status_vocab import StatusBatch, StatusRecord
from custody.store.db import session_for
from custody.store.patents import facts_of, set_reduction
from custody.store.status import decide
from custody.store.status_transfer import confirm_transfer
from custody.workdays import default_calendar
from scheduler.status_tick import sync_source
from scheduler.ticks import plan_now
from tests.test_import_rules import run  # noqa: F401 - the `run` fixture: the CLI on the test database
from tests.test_remind_world import add_enterprise, add_patent, at, fast_settings, items, ticks_for, world

NOTICE = date(2024, 1, 10)
YEAR7_DUE = date(2024, 5, 15)
OWNER = "福建测试科技有限公司"


def _patent(engine: Engine, number: str | None = None) -> Patent:
    def build(session):
        patent = add_patent(session, add_enterprise(session, OWNER), filed=date(2018, 5, 15), grant_year=2,
                            paid_through=5, type_="utility_model")
        if number is not None:  # a number with its true check character, as the CLI wants it
            patent.application_number = number
            session.flush()
        return patent
    return world(engine, build)


def _record(patent: Patent, day: date, status: str, detail: str = "", row: int = 2) -> StatusRecord:
    return StatusRecord(patent.application_number, day, status, detail, f"status.csv:{row}")


def _sync(engine: Engine, moment: str, *records: StatusRecord) -> set[str]:
    """The records applied by the watch at `moment` (Asia/Shanghai); returns the effect codes."""
    with freeze_time(moment):
        result = sync_source(engine, lambda: StatusBatch("file:status.csv", records), "file:status.csv",
                             default_rules(), at(moment[:10]))
    return {e["code"] for e in result.effects}


def _lapse(patent: Patent) -> StatusRecord:
    return _record(patent, NOTICE, "专利权的终止", "未缴年费专利权终止", row=2)


def _restoration(patent: Patent, day: date) -> StatusRecord:
    return _record(patent, day, "专利权的恢复", row=3)


def _plan(engine: Engine, day: str) -> None:
    with freeze_time(f"{day} 10:00:00+08:00"):
        plan_now(ticks_for(engine, {}, fast_settings(lapse_notice_days=60)))


def _planned(engine: Engine, patent: Patent) -> set[tuple[int, str, str]]:
    """(fee year, kind, recipient) of every item planned for the patent, sent or not."""
    return {(i.fee_year, i.kind, i.recipient) for i in items(engine, patent_id=patent.id)}


def _kinds(engine: Engine, patent: Patent, year: int) -> set[str]:
    return {kind for fee_year, kind, _ in _planned(engine, patent) if fee_year == year}


def _schedule(engine: Engine, patent: Patent):
    with session_for(engine) as session:
        return fee_schedule(facts_of(session, session.get(Patent, patent.id)), default_rules(), default_calendar())


# --- Restoration restores -----------------------------------------------------------------------------------


def test_restored_after_the_next_anniversary_the_back_fee_is_due_and_never_a_lapse_notice(engine: Engine) -> None:
    patent = _patent(engine)
    assert "restoration_reminders_started" in _sync(engine, "2024-01-12 09:00:00+08:00", _lapse(patent))
    _plan(engine, "2024-01-12")
    assert _kinds(engine, patent, 6) == {"lapse", "restore"}  # within lapse_notice_days of the grace end
    before = _planned(engine, patent)
    # Restored on 2024-05-28, after the year-7 anniversary: year 6 paid with the restoration, year 7 a back fee.
    assert "fee_paid_by_restoration" in _sync(engine, "2024-05-29 09:00:00+08:00",
                                              _restoration(patent, date(2024, 5, 28)))
    schedule = _schedule(engine, patent)
    year7 = schedule.year(7)
    # Due 2 months after the restoration (rules.restoration_back_fee_months): Sun 2024-07-28 -> Mon 07-29.
    assert (schedule.facts.paid_through, year7.due_date) == (6, date(2024, 7, 29))
    assert year7.check is not None and year7.citations["restoration_back_fee"].rule_id == "restoration.back_fees"
    for day in ("2024-05-29", "2024-11-20", "2025-02-20"):  # past year 7's old and new grace ends
        _plan(engine, day)
    assert _kinds(engine, patent, 7) == {"fee"}
    assert not {kind for _, kind, _ in _planned(engine, patent) - before} & {"lapse", "restore"}
    assert patent_state(schedule, date(2024, 11, 20)) == PatentState.IN_GRACE
    # custody pay accepts it: 1200 and, in the first month after its new deadline, no late fee.
    assert quote(schedule, date(2024, 8, 20), 7).total == 1200


def test_restored_before_the_next_anniversary_year_7_is_an_ordinary_fee(engine: Engine) -> None:
    patent = _patent(engine)
    _sync(engine, "2024-01-12 09:00:00+08:00", _lapse(patent))
    _plan(engine, "2024-01-12")
    before = _planned(engine, patent)
    _sync(engine, "2024-03-06 09:00:00+08:00", _restoration(patent, date(2024, 3, 5)))
    schedule = _schedule(engine, patent)
    assert (schedule.facts.paid_through, schedule.year(7).due_date, schedule.year(7).check) == (6, YEAR7_DUE, None)
    for day in ("2024-03-06", "2024-05-20", "2024-11-20"):
        _plan(engine, day)
    assert _kinds(engine, patent, 7) == {"fee"}
    # The year-7 grace ended unpaid on 2024-11-15: by our schedule the patent lapsed, but the latest event is the
    # restoration: no lapse notice until CNIPA says so.
    assert patent_state(schedule, date(2024, 11, 20)) == PatentState.LAPSED
    assert not {kind for _, kind, _ in _planned(engine, patent) - before} & {"lapse", "restore"}


def test_a_restoration_reported_before_the_termination_it_ended_still_wins(engine: Engine) -> None:
    patent = _patent(engine)
    _sync(engine, "2024-05-29 09:00:00+08:00", _restoration(patent, date(2024, 5, 28)))
    # The termination notice is backfilled afterwards: replayed in announcement order, the restoration is last.
    assert _sync(engine, "2024-05-30 09:00:00+08:00", _lapse(patent)) == {"history_only"}  # changes nothing
    schedule = _schedule(engine, patent)
    assert (schedule.facts.restored_on, schedule.year(7).due_date) == (date(2024, 5, 28), date(2024, 7, 29))
    for day in ("2024-05-30", "2025-02-20"):
        _plan(engine, day)
    planned = _planned(engine, patent)
    assert _kinds(engine, patent, 7) == {"fee"}
    assert not {kind for _, kind, _ in planned} & {"lapse", "restore"}


def test_a_lapse_after_the_restoration_is_a_lapse_again(engine: Engine) -> None:
    patent = _patent(engine)
    _sync(engine, "2024-01-12 09:00:00+08:00", _lapse(patent))
    _sync(engine, "2024-05-29 09:00:00+08:00", _restoration(patent, date(2024, 5, 28)))
    _sync(engine, "2025-03-03 09:00:00+08:00", _record(patent, date(2025, 3, 3), "专利权的终止",
                                                            "未缴年费专利权终止", row=4))
    assert _schedule(engine, patent).facts.restored_on is None
    _plan(engine, "2025-03-03")
    assert _kinds(engine, patent, 7) == {"restore"}


def test_restoring_a_patent_the_enterprise_had_abandoned_brings_its_fee_reminders_back(engine: Engine) -> None:
    patent = _patent(engine)
    with freeze_time("2023-06-01 10:00:00+08:00"), session_for(engine) as session:
        decide(session, session.get(Patent, patent.id), "abandon", 6, "张三", at("2023-06-01"), date(2023, 6, 1),
               default_rules(), default_calendar())
    _sync(engine, "2024-01-12 09:00:00+08:00", _lapse(patent))
    _sync(engine, "2024-05-29 09:00:00+08:00", _restoration(patent, date(2024, 5, 28)))
    _plan(engine, "2024-05-29")
    assert _kinds(engine, patent, 7) == {"fee"}


# --- A transfer re-checks the reduction ------------------------------------------------------------------------


def _transferred(engine: Engine, patent: Patent, new_owner: str) -> list:
    _sync(engine, "2024-02-02 09:00:00+08:00", _record(patent, date(2024, 2, 2), "专利权的转移",
                                                            f"变更前权利人:{OWNER} 变更后权利人:{new_owner}", row=5))
    with session_for(engine) as session:
        return confirm_transfer(session, session.get(Patent, patent.id), "operator", date(2024, 2, 5))


def test_a_confirmed_transfer_to_another_owner_quotes_the_full_fee_until_the_reduction_is_re_filed(
        engine: Engine) -> None:
    patent = world(engine, lambda s: add_patent(s, add_enterprise(s, OWNER), filed=date(2018, 5, 15),
                                                grant_year=2, paid_through=6, type_="utility_model"))
    with session_for(engine) as session:
        set_reduction(session, session.get(Patent, patent.id), Reduction.R70, None, "test")
    assert _schedule(engine, patent).year(7).fee == 360  # 30 % of 1200, co-owners
    effects = _transferred(engine, patent, "厦门新主人有限公司")
    assert "reduction_to_refile" in {e.code for e in effects}
    year7 = _schedule(engine, patent).year(7)
    assert (year7.fee, year7.reduction, year7.reduction_refile_on) == (1200, None, date(2024, 2, 5))
    _plan(engine, "2024-02-20")
    with session_for(engine) as session:
        reminded = {(i.fee_year, i.fee) for i in items(engine, patent_id=patent.id)}
        assert reminded == {(7, 1200)}
        # The new owner's own reduction, recorded by the operator: the wait ends.
        changes = set_reduction(session, session.get(Patent, patent.id), Reduction.R85, date(2024, 2, 10), "cli")
    assert {name for name, _, _ in changes} == {"reduction", "reduction_recorded_on", "reduction_refile_on"}
    year7 = _schedule(engine, patent).year(7)
    assert (year7.fee, year7.reduction, year7.reduction_refile_on) == (180, "85", None)


def test_a_name_change_keeps_the_reduction_a_transfer_before_it_had_put_to_re_file(engine: Engine) -> None:
    patent = world(engine, lambda s: add_patent(s, add_enterprise(s, OWNER), filed=date(2018, 5, 15),
                                                grant_year=2, paid_through=6, type_="utility_model"))
    with session_for(engine) as session:
        set_reduction(session, session.get(Patent, patent.id), Reduction.R85, None, "test")
    _sync(engine, "2024-03-01 09:00:00+08:00", _record(
        patent, date(2024, 3, 1), "专利权人的姓名或者名称、地址的变更",
        f"变更事项:专利权人 变更前权利人:{OWNER} 变更后权利人:福建新名称科技有限公司", row=6))
    assert _schedule(engine, patent).year(7).fee == 180  # same owner, new name: the reduction stands
    _transferred(engine, patent, "厦门新主人有限公司")
    assert _schedule(engine, patent).year(7).fee == 1200


def test_a_transfer_then_a_restoration_keeps_the_reduction_to_re_file(engine: Engine) -> None:
    patent = _patent(engine)
    with session_for(engine) as session:
        set_reduction(session, session.get(Patent, patent.id), Reduction.R85, None, "test")
    _sync(engine, "2024-01-12 09:00:00+08:00", _lapse(patent))
    _transferred(engine, patent, "厦门新主人有限公司")
    _sync(engine, "2024-05-29 09:00:00+08:00", _restoration(patent, date(2024, 5, 28)))
    year7 = _schedule(engine, patent).year(7)
    assert (year7.due_date, year7.fee, year7.reduction_refile_on) == (date(2024, 7, 29), 1200, date(2024, 2, 5))
    _plan(engine, "2024-05-29")
    assert {(i.fee_year, i.kind, i.fee) for i in items(engine, patent_id=patent.id) if i.fee_year == 7} == {
        (7, "fee", 1200)}


# --- The operator's commands ------------------------------------------------------------------------------------


def test_custody_pay_accepts_the_back_fee_of_a_restored_patent(run, engine: Engine) -> None:  # noqa: F811
    patent = _patent(engine, "201820556677.7")
    _sync(engine, "2024-01-12 09:00:00+08:00", _lapse(patent))
    _sync(engine, "2024-05-29 09:00:00+08:00", _restoration(patent, date(2024, 5, 28)))
    code, out, err = run("pay", patent.application_number, "--year", "7", "--paid-on", "2024-08-20")
    assert (code, err) == (0, "")
    assert f"recorded 1200.00 yuan for year 7 of {patent.application_number}" in out
    assert _schedule(engine, patent).facts.paid_through == 7


def test_patent_set_records_the_new_owners_reduction_and_audits_it(run, engine: Engine) -> None:  # noqa: F811
    patent = _patent(engine, "201820556677.7")
    with session_for(engine) as session:
        set_reduction(session, session.get(Patent, patent.id), Reduction.R70, None, "test")
    _transferred(engine, patent, "厦门新主人有限公司")
    code, out, _ = run("patent", "set", patent.application_number, "--reduction", "85", "--recorded", "2024-02-10")
    assert code == 0 and "reduction to re-file since: 2024-02-05 → —" in out
    with engine.connect() as conn:
        audited = set(conn.execute(sa.text("SELECT field, old_value, new_value FROM patent_change "
                                           "WHERE patent_id = :p AND source LIKE 'cli:%'"), {"p": patent.id}))
    assert audited == {("reduction", "70", "85"), ("reduction_recorded_on", None, "2024-02-10"),
                       ("reduction_refile_on", "2024-02-05", None)}
    assert run("patent", "set", patent.application_number, "--reduction", "85", "--recorded",
               "2024-02-10")[1].endswith("nothing changed\n")
    code, _, err = run("patent", "set", patent.application_number, "--reduction", "50")
    assert code == 2 and err.startswith("Error: --reduction must be 85, 70 or none")


def test_the_reports_show_the_back_fee_and_the_reduction_to_re_file(run, engine: Engine) -> None:  # noqa: F811
    patent = _patent(engine, "201820556677.7")
    with session_for(engine) as session:
        set_reduction(session, session.get(Patent, patent.id), Reduction.R70, None, "test")
    _sync(engine, "2024-01-12 09:00:00+08:00", _lapse(patent))
    _transferred(engine, patent, "厦门新主人有限公司")
    _sync(engine, "2024-05-29 09:00:00+08:00", _restoration(patent, date(2024, 5, 28)))
    code, out, _ = run("report", "due", "--as-of", "2024-06-01", "--format", "json")
    [row] = [r for r in json.loads(out)["rows"] if r["application_number"] == patent.application_number]
    assert code == 0 and (row["year"], row["due_date"], row["fee"]) == (7, "2024-07-29", 1200)
    assert row["flag"] == "due with the restoration — check"
    assert row["reduction"] == "to re-file since 2024-02-05: full fee"
    code, out, _ = run("patent", "show", patent.application_number, "--as-of", "2024-06-01", "--format", "json")
    view = json.loads(out)
    assert view["state"] == "in_force" and view["custody"]["reduction"] == row["reduction"]
    year7 = next(y for y in view["years"] if y["year"] == 7)
    assert year7["reduction_refile_on"] == "2024-02-05" and "restored 2024-05-28" in year7["restoration_check"]

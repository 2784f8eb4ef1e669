"""The reminder policy, pure: which tier is due for a fee on a day, catch-up after downtime, sending hours,
backoff, configuration, and the vectorised twin used for patent_due agreeing with the scalar rules."""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import numpy as np
import pytest

from custody.clock import SHANGHAI
from custody.config import ConfigError, load_config
from custody.models.core import CONTACT_ROLES
from custody.reminder_policy import FeeDates, due_events, next_fire_on, payment_terms, tier_events
from custody.reminder_settings import (
    CONTACT_ROLES as SETTINGS_ROLES,
)
from custody.reminder_settings import (
    DEFAULT_TIERS,
    ReminderSettings,
    RetryPolicy,
    SendWindow,
    reminder_settings,
)
from custody.store.due import next_fire_days

D = Decimal
RISES = ((date(2025, 5, 27), D("0.05")), (date(2025, 6, 26), D("0.10")), (date(2025, 7, 26), D("0.15")),
         (date(2025, 8, 26), D("0.20")), (date(2025, 9, 26), D("0.25")))
FEE = FeeDates(date(2025, 4, 25), date(2025, 10, 27), RISES)
LAPSE_DAYS = 60


def due_on(day: str, fee: FeeDates = FEE) -> dict[str, str]:
    return {e.channel: e.event.label for e in due_events(fee, DEFAULT_TIERS, date.fromisoformat(day), LAPSE_DAYS)}


@pytest.mark.parametrize(("day", "expected"), [
    pytest.param("2025-01-24", {}, id="nothing-before-the-first-tier"),
    pytest.param("2025-01-25", {"email": "before_due:due-90"}, id="email-90-days-before"),
    pytest.param("2025-03-26", {"email": "before_due:due-30", "sms": "before_due_sms:due-30"},
                 id="sms-joins-30-days-before"),
    pytest.param("2025-04-24", {"email": "before_due:due-1", "sms": "before_due_sms:due-1"}, id="the-day-before"),
    pytest.param("2025-05-10", {"email": "before_due:due-1", "sms": "before_due_sms:due-1"},
                 id="free-month-keeps-the-last-reminder-meaningful"),
    pytest.param("2025-05-24", {"email": "late_fee_rise:rise5-3", "sms": "late_fee_rise:rise5-3"},
                 id="three-days-before-the-first-rise"),
    pytest.param("2025-05-27", {"email": "late_fee_rise:rise5+0", "sms": "late_fee_rise:rise5+0"},
                 id="on-the-day-it-rises"),
    pytest.param("2025-10-12", {"email": "grace_end:grace_end-15", "sms": "grace_end:grace_end-15"},
                 id="fifteen-days-before-the-grace-end"),
    pytest.param("2025-10-27", {"email": "grace_end:grace_end-1", "sms": "grace_end:grace_end-1"},
                 id="last-day-of-grace"),
    pytest.param("2025-10-28", {"email": "lapsed:grace_end+1", "sms": "lapsed:grace_end+1"}, id="lapse-notice"),
    pytest.param("2025-12-26", {"email": "lapsed:grace_end+1", "sms": "lapsed:grace_end+1"},
                 id="lapse-notice-meaningful-for-sixty-days"),
    pytest.param("2025-12-27", {}, id="then-nothing"),
])
def test_due_events_pick_the_latest_meaningful_tier_per_channel(day: str, expected: dict) -> None:
    assert due_on(day) == expected


def test_three_days_of_downtime_give_one_catch_up_not_a_burst() -> None:
    # -15 (04-10) and -7 (04-18) both fired while down from 04-09 to 04-19: only -7 is due on 04-19.
    assert due_on("2025-04-19") == {"email": "before_due:due-7", "sms": "before_due_sms:due-7"}


def test_the_legal_representative_is_told_from_the_15_percent_band() -> None:
    by_label = {e.label: e.audience for e in tier_events(FEE, DEFAULT_TIERS)}
    assert "legal_rep" not in by_label["late_fee_rise:rise10+0"]
    assert "legal_rep" not in by_label["late_fee_rise:rise15-3"]  # still in the 10 % band that day
    assert by_label["late_fee_rise:rise15+0"] == ("ip_manager", "finance", "legal_rep")
    assert "legal_rep" in by_label["late_fee_rise:rise25+0"]


def test_events_of_one_day_merge_their_audiences() -> None:
    # The rise to 25 % (09-26) and nothing else: one event; on 10-24 grace_end-3 speaks for all contacts.
    events = due_events(FEE, DEFAULT_TIERS, date(2025, 10, 24), LAPSE_DAYS)
    assert {e.event.label for e in events} == {"grace_end:grace_end-3"}
    assert set(events[0].audience) == {"all", "operator"}


def test_grant_year_fee_has_no_grace_tiers() -> None:
    fee = FeeDates(date(2025, 4, 25), None, ())
    assert due_on("2025-04-24", fee) == {"email": "before_due:due-1", "sms": "before_due_sms:due-1"}
    assert due_on("2025-04-26", fee) == {}


@pytest.mark.parametrize(("after", "expected"), [
    pytest.param("2025-01-01", "2025-01-25", id="first-tier"),
    pytest.param("2025-04-24", "2025-05-24", id="after-the-due-date-the-first-rise-warning"),
    pytest.param("2025-10-27", "2025-10-28", id="lapse-notice"),
    pytest.param("2025-10-28", None, id="nothing-after-the-lapse-notice"),
])
def test_next_fire_on(after: str, expected: str | None) -> None:
    found = next_fire_on(FEE, DEFAULT_TIERS, date.fromisoformat(after), LAPSE_DAYS)
    assert found == (date.fromisoformat(expected) if expected else None)


@pytest.mark.parametrize(("day", "rate", "pay_by", "next_rate"), [
    pytest.param("2025-04-01", "0", "2025-04-25", None, id="before-due-pay-by-the-due-date"),
    pytest.param("2025-05-10", "0", "2025-05-26", "0.05", id="free-month-pay-before-the-first-rise"),
    pytest.param("2025-07-26", "0.15", "2025-08-25", "0.20", id="fifteen-percent-band"),
    pytest.param("2025-10-01", "0.25", "2025-10-27", None, id="last-band-pay-by-the-grace-end"),
])
def test_payment_terms_say_until_when_the_late_fee_holds(day, rate, pay_by, next_rate) -> None:
    terms = payment_terms(FEE, date.fromisoformat(day))
    assert (terms.rate, terms.pay_by, terms.next_rate) == (
        D(rate), date.fromisoformat(pay_by), D(next_rate) if next_rate else None)


@pytest.mark.parametrize(("moment", "expected"), [
    pytest.param("08:59", "09:00", id="early-morning-waits-for-nine"),
    pytest.param("09:00", "09:00", id="nine-is-open"),
    pytest.param("19:59", "19:59", id="just-before-eight"),
    pytest.param("20:00", "next 09:00", id="eight-pm-waits-for-tomorrow"),
    pytest.param("23:30", "next 09:00", id="night-goes-out-next-morning"),
])
def test_sms_sending_hours(moment: str, expected: str) -> None:
    window = SendWindow(time(9), time(20))
    start = datetime.combine(date(2025, 3, 26), time.fromisoformat(moment), SHANGHAI)
    nxt = expected.startswith("next")
    want = datetime.combine(date(2025, 3, 27 if nxt else 26), time.fromisoformat(expected.split()[-1]), SHANGHAI)
    assert window.next_open(start) == want


def test_backoff_grows_is_capped_and_honours_the_provider() -> None:
    retry = RetryPolicy(base_seconds=60, factor=3, max_seconds=3600)
    assert [retry.delay(n).total_seconds() for n in (1, 2, 3, 4, 5)] == [60, 180, 540, 1620, 3600]
    assert retry.delay(1, at_least=86400) == timedelta(days=1)


def test_config_toml_documents_exactly_the_defaults() -> None:
    assert reminder_settings(load_config("config.toml").section("reminders")) == ReminderSettings()


def test_contact_roles_match_the_model() -> None:
    assert SETTINGS_ROLES == CONTACT_ROLES


@pytest.mark.parametrize(("section", "message"), [
    pytest.param({"tiers": [{"anchor": "birthday", "days_before": [1]}]}, "anchor", id="unknown-anchor"),
    pytest.param({"tiers": [{"anchor": "due_date", "channels": ["fax"], "days_before": [1]}]}, "fax",
                 id="unknown-channel"),
    pytest.param({"tiers": [{"anchor": "due_date", "audience": ["ceo"], "days_before": [1]}]}, "ceo",
                 id="unknown-audience"),
    pytest.param({"tiers": [{"anchor": "due_date"}]}, "days_before", id="no-days"),
    pytest.param({"send_hours": {"sms": ["20:00", "09:00"]}}, "before the end", id="window-backwards"),
    pytest.param({"retry": {"tries": 3}}, "retry", id="unknown-retry-key"),
    pytest.param({"quiet": True}, "unknown key", id="unknown-key"),
    pytest.param({"tiers": [{"anchor": "due_date", "kind": "restore", "days_before": [1]}]}, "restore",
                 id="restore-kind-on-a-fee-anchor"),
    pytest.param({"tiers": [{"anchor": "restore_by", "kind": "fee", "days_before": [1]}]}, "restore",
                 id="fee-kind-on-a-restoration-anchor"),
])
def test_bad_reminder_settings_name_the_key(section: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        reminder_settings(section)


@pytest.mark.parametrize(("day", "expected"), [
    pytest.param("2025-12-11", None, id="before-the-notice-nothing"),
    pytest.param("2025-12-12", "restoration_notice:notice+0", id="the-notice-day"),
    pytest.param("2026-01-12", "restoration_notice:notice+0", id="catch-up-keeps-the-notice-tier"),
    pytest.param("2026-01-13", "restoration:restore_by-30", id="30-days-before-the-deadline"),
    pytest.param("2026-02-09", "restoration:restore_by-3", id="3-days-before-the-deadline"),
    pytest.param("2026-02-12", "restoration:restore_by-3", id="the-deadline-itself"),
    pytest.param("2026-02-13", None, id="after-the-deadline-nothing"),
])
def test_restoration_tiers_hang_on_the_notice_and_the_deadline(day: str, expected: str | None) -> None:
    # Rule 6 ¶2: two months from the notice of 2025-12-12, i.e. 2026-02-12.
    fee = FeeDates(FEE.due_date, FEE.grace_end, RISES, notice_on=date(2025, 12, 12), restore_by=date(2026, 2, 12))
    restore = tuple(t for t in DEFAULT_TIERS if t.kind == "restore")
    events = due_events(fee, restore, date.fromisoformat(day), LAPSE_DAYS)
    assert {e.event.label for e in events} == ({expected} if expected else set())
    assert all(e.audience == ("all", "operator") and e.event.kind == "restore" for e in events)
    # Without a notice on record, no restoration tier ever fires (planning reads the notice from the watch).
    assert due_events(FEE, restore, date.fromisoformat(day), LAPSE_DAYS) == ()


def _random_fee(rng: random.Random) -> FeeDates:
    due = date(2024, 1, 1) + timedelta(days=rng.randrange(700))
    if rng.random() < 0.2:
        return FeeDates(due, None, ())
    rises, day = [], due
    for k in range(1, 6):
        day += timedelta(days=rng.randrange(28, 34))
        rises.append((day, D("0.05") * k))
    return FeeDates(due, day + timedelta(days=rng.randrange(28, 34)), tuple(rises))


def test_vectorised_next_fire_agrees_with_the_policy() -> None:
    rng = random.Random(7)
    fees = [_random_fee(rng) for _ in range(400)]
    days = [date(2024, 1, 1) + timedelta(days=rng.randrange(900)) for _ in fees]
    for on in sorted(set(days))[:40]:
        due = np.array([f.due_date for f in fees], "datetime64[D]")
        grace = np.array([f.grace_end or np.datetime64("NaT") for f in fees], "datetime64[D]")
        rises = [np.array([f.rises[k][0] if f.rises else np.datetime64("NaT") for f in fees], "datetime64[D]")
                 for k in range(5)]
        got = next_fire_days(due, grace, rises, DEFAULT_TIERS, on, LAPSE_DAYS)
        for fee, value in zip(fees, got, strict=True):
            live = due_events(fee, DEFAULT_TIERS, on, LAPSE_DAYS)
            want = on if live else next_fire_on(fee, DEFAULT_TIERS, on, LAPSE_DAYS)
            assert (None if np.isnat(value) else value.astype(object)) == want, (fee, on)

"""The OPS answer read into the engine's terms, without a network: the CN code table against the vocabulary, the
legal-service XML (padded codes, events in no date order, a family with other countries' members and a second CN
member), the number service, the throttling header, the [status.ops] settings and how checks spread over a week."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from custody.appno import ApplicationNumber, check_character, parse_application_number
from custody.config import ConfigError
from custody.ops_codes import code_entry, default_codes
from custody.ops_legal import (
    DocdbNumber,
    OpsFormatError,
    OpsNoMember,
    docdb_from_number_service,
    docdb_guess,
    legal_records,
    throttle_of,
)
from custody.ops_schedule import OpsSettings, first_check_at, ops_settings, phase, retry_at
from custody.status_vocab import default_vocabulary
from tests.support.ops_server import _number_answer

DATA = Path(__file__).parent / "data" / "ops"
UTC_NOON = datetime(2025, 6, 16, 4, 0).astimezone()


@pytest.mark.parametrize("code", sorted(default_codes()), ids=str)
def test_each_code_gives_its_kind_through_the_vocabulary_like_an_export_heading(code: str) -> None:
    row = default_codes()[code]
    assert default_vocabulary().classify(row.wording_zh, row.detail_zh).kind == row.kind
    assert row.source and row.influence in ("+", "-", "")


@pytest.mark.parametrize(("raw", "code"), [
    pytest.param("C19 ", "C19", id="padded-old-code"),
    pytest.param(" cf01", "CF01", id="lower-case-and-leading-space"),
    pytest.param("EXPY", "EXPY", id="four-letters"),
])
def test_a_padded_code_is_looked_up_without_its_padding(raw: str, code: str) -> None:
    assert code_entry(raw).code == code


def _records(name: str, number: str) -> list[tuple[str, str, str]]:
    appno = parse_application_number(number)
    vocabulary = default_vocabulary()
    return [(r.announced_on.isoformat(), r.status, vocabulary.classify(r.status, r.detail).kind)
            for r in legal_records((DATA / name).read_bytes(), appno, docdb_guess(appno))]


@pytest.mark.parametrize(("name", "number", "expected"), [
    pytest.param("cn_family_p3.xml", "201410000003.5", [
        ("2014-06-18", "公开", "publication"), ("2014-07-16", "实质审查的生效", "examination"),
        ("2016-10-12", "授权", "grant"), ("2025-05-06", "未缴年费专利权终止", "lapse_nonpayment")],
        id="family-only-our-cn-member-in-date-order"),
    pytest.param("cn_restored.xml", "202010000018.7", [
        ("2022-03-01", "授权", "grant"), ("2024-12-06", "未缴年费专利权终止", "lapse_nonpayment"),
        ("2025-03-20", "专利权的恢复", "restoration")], id="restoration-listed-first-comes-last"),
    pytest.param("cn_pledges.xml", "201910000019.9", [
        ("2021-06-08", "授权", "grant"), ("2023-05-10", "专利权质押合同登记的生效", "pledge_registered"),
        ("2025-04-01", "专利权质押合同登记的注销", "pledge_cancelled"),
        ("2025-04-01", "专利权质押合同登记的生效", "pledge_registered")], id="same-day-cancel-before-register"),
    pytest.param("cn_old_codes.xml", "201630000004.X", [
        ("2016-05-18", "授权", "grant"), ("2023-03-03", "专利权的终止", "lapse_nonpayment")],
        id="c17-read-from-its-free-text"),
    pytest.param("cn_c19.xml", "201510000008.2", [("2025-06-04", "未缴年费专利权终止", "lapse_nonpayment")],
                 id="c19-padded"),
    pytest.param("cn_expy.xml", "202110000009.2", [("2025-05-30", "专利权的终止", "termination")],
                 id="expy-reason-from-the-fee-schedule"),
    pytest.param("cn_cx01.xml", "201610000010.4", [("2025-06-11", "专利权有效期届满", "expired")], id="cx01"),
    pytest.param("cn_iw01.xml", "201710000011.3", [("2025-02-02", "专利权的无效宣告", "invalidated_full")],
                 id="iw01-invalid-in-full"),
    pytest.param("cn_ip01.xml", "201810000012.2", [("2025-02-03", "专利权的无效宣告", "invalidated_partial")],
                 id="ip01-invalid-in-part"),
    pytest.param("cn_av01.xml", "201910000013.1", [("2025-04-01", "专利权的主动放弃", "abandoned")],
                 id="av01-abandoned-by-the-owner"),
    pytest.param("cn_unknown.xml", "201810000006.7", [
        ("2020-12-01", "授权", "grant"), ("2025-06-12", "ZX99 SOME EVENT CODE ADDED LATER", "unknown")],
        id="unknown-code-kept-with-its-description"),
    pytest.param("cn_p1_misc.xml", "201710000001.X", [
        ("2020-03-10", "授权", "grant"), ("2021-04-02", "专利实施许可合同备案的生效", "licence_recorded"),
        ("2022-04-08", "专利实施许可合同备案的注销", "licence_cancelled"),
        ("2023-09-15", "专利权人的姓名或者名称、地址的变更", "owner_change")], id="licence-and-rename"),
])
def test_the_legal_answer_gives_our_cn_events_as_headings(name: str, number: str,
                                                          expected: list[tuple[str, str, str]]) -> None:
    assert _records(name, number) == expected


def test_transfer_and_pledge_fields_come_from_the_free_text() -> None:
    appno = parse_application_number("201910000005.7")
    records = legal_records((DATA / "cn_watch_transfer.xml").read_bytes(), appno, docdb_guess(appno))
    transfer = default_vocabulary().classify(records[-1].status, records[-1].detail)
    assert transfer.kind == "transfer" and transfer.fields["new_owner"] == "另一家公司"
    assert "[OPS TR01: TRANSFER OF PATENT RIGHT]" in records[-1].detail


@pytest.mark.parametrize(("name", "error"), [
    pytest.param("malformed.xml", OpsFormatError, id="cut-off"),
    pytest.param("no_family.xml", OpsFormatError, id="no-patent-family"),
    pytest.param("cn_pledges.xml", OpsNoMember, id="answer-for-another-application"),
])
def test_an_answer_that_is_not_ours_or_not_readable_is_refused(name: str, error: type) -> None:
    appno = parse_application_number("201410000003.5")
    with pytest.raises(error):
        legal_records((DATA / name).read_bytes(), appno, docdb_guess(appno))


def test_an_answer_declaring_entities_is_refused_before_parsing() -> None:
    body = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    with pytest.raises(OpsFormatError, match="DTD or entities"):
        legal_records(body, parse_application_number("201410000003.5"), DocdbNumber("CN", "201410000003", "A"))


def _old_form(digits: str) -> ApplicationNumber:
    return parse_application_number(f"{digits}.{check_character(digits)}")


@pytest.mark.parametrize(("number", "docdb"), [
    pytest.param("201710000001.X", "CN.201710000001.A", id="invention"),
    pytest.param("202020000002.1", "CN.202020000002.U", id="utility-model"),
    pytest.param("201630000004.X", "CN.201630000004.S", id="design"),
    pytest.param("201880000001", "CN.201880000001.A", id="pct-invention"),
    pytest.param("old:97101765", None, id="old-form-needs-the-number-service"),
])
def test_the_docdb_number_is_guessed_only_for_the_12_digit_form(number: str, docdb: str | None) -> None:
    appno = _old_form(number[4:]) if number.startswith("old:") else parse_application_number(number)
    guess = docdb_guess(appno)
    assert (guess.key if guess else None) == docdb


def test_the_number_service_answer_gives_the_docdb_number() -> None:
    body = _number_answer("CN.2019100000076.A", "(CN).(201910000007.6)")
    assert docdb_from_number_service(body, "test") == DocdbNumber("CN", "2019100000076", "A")


@pytest.mark.parametrize(("header", "system", "inpadoc", "black"), [
    pytest.param("idle (images=green:200, inpadoc=green:60, other=green:1000, retrieval=green:200, search=green:30)",
                 "idle", ("green", 60), False, id="idle"),
    pytest.param("busy (images=green:100, inpadoc=yellow:45, other=green:1000, retrieval=green:100, search=green:15)",
                 "busy", ("yellow", 45), False, id="busy"),
    pytest.param("overloaded (images=green:50, inpadoc=green:30, other=green:1000, retrieval=green:50, "
                 "search=green:5)", "overloaded", ("green", 30), False, id="overloaded"),
    pytest.param("busy (images=green:100, inpadoc=black:0, other=green:1000)", "busy", ("black", 0), True,
                 id="black-listed"),
    pytest.param("idle (images=black:0, inpadoc=green:60, other=green:1000)", "idle", ("green", 60), False,
                 id="black-on-a-service-the-watch-does-not-use"),
    pytest.param(None, "", ("", 0), False, id="absent"),
    pytest.param("??", "", ("", 0), False, id="unreadable"),
])
def test_the_throttling_header_is_read(header: str | None, system: str, inpadoc: tuple, black: bool) -> None:
    throttle = throttle_of(header)
    assert (throttle.system, throttle.services.get("inpadoc", ("", 0)), throttle.is_black_listed) == \
        (system, inpadoc, black)


@pytest.mark.parametrize(("section", "message"), [
    pytest.param({"interval_days": 0}, "interval_days must be a whole number from 1 to 90", id="zero-interval"),
    pytest.param({"interval_days": "7"}, "interval_days must be a whole number", id="text"),
    pytest.param({"weekly_quota_mb": True}, "weekly_quota_mb must be a whole number", id="boolean"),
    pytest.param({"interval_days": 3, "urgent_interval_days": 5}, "longer than interval_days", id="urgent-longer"),
    pytest.param({"base_url": "ftp://x"}, "base_url must be an http", id="url"),
    pytest.param({"intervall_days": 7}, "unknown key", id="typo"),
])
def test_a_wrong_setting_is_a_configuration_error(section: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ops_settings(section, "config.toml")


def test_first_checks_spread_evenly_over_the_week() -> None:
    start = UTC_NOON
    days = Counter((first_check_at(start, pid, OpsSettings()) - start).days for pid in range(1, 50_001))
    assert sorted(days) == list(range(7))
    assert max(days.values()) - min(days.values()) < 50_000 * 0.01  # each day within 1 % of a seventh
    assert 0 <= phase(123456) < 1


def test_a_failing_check_is_retried_later_each_time_up_to_the_interval() -> None:
    now = UTC_NOON
    waits = [retry_at(now, n, OpsSettings()) - now for n in (1, 2, 3, 6)]
    assert waits == [timedelta(hours=6), timedelta(hours=12), timedelta(hours=24), timedelta(days=7)]

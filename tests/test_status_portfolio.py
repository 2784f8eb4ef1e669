"""The known portfolio the status and report tests run on, and checks that it is what they assume.

As of TODAY (Monday 2025-06-16), three enterprises:
- A 福州甲科技 (custody): P1 invention, year 9 due 2025-08-01, 85 % reduction (fee 300); P2 utility model in
  its grace period (year 6 due 2025-03-10, 15 % late fee today, title starting with "="); P6 invention due
  2025-09-01, 85 % reduction, which A decides to abandon.
- B 深圳乙电子 (custody): P3 invention lapsed in 2024 (year 11 unpaid), terminated for non-payment on
  2025-05-06 (restorable until 2025-07-07); P4 design lapsed in 2023, restoration window long closed; P7
  invention due 2025-11-20 whose year 6 was paid in its grace period on 2025-01-10.
- C 北京丙信息 (watching a competitor): P5, watch-only.
Ten spare patents of A (`spares=True`) take one status event each in the status tests; two more of A
(`lifecycle=True`) take two each in status-all.csv: RESTORED lapsed (year 5 unpaid) and was restored, UNPLEDGED
(in its grace period) was pledged and the pledge cancelled. Without them their rows are "not in the portfolio".
Other tests import `build_portfolio`, `TODAY`, `NOW` and the numbers from here.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from custody.domain import PatentState, PatentType, Reduction
from custody.fees import fee_schedule, first_unpaid, patent_state
from custody.models import Contact, Enterprise, Patent, Payment
from custody.ruleset import default_rules
from custody.store.patents import facts_of
from custody.workdays import WorkCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2025, 6, 16)
NOW = datetime(2025, 6, 16, 9, 30, tzinfo=SHANGHAI)

A, B, C = "91350100M000100Y43", "914403001922038216", "91110108551385082Q"
ENTERPRISES = {A: "福州甲科技有限公司", B: "深圳乙电子有限公司", C: "北京丙信息有限公司"}
P1, P2, P3, P4 = "201710000001.X", "202020000002.1", "201410000003.5", "201630000004.X"
P5, P6, P7 = "201910000005.7", "201810000006.7", "201910000007.6"
# Spare patents of A for status events that end or change a patent (one event kind each).
SPARE = ("201510000008.2", "202110000009.2", "201610000010.4", "201710000011.3", "201810000012.2",
         "201910000013.1", "202020000014.4", "201210000015.9", "201310000016.8", "202010000017.2")
RESTORED, UNPLEDGED = "202010000018.7", "201910000019.9"

# application number, enterprise, title, filing date, grant year, paid through, reduction, mode, owners
PATENTS = [
    (P1, A, "一种电池管理方法", date(2017, 8, 1), 3, 8, Reduction.R85, "custody", ENTERPRISES[A]),
    (P2, A, '=HYPERLINK("http://evil.example","点击")电池外壳', date(2020, 3, 10), 2, 5, Reduction.NONE, "custody",
     ENTERPRISES[A]),
    (P3, B, "+一种基站天线", date(2014, 2, 20), 4, 10, Reduction.NONE, "custody", ENTERPRISES[B]),
    (P4, B, "-包装盒", date(2016, 1, 15), 1, 7, Reduction.NONE, "custody", ENTERPRISES[B]),
    (P5, C, "@竞争对手的发明", date(2019, 5, 5), 4, 6, Reduction.NONE, "watch", "某竞争公司"),
    (P6, A, "一种散热结构", date(2018, 9, 1), 3, 7, Reduction.R85, "custody", ENTERPRISES[A]),
    (P7, B, "一种信号处理方法", date(2019, 11, 20), 3, 6, Reduction.NONE, "custody", ENTERPRISES[B]),
]
SPARE_PATENTS = [(n, A, f"备用专利{i}", date(2020, 1, 10 + i), 3, 5, Reduction.NONE, "custody", ENTERPRISES[A])
                 for i, n in enumerate(SPARE)]
LIFECYCLE_PATENTS = [
    (RESTORED, A, "恢复的专利", date(2020, 2, 3), 3, 4, Reduction.NONE, "custody", ENTERPRISES[A]),
    (UNPLEDGED, A, "解押的专利", date(2019, 4, 8), 3, 6, Reduction.NONE, "custody", ENTERPRISES[A]),
]
CONTACTS = [
    (A, "张三", "ip_manager", "13800000001", "zhang@a.example"),
    (A, "招商银行 李经理", "pledgee", "13900000009", "li@bank.example"),
    (B, "王五", "ip_manager", "13700000002", "wang@b.example"),
    (C, "赵六", "ip_manager", "13600000003", "zhao@c.example"),
]


def _type_of(number: str) -> PatentType:
    return {"1": PatentType.INVENTION, "2": PatentType.UTILITY_MODEL, "3": PatentType.DESIGN}[number[4]]


def build_portfolio(session: Session, spares: bool = False, lifecycle: bool = False) -> dict[str, Patent]:
    """Insert the known portfolio (with the spare and lifecycle patents of A if asked) and commit; the patents by
    number."""
    enterprises = {code: Enterprise(credit_code=code, name=name) for code, name in ENTERPRISES.items()}
    session.add_all(enterprises.values())
    session.flush()
    session.add_all(Contact(enterprise_id=enterprises[code].id, name=name, role=role, mobile=mobile, email=email)
                    for code, name, role, mobile, email in CONTACTS)
    patents = {}
    chosen = PATENTS + SPARE_PATENTS * spares + LIFECYCLE_PATENTS * lifecycle
    for number, code, title, filed, grant_year, paid, reduction, mode, owners in chosen:
        patents[number] = Patent(application_number=number, type=_type_of(number), title=title, owners=owners,
                                 filing_date=filed, grant_year=grant_year, paid_through=paid, reduction=reduction,
                                 mode=mode, enterprise_id=enterprises[code].id)
    session.add_all(patents.values())
    session.flush()
    # P7 year 6 fell due 2024-11-20 and was paid in the grace period (5 % band).
    session.add(Payment(patent_id=patents[P7].id, year=6, amount=Decimal("1100.00"), paid_on=date(2025, 1, 10),
                        source="test"))
    session.commit()
    return patents


@pytest.fixture
def patents(session: Session) -> dict[str, Patent]:
    return build_portfolio(session, lifecycle=True)


def _state(session: Session, patent: Patent) -> tuple[PatentState, int | None]:
    schedule = fee_schedule(facts_of(session, patent), default_rules(), WorkCalendar())
    unpaid = first_unpaid(schedule)
    return patent_state(schedule, TODAY), unpaid.year if unpaid else None


@pytest.mark.parametrize(("number", "state", "year"), [
    pytest.param(P1, PatentState.IN_FORCE, 9, id="p1-due-in-august"),
    pytest.param(P2, PatentState.IN_GRACE, 6, id="p2-in-grace"),
    pytest.param(P3, PatentState.LAPSED, 11, id="p3-lapsed-2024"),
    pytest.param(P4, PatentState.LAPSED, 8, id="p4-lapsed-2023"),
    pytest.param(P6, PatentState.IN_FORCE, 8, id="p6-due-in-september"),
    pytest.param(P7, PatentState.IN_FORCE, 7, id="p7-due-in-november"),
    pytest.param(RESTORED, PatentState.LAPSED, 5, id="restored-lapsed-by-our-records"),
    pytest.param(UNPLEDGED, PatentState.IN_GRACE, 7, id="unpledged-in-grace"),
])
def test_the_known_portfolio_is_in_the_states_the_tests_assume(session: Session, patents: dict[str, Patent],
                                                                number: str, state: PatentState,
                                                                year: int) -> None:
    assert _state(session, patents[number]) == (state, year)

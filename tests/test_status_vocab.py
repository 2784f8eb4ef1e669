"""The legal-status vocabulary: every CNIPA wording the issue lists maps to one event kind, with values read from
the detail; unknown wording is kept as "unknown"; the same announcement is one event whichever source said it."""
from __future__ import annotations

from datetime import date

import pytest

from custody.status_vocab import (
    VocabularyError,
    compact,
    default_vocabulary,
    event_key,
    vocabulary_from_mapping,
)

PLEDGE_DETAIL = ("专利权质押合同登记的生效IPC(主分类)：B65D 登记号：Y2024350000123 登记生效日：20240901 "
                 "出质人：福州甲科技有限公司 质权人：招商银行股份有限公司福州分行 实用新型名称：电池外壳")
CANCEL_DETAIL = "专利权质押合同登记的注销IPC(主分类)：F16K 出质人：甲公司 质权人：中国银行股份有限公司 解除日：20250303"
TRANSFER_DETAIL = ("变更事项：专利权人 变更前权利人：福州甲科技有限公司 变更后权利人：上海丁有限公司 "
                   "登记生效日：20250610")
RENAME_DETAIL = ("变更事项：专利权人 变更前：福州甲科技有限公司 变更后：福州甲智能科技有限公司 "
                 "变更事项：地址 变更前：福州市 变更后：厦门市")


@pytest.mark.parametrize(("status", "detail", "kind", "effect"), [
    pytest.param("授权", "", "grant", "note", id="granted"),
    pytest.param("未缴年费专利权终止", "", "lapse_nonpayment", "lapse", id="terminated-for-non-payment"),
    pytest.param("专利权的终止", "未缴年费专利权终止IPC(主分类)：H01Q", "lapse_nonpayment", "lapse",
                 id="termination-heading-with-non-payment-detail"),
    pytest.param("专利权的终止", "专利权有效期届满", "expired", "end", id="termination-heading-with-expiry-detail"),
    pytest.param("专利权的终止", "", "termination", "terminate", id="termination-without-a-reason"),
    pytest.param("专利权的恢复", "", "restoration", "restore", id="restored"),
    pytest.param("专利申请权、专利权的转移", TRANSFER_DETAIL, "transfer", "transfer", id="transfer"),
    pytest.param("专利权质押合同登记的生效", PLEDGE_DETAIL, "pledge_registered", "pledge", id="pledge-registered"),
    pytest.param("专利权质押合同登记的注销", CANCEL_DETAIL, "pledge_cancelled", "pledge_cancel", id="pledge-cancelled"),
    pytest.param("专利权质押合同登记的生效、变更及注销", CANCEL_DETAIL, "pledge_cancelled", "pledge_cancel",
                 id="combined-pledge-heading-cancelled"),
    pytest.param("专利权质押合同登记的生效、变更及注销", PLEDGE_DETAIL, "pledge_registered", "pledge",
                 id="combined-pledge-heading-registered"),
    pytest.param("专利实施许可合同备案的生效", "被许可人：某某制造有限公司", "licence_recorded", "note",
                 id="licence-recorded"),
    pytest.param("专利权的无效宣告", "宣告专利权全部无效", "invalidated_full", "end", id="invalidated-in-full"),
    pytest.param("专利权的无效宣告", "宣告专利权部分无效", "invalidated_partial", "note", id="invalidated-in-part"),
    pytest.param("专利权的无效宣告（全部）", "", "invalidated_full", "end", id="full-width-brackets-full"),
    pytest.param("专利权的无效宣告(部分)", "", "invalidated_partial", "note", id="ascii-brackets-part"),
    pytest.param("专利权的无效宣告", "", "invalidation", "note", id="invalidation-of-unstated-extent"),
    pytest.param("专利权的主动放弃", "", "abandoned", "end", id="abandoned"),
    pytest.param("避免重复授权放弃专利权", "", "abandoned_double", "end", id="abandoned-against-double-patenting"),
    pytest.param("专利权人的姓名或者名称、地址的变更", RENAME_DETAIL, "owner_change", "rename", id="owner-renamed"),
    pytest.param("期限届满", "", "expired", "end", id="expired"),
    pytest.param(" 期限 届满 ", "", "expired", "end", id="stray-spaces"),
    pytest.param("实质审查的生效", "", "examination", "note", id="pre-grant-examination"),
])
def test_every_listed_status_maps_to_its_event_kind(status: str, detail: str, kind: str, effect: str) -> None:
    found = default_vocabulary().classify(status, detail)
    assert (found.kind, found.effect) == (kind, effect)


@pytest.mark.parametrize(("status", "detail", "fields"), [
    pytest.param("专利权质押合同登记的生效", PLEDGE_DETAIL, {"pledgee": "招商银行股份有限公司福州分行"}, id="pledgee"),
    pytest.param("专利申请权、专利权的转移", TRANSFER_DETAIL,
                 {"old_owner": "福州甲科技有限公司", "new_owner": "上海丁有限公司"}, id="transfer-owners"),
    pytest.param("专利权人的姓名或者名称、地址的变更", RENAME_DETAIL,
                 {"old_owner": "福州甲科技有限公司", "new_owner": "福州甲智能科技有限公司"},
                 id="renamed-owner-not-address"),
    pytest.param("专利权质押合同登记的生效", "登记号：Y1", {}, id="pledgee-not-named"),
])
def test_values_are_read_from_the_detail(status: str, detail: str, fields: dict) -> None:
    assert dict(default_vocabulary().classify(status, detail).fields) == fields


def test_an_unknown_status_is_kept_as_unknown_not_dropped() -> None:
    found = default_vocabulary().classify("专利权人请求更正", "更正内容：说明书")
    assert found.is_unknown and found.kind == "unknown"


def test_compact_folds_full_width_and_removes_spaces() -> None:
    assert compact("专利权的无效宣告（全部） ") == "专利权的无效宣告(全部)"


def test_the_same_announcement_is_one_event_whatever_the_wording() -> None:
    day = date(2025, 5, 6)
    assert event_key("201410000003.5", day, "lapse_nonpayment", "未缴年费专利权终止") == \
        event_key("201410000003.5", day, "lapse_nonpayment", "专利权的终止")


@pytest.mark.parametrize(("other"), [
    pytest.param(("201410000003.5", date(2025, 5, 7), "lapse_nonpayment", "x"), id="another-day"),
    pytest.param(("201630000004.X", date(2025, 5, 6), "lapse_nonpayment", "x"), id="another-patent"),
    pytest.param(("201410000003.5", date(2025, 5, 6), "restoration", "x"), id="another-kind"),
])
def test_a_different_patent_day_or_kind_is_another_event(other: tuple) -> None:
    assert event_key("201410000003.5", date(2025, 5, 6), "lapse_nonpayment", "x") != event_key(*other)


def test_two_different_unknown_statuses_stay_two_events() -> None:
    day = date(2025, 6, 2)
    assert event_key("201710000001.X", day, "unknown", "甲") != event_key("201710000001.X", day, "unknown", "乙")


def test_a_vocabulary_entry_with_an_unknown_effect_is_refused_with_its_name() -> None:
    data = {"event": [{"kind": "odd", "effect": "explode", "label": "x", "label_zh": "x", "wordings": ["x"]}]}
    with pytest.raises(VocabularyError,
                       match=r'entry 1 of \[\[event\]\] \(kind = "odd"\): field effect: "explode" is not an effect'):
        vocabulary_from_mapping(data)


def test_every_vocabulary_entry_cites_a_source() -> None:
    assert all(entry.source for entry in default_vocabulary().entries)

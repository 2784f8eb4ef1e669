"""Aliyun SMS transport: the real SDK over real HTTP against the local gateway, which verifies signatures."""
from __future__ import annotations

import json
import socket
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest

from notifiers.aliyun_codes import limit_window_seconds, result_for_code
from notifiers.aliyun_sms import AliyunSms
from notifiers.base import Message, Outcome, Reconciling, Transport
from tests.support import aliyun_gateway as gw
from tests.support.aliyun_gateway import KEY_ID, KEY_SECRET, AliyunGateway

MOBILE = "13812345678"


def reminder(key: str = "outbox-1", mobile: str = MOBILE, template: str = "due_soon") -> Message:
    return Message(
        key=key, channel="sms", recipient=mobile, text="专利 ZL202310123456.7 年费 2024-03-01 到期",
        template=template, params={"number": "ZL202310123456.7", "due": "2024-03-01", "amount": "900"},
    )


def sent_on(gateway: AliyunGateway):
    return gateway.accepted()[-1].sent_at.date()


def test_sms_transport_is_a_reconciling_transport(sms_transport):
    assert isinstance(sms_transport, Transport) and isinstance(sms_transport, Reconciling)
    assert sms_transport.name == "sms" and sms_transport.limits.per_recipient_per_day == 50


def test_signed_send_is_accepted_and_recorded_with_out_id_and_template_param(sms_transport, aliyun_gateway):
    result = sms_transport.send(reminder())

    [recorded] = aliyun_gateway.accepted()
    assert result.outcome is Outcome.SENT and result.provider_id == recorded.biz_id
    assert (recorded.phone, recorded.out_id, recorded.sign_name) == (MOBILE, "outbox-1", "专利托管")
    assert recorded.template_code == sms_transport.settings.templates["due_soon"]
    assert recorded.params == {"number": "ZL202310123456.7", "due": "2024-03-01", "amount": "900"}


def test_request_signs_the_blank_signature_type_and_keeps_the_phone_out_of_the_url(sms_transport, aliyun_gateway):
    sms_transport.send(reminder())

    [request] = aliyun_gateway.requests
    assert request.method == "POST" and "SignatureType=&" in request.target
    assert MOBILE not in request.target and MOBILE.encode() in request.body


def test_wrong_secret_is_rejected_as_misconfigured(sms_settings, aliyun_gateway):
    result = AliyunSms(sms_settings, key_id=KEY_ID, key_secret="not-the-secret").send(reminder())

    assert result.outcome is Outcome.MISCONFIGURED
    assert result.code in ("SignatureDoesNotMatch", "InvalidAccessKeySecret")
    assert aliyun_gateway.requests[-1].code == "SignatureDoesNotMatch" and aliyun_gateway.accepted() == []
    assert MOBILE not in result.detail


def test_unknown_access_key_is_misconfigured(sms_settings, aliyun_gateway):
    result = AliyunSms(sms_settings, key_id="LTAI-nobody", key_secret=KEY_SECRET).send(reminder())

    assert (result.outcome, result.code) == (Outcome.MISCONFIGURED, "InvalidAccessKeyId.NotFound")


def test_stale_timestamp_is_rejected_as_misconfigured(sms_transport, aliyun_gateway):
    aliyun_gateway.clock_skew = timedelta(minutes=16)

    result = sms_transport.send(reminder())

    assert (result.outcome, result.code) == (Outcome.MISCONFIGURED, "InvalidTimeStamp.Expired")


def test_replayed_request_is_rejected_for_its_used_nonce(sms_transport, aliyun_gateway):
    sms_transport.send(reminder())
    [first] = aliyun_gateway.requests

    replay = httpx.post(f"http://{aliyun_gateway.endpoint}{first.target}", content=first.body,
                        headers={"Content-Type": first.content_type})

    assert (replay.status_code, replay.json()["Code"]) == (400, "SignatureNonceUsed")
    assert len(aliyun_gateway.accepted()) == 1


def test_tampered_form_body_fails_the_signature(sms_transport, aliyun_gateway):
    sms_transport.send(reminder())
    [first] = aliyun_gateway.requests

    tampered = httpx.post(f"http://{aliyun_gateway.endpoint}{first.target}",
                          content=first.body.replace(MOBILE.encode(), b"13900000000"),
                          headers={"Content-Type": first.content_type})

    assert (tampered.status_code, tampered.json()["Code"]) == (400, "SignatureDoesNotMatch")


@pytest.mark.parametrize(
    ("fault", "outcome", "code", "wait"),
    [
        (gw.http_500(), Outcome.RETRY, "InternalError", 60.0),
        (gw.throttled(), Outcome.RETRY, "Throttling.User", 5.0),
        (gw.business("isp.SYSTEM_ERROR", "系统错误"), Outcome.RETRY, "isp.SYSTEM_ERROR", 60.0),
        (gw.LIMIT_MINUTE, Outcome.RETRY, "isv.BUSINESS_LIMIT_CONTROL", 60.0),
        (gw.LIMIT_HOUR, Outcome.RETRY, "isv.BUSINESS_LIMIT_CONTROL", 3600.0),
        (gw.LIMIT_DAY, Outcome.RETRY, "isv.BUSINESS_LIMIT_CONTROL", 86400.0),
        (gw.MOBILE_ILLEGAL, Outcome.PERMANENT, "isv.MOBILE_NUMBER_ILLEGAL", None),
        (gw.business("isv.SMS_CONTENT_ILLEGAL"), Outcome.PERMANENT, "isv.SMS_CONTENT_ILLEGAL", None),
        (gw.AMOUNT_NOT_ENOUGH, Outcome.PAUSE_CHANNEL, "isv.AMOUNT_NOT_ENOUGH", None),
        (gw.business("isv.SMS_TEMPLATE_ILLEGAL"), Outcome.MISCONFIGURED, "isv.SMS_TEMPLATE_ILLEGAL", None),
        (gw.business("isv.SOMETHING_NEW"), Outcome.PERMANENT, "isv.SOMETHING_NEW", None),
        # A gateway in front of the API may have passed the request on: outcome unknown, looked up before resending.
        (gw.Fault("ServiceUnavailable.Unknown", 503), Outcome.UNKNOWN, "ServiceUnavailable.Unknown", 60.0),
        (gw.Fault("BadGateway", 502), Outcome.UNKNOWN, "BadGateway", 60.0),
        (gw.timeout(delay=0), Outcome.UNKNOWN, "ServiceTimeout", 60.0),
    ],
    ids=["http-500", "throttling", "isp-system-error", "limit-minute", "limit-hour", "limit-day",
         "mobile-illegal", "content-illegal", "amount-not-enough", "template-illegal", "unlisted-isv", "unlisted-503",
         "bad-gateway-502", "gateway-timeout-504"],
)
def test_scripted_gateway_error_maps_to_its_outcome(sms_transport, aliyun_gateway, fault, outcome, code, wait):
    aliyun_gateway.fail_next(fault)

    result = sms_transport.send(reminder())

    assert (result.outcome, result.code, result.retry_after_seconds) == (outcome, code, wait)
    assert aliyun_gateway.accepted() == []


def test_timeout_after_acceptance_is_unknown_and_lookup_finds_it(sms_transport, aliyun_gateway):
    aliyun_gateway.fail_next(gw.timeout(record=True))

    result = sms_transport.send(reminder("outbox-7"))
    found = sms_transport.lookup(reminder("outbox-7"), sent_on(aliyun_gateway))

    assert (result.outcome, result.code) == (Outcome.UNKNOWN, "SDK.HttpError")
    assert found is not None and found.outcome is Outcome.SENT


def test_timeout_before_acceptance_is_unknown_and_lookup_finds_nothing(sms_transport, aliyun_gateway):
    sms_transport.send(reminder("outbox-1"))  # another message that day, so the query has something to page
    aliyun_gateway.fail_next(gw.timeout(record=False))

    result = sms_transport.send(reminder("outbox-8"))

    assert result.outcome is Outcome.UNKNOWN
    assert sms_transport.lookup(reminder("outbox-8"), sent_on(aliyun_gateway)) is None


def test_lookup_pages_through_query_results(sms_transport, aliyun_gateway):
    for n in range(61):
        assert sms_transport.send(reminder(f"outbox-{n}")).outcome is Outcome.SENT
    queries_before = len(aliyun_gateway.requests)

    found = sms_transport.lookup(reminder("outbox-60"), sent_on(aliyun_gateway))

    assert found is not None and found.outcome is Outcome.SENT
    assert len(aliyun_gateway.requests) - queries_before == 2  # 50 on page 1, the 61st on page 2


def test_lookup_of_a_message_failed_at_the_carrier_is_permanent(sms_transport, aliyun_gateway):
    aliyun_gateway.carrier_rejects(MOBILE, "MK:0001")
    sms_transport.send(reminder())

    found = sms_transport.lookup(reminder(), sent_on(aliyun_gateway))

    assert found is not None and (found.outcome, found.code) == (Outcome.PERMANENT, "MK:0001")


def test_lookup_that_cannot_query_is_unknown(sms_transport, aliyun_gateway):
    sms_transport.send(reminder())
    aliyun_gateway.fail_next(gw.throttled(action="QuerySendDetails"))

    found = sms_transport.lookup(reminder(), sent_on(aliyun_gateway))

    assert found is not None and (found.outcome, found.code) == (Outcome.UNKNOWN, "Throttling.User")


def test_delivery_reports_map_send_status(sms_transport, aliyun_gateway):
    other = "13912345678"
    aliyun_gateway.carrier_rejects(other, "MK:0001")
    delivered = sms_transport.send(reminder("outbox-1"))
    sms_transport.send(reminder("outbox-2", mobile=other))
    day = sent_on(aliyun_gateway)

    [good] = sms_transport.delivery_reports(MOBILE, day, delivered.provider_id)
    [bad] = sms_transport.delivery_reports(other, day, None)

    assert (good.status, good.code, good.out_id, good.provider_id) == ("delivered", "DELIVERED", "outbox-1",
                                                                         delivered.provider_id)
    assert (bad.status, bad.code, bad.out_id) == ("failed", "MK:0001", "outbox-2")
    assert good.at is not None and good.at.utcoffset() == timedelta(hours=8)


def test_template_params_are_sent_as_a_json_string_of_strings(sms_transport, aliyun_gateway):
    sms_transport.send(replace(reminder(), params={"year": 7, "amount": "1200"}))  # type: ignore[dict-item]

    [request] = aliyun_gateway.requests
    body = dict(httpx.QueryParams(request.body.decode()))
    assert json.loads(body["TemplateParam"]) == {"year": "7", "amount": "1200"}


def test_gateway_with_templates_refuses_missing_variables(sms_settings):
    with AliyunGateway(templates={"SMS_465100001": "专利${number}年费${due}到期"}) as gateway:
        transport = AliyunSms(replace(sms_settings, endpoint=gateway.endpoint), KEY_ID, KEY_SECRET)
        result = transport.send(replace(reminder(), params={"number": "ZL202310123456.7"}))

    assert (result.outcome, result.code) == (Outcome.PERMANENT, "isv.TEMPLATE_MISSING_PARAMETERS")


def test_random_failures_are_reproducible_and_only_accepted_messages_count_as_sent(sms_transport, aliyun_gateway):
    aliyun_gateway.fail_at_random(rate=0.3, seed=42)

    results = {f"outbox-{n}": sms_transport.send(reminder(f"outbox-{n}")) for n in range(40)}

    sent = {key for key, result in results.items() if result.outcome is Outcome.SENT}
    unsure = {key for key, result in results.items() if result.outcome is Outcome.UNKNOWN}
    # Accepted then a 5xx: the gateway has it, the client cannot know (UNKNOWN, never RETRY: no blind resend).
    assert sent <= {m.out_id for m in aliyun_gateway.accepted()} <= sent | unsure and unsure
    assert 4 <= 40 - len(sent) <= 20
    assert {r.outcome for r in results.values()} <= {Outcome.SENT, Outcome.RETRY, Outcome.UNKNOWN}


@pytest.mark.parametrize(
    ("message", "outcome", "code"),
    [
        (reminder(template="no_such_template"), Outcome.MISCONFIGURED, "config.NO_TEMPLATE"),
        (reminder(mobile="0571-88886666"), Outcome.PERMANENT, "local.BAD_MOBILE"),
    ],
    ids=["unknown-template-key", "landline"],
)
def test_local_problems_are_answered_without_a_request(sms_transport, aliyun_gateway, message, outcome, code):
    result = sms_transport.send(message)

    assert (result.outcome, result.code) == (outcome, code) and aliyun_gateway.requests == []


def test_missing_keys_are_misconfigured_without_a_request(sms_settings, aliyun_gateway, monkeypatch):
    monkeypatch.delenv("ALIBABA_CLOUD_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", raising=False)

    result = AliyunSms(sms_settings).send(reminder())

    assert (result.outcome, result.code) == (Outcome.MISCONFIGURED, "config.NO_KEYS")
    assert aliyun_gateway.requests == []


def test_keys_are_read_from_the_environment(sms_settings, aliyun_gateway, monkeypatch):
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", KEY_SECRET)

    assert AliyunSms(sms_settings).send(reminder()).outcome is Outcome.SENT


def test_unreachable_gateway_is_retried_since_nothing_was_sent(sms_settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    transport = AliyunSms(replace(sms_settings, endpoint=f"127.0.0.1:{closed_port}"), KEY_ID, KEY_SECRET)

    result = transport.send(reminder())

    assert (result.outcome, result.code) == (Outcome.RETRY, "SDK.HttpError")


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("OK", Outcome.SENT),
        ("Throttling.Api", Outcome.RETRY),
        ("SignatureNonceUsed", Outcome.RETRY),
        ("SDK.HttpError", Outcome.UNKNOWN),
        ("isv.BLACK_KEY_CONTROL_LIMIT", Outcome.PERMANENT),
        ("isv.DAY_LIMIT_CONTROL", Outcome.PAUSE_CHANNEL),
        ("isp.RAM_PERMISSION_DENY", Outcome.MISCONFIGURED),
        ("isv.PRODUCT_UN_SUBSCRIPT", Outcome.MISCONFIGURED),
        ("isv.SIGN_STATE_ILLEGAL", Outcome.MISCONFIGURED),
        ("ServiceTimeout", Outcome.UNKNOWN),
        ("isp.SOMETHING_NEW", Outcome.RETRY),
    ],
)
def test_code_table_classifies(code, outcome):
    assert result_for_code(code).outcome is outcome


@pytest.mark.parametrize(
    ("message", "seconds"),
    [("触发分钟级流控Permits:1", 60), ("触发小时级流控Permits:5", 3600), ("触发天级流控Permits:10", 86400),
     ("Triggered hour-level flow control", 3600), ("流控", 3600)],
    ids=["minute", "hour", "day", "english-hour", "unnamed-window-waits-an-hour"],
)
def test_business_limit_waits_for_the_window_its_message_names(message, seconds):
    assert limit_window_seconds(message) == seconds


def test_lookup_accepts_a_plus_86_number(sms_transport, aliyun_gateway):
    sms_transport.send(reminder(mobile="+8613812345678"))

    found = sms_transport.lookup(reminder(mobile="+8613812345678"), sent_on(aliyun_gateway))

    assert found is not None and found.outcome is Outcome.SENT


def test_gateway_also_verifies_a_get_request_signed_by_the_sdk(aliyun_gateway):
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkcore.request import CommonRequest

    client = AcsClient(KEY_ID, KEY_SECRET, "cn-hangzhou", auto_retry=False, proxy={"http": None, "https": None})
    request = CommonRequest(domain=aliyun_gateway.endpoint, version="2017-05-25", action_name="SendSms")
    request.set_protocol_type("http")
    for name, value in {"PhoneNumbers": MOBILE, "SignName": "专利托管", "TemplateCode": "SMS_1",
                        "TemplateParam": '{"n": "1 2"}', "OutId": "get-1"}.items():
        request.add_query_param(name, value)

    answer = json.loads(client.do_action_with_exception(request))

    assert answer["Code"] == "OK" and aliyun_gateway.requests[-1].method == "GET"
    assert aliyun_gateway.accepted()[-1].params == {"n": "1 2"}

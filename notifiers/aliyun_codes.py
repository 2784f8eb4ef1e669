"""Alibaba Cloud SMS (Dysmsapi 2017-05-25) answer codes and what each means for the outbox, as data.

Errors come in two layers: business errors are HTTP 200 with `Code != "OK"`; gateway errors are HTTP 4xx/5xx
(the SDK raises ServerException) and network failures raise ClientException `SDK.HttpError`. Both layers share
this one table. A code not in it is judged by its family (`isp.*` platform faults and HTTP 500 are retried;
anything else is a problem with this message).

SendSms is not idempotent. A 502, 503 or 504 (or `ServiceTimeout`) comes from the gateway in front of the API,
which may already have passed the request on and seen it accepted: like a read timeout, its outcome is UNKNOWN,
and the outbox looks the message up by OutId (QuerySendDetails) before any resend. A duplicate SMS is what
enterprises block; a look-up costs a couple of minutes.
"""
from __future__ import annotations

from dataclasses import dataclass

from notifiers.base import Outcome, SendResult

# Backoff hints (seconds): the minimum wait; the outbox backs off further on repeated attempts.
THROTTLE_WAIT = 5.0  # Throttling.*: a QPS limit, gone within seconds
PLATFORM_WAIT = 60.0  # isp.SYSTEM_ERROR / HTTP 5xx: a platform fault
NETWORK_WAIT = 60.0  # the gateway could not be reached at all
# HTTP statuses of a gateway or proxy answering for the API: the request may have been accepted behind it.
OUTCOME_UNKNOWN_STATUSES = (502, 503, 504)
NONCE_WAIT = 1.0  # SignatureNonceUsed: a fresh request gets a fresh nonce
# isv.BUSINESS_LIMIT_CONTROL names its window ("触发分钟级流控", "触发小时级流控", "触发天级流控").
# Notification SMS are capped per (signature, template, number) in a rolling 24 hours, so a day means a day.
LIMIT_WINDOWS = (
    (("分钟", "minute"), 60.0),
    (("小时", "hour"), 3600.0),
    (("天", "日", "day"), 86400.0),
)
UNNAMED_LIMIT_WAIT = 3600.0  # a limit message we cannot read: wait an hour rather than loop
MAX_DETAIL = 200  # characters of the provider's message kept for the operator
# SignatureDoesNotMatch echoes the whole request it signed (phone numbers included): keep only the sentence.
ECHOED_REQUEST = " server string to sign is:"


@dataclass(frozen=True)
class CodeRule:
    outcome: Outcome
    meaning: str
    wait: float | None = None


def _rules(outcome: Outcome, meaning: str, codes: str, wait: float | None = None) -> dict[str, CodeRule]:
    return {code: CodeRule(outcome, meaning, wait) for code in codes.split()}


CODE_RULES: dict[str, CodeRule] = {
    **_rules(Outcome.SENT, "accepted", "OK"),
    **_rules(Outcome.RETRY, "flow control: retry after the named window", "isv.BUSINESS_LIMIT_CONTROL"),
    **_rules(Outcome.RETRY, "request rate throttled", "Throttling Throttling.User Throttling.Api", THROTTLE_WAIT),
    **_rules(
        Outcome.RETRY,
        "platform fault",
        "isp.SYSTEM_ERROR InternalError",
        PLATFORM_WAIT,
    ),
    **_rules(
        Outcome.UNKNOWN,
        "gateway fault after sending: the request may have been accepted (looked up before any resend)",
        "ServiceTimeout ServiceUnavailable ServiceUnavailable.Temporary GatewayTimeout BadGateway",
        NETWORK_WAIT,
    ),
    **_rules(Outcome.RETRY, "nonce reused (replay guard)", "SignatureNonceUsed", NONCE_WAIT),
    **_rules(Outcome.UNKNOWN, "network failure: the request may have been accepted", "SDK.HttpError", NETWORK_WAIT),
    **_rules(
        Outcome.PERMANENT,
        "bad request or content for this message",
        "isv.MOBILE_NUMBER_ILLEGAL isv.MOBILE_COUNT_OVER_LIMIT isv.TEMPLATE_MISSING_PARAMETERS "
        "isv.INVALID_PARAMETERS isv.INVALID_JSON_PARAM isv.PARAM_LENGTH_LIMIT isv.TEMPLATE_PARAMS_ILLEGAL "
        "isv.BLACK_KEY_CONTROL_LIMIT isv.SMS_CONTENT_ILLEGAL isv.PARAM_NOT_SUPPORT_URL isv.EXTEND_CODE_ERROR",
    ),
    # Configuration and credentials: the reference says "permanent; alert the operator". The message fails for
    # good (its fallback channel goes at once) and, since every later message would fail the same way, the
    # channel pauses too (MISCONFIGURED). Account and quota problems only pause: the message waits (the reference:
    # "pause the channel; alert the operator").
    **_rules(
        Outcome.MISCONFIGURED,
        "configuration (signature, template or number type): fix [sms]",
        "isv.SMS_TEMPLATE_ILLEGAL isv.SMS_SIGNATURE_ILLEGAL isv.SIGN_STATE_ILLEGAL isv.DOMESTIC_NUMBER_NOT_SUPPORTED "
        "isv.SMS_SIGN_ILLEGAL isv.TEMPLATE_STATE_ILLEGAL",
    ),
    **_rules(
        Outcome.PAUSE_CHANNEL,
        "account or quota: top up or raise the limit",
        "isv.AMOUNT_NOT_ENOUGH isv.OUT_OF_SERVICE isv.DAY_LIMIT_CONTROL isv.MONTH_LIMIT_CONTROL",
    ),
    **_rules(
        Outcome.MISCONFIGURED,
        "credentials or permission: check the access key",
        "SignatureDoesNotMatch InvalidAccessKeySecret InvalidAccessKeyId InvalidAccessKeyId.NotFound "
        "InvalidAccessKeyId.Inactive isp.RAM_PERMISSION_DENY isv.PRODUCT_UN_SUBSCRIPT isv.PRODUCT_UNSUBSCRIBE "
        "isv.ACCOUNT_NOT_EXISTS isv.ACCOUNT_ABNORMAL Forbidden.RAM Forbidden.AccessKeyDisabled",
    ),
    # The server rejected our clock: every request will fail until the host's time is fixed.
    **_rules(Outcome.MISCONFIGURED, "clock more than 15 minutes off: fix the host's time", "InvalidTimeStamp.Expired"),
}


def result_for_code(code: str, message: str = "", http_status: int | None = None) -> SendResult:
    """The SendResult for a provider code (business or gateway), with a wait hint where one applies."""
    rule = _unknown_rule(http_status) or CODE_RULES.get(code) or _family_rule(code, http_status)
    message = message.split(ECHOED_REQUEST, 1)[0][:MAX_DETAIL]
    detail = f"{code}: {message}" if message else code
    if code == "isv.BUSINESS_LIMIT_CONTROL":
        return SendResult(Outcome.RETRY, code=code, detail=detail, retry_after_seconds=limit_window_seconds(message))
    return SendResult(rule.outcome, code=code, detail=f"{detail} ({rule.meaning})", retry_after_seconds=rule.wait)


def limit_window_seconds(message: str) -> float:
    """The flow-control window a BUSINESS_LIMIT_CONTROL message names, in seconds."""
    lowered = message.lower()
    for words, seconds in LIMIT_WINDOWS:
        if any(word in lowered for word in words):
            return seconds
    return UNNAMED_LIMIT_WAIT


def _unknown_rule(http_status: int | None) -> CodeRule | None:
    if http_status in OUTCOME_UNKNOWN_STATUSES:
        return CodeRule(Outcome.UNKNOWN, f"HTTP {http_status} from the gateway: the request may have been accepted "
                                         f"(looked up before any resend)", NETWORK_WAIT)
    return None


def _family_rule(code: str, http_status: int | None) -> CodeRule:
    if code.startswith("isp.") or (http_status or 0) >= 500:
        return CodeRule(Outcome.RETRY, "unlisted platform fault", PLATFORM_WAIT)
    if code.startswith("SDK."):
        return CodeRule(Outcome.MISCONFIGURED, "SDK could not build the request: check [sms]")
    return CodeRule(Outcome.PERMANENT, "unlisted error for this message")

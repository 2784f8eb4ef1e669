"""SMS through Alibaba Cloud Dysmsapi (SendSms, QuerySendDetails) with aliyun-python-sdk-core over HTTP(S).

Keys come only from the environment (ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET); the endpoint
is a setting, so tests point it at a local gateway. The SDK's own retries are off: SendSms is not idempotent,
so a timeout is UNKNOWN and the outbox looks the message up by OutId (our key) before any resend.
Action parameters go in a signed form body (POST), which keeps phone numbers out of URLs and proxy logs.
"""
from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aliyunsdkcore.acs_exception.exceptions import ClientException, ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import CommonRequest

from custody.config import ConfigError, secret
from custody.explained import tx
from custody.masking import mask_loggers, mask_phone, mask_text
from notifiers.aliyun_codes import NETWORK_WAIT, result_for_code
from notifiers.base import ChannelLimits, DeliveryReport, Message, Outcome, QueryFailed, SendResult

log = logging.getLogger(__name__)

KEY_ID_ENV = "ALIBABA_CLOUD_ACCESS_KEY_ID"
KEY_SECRET_ENV = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
API_VERSION = "2017-05-25"
PAGE_SIZE = 50  # QuerySendDetails allows 1-50 per page
MAX_PAGES = 20  # 1000 messages to one number in one day is far beyond any reminder plan
SHANGHAI = ZoneInfo("Asia/Shanghai")
MOBILE = re.compile(r"(?:\+?86)?1[3-9]\d{9}")
LOOPBACK = re.compile(r"^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$")
SEND_STATUS = {"1": "waiting", "2": "failed", "3": "delivered"}

# Dysmsapi limits: a template holds at most 500 characters (70 per billed part, 67 when split);
# notification SMS are capped at 50 a day per (signature, template, number); the API takes 5000 requests/s.
# A variable's length limit depends on its type (isv.PARAM_LENGTH_LIMIT); 35 characters is the common one.
SMS_LIMITS = ChannelLimits(max_chars=500, per_recipient_per_day=50, per_second=5000.0, max_param_chars=35)

# The SDK logs request parameters at DEBUG and errors with URLs: mask them where they are created.
mask_loggers(
    "aliyunsdkcore.client",
    "aliyunsdkcore.http.http_response",
    "aliyunsdkcore.vendored.requests.packages.urllib3.connectionpool",
)


@dataclass(frozen=True)
class SmsSettings:
    enabled: bool = False
    endpoint: str = "dysmsapi.aliyuncs.com"
    protocol: str = "https"
    region: str = "cn-hangzhou"
    sign_name: str = ""
    templates: Mapping[str, str] = field(default_factory=dict)  # template key -> approved TemplateCode
    connect_timeout: float = 5.0
    read_timeout: float = 10.0

    @classmethod
    def from_section(cls, section: Mapping[str, Any], origin: str = "config") -> SmsSettings:
        try:
            settings = cls(**section)
        except TypeError as exc:
            raise ConfigError(tx("{where}: [sms]: {problem}", where=origin, problem=str(exc))) from None
        if settings.protocol not in ("http", "https"):
            raise ConfigError(tx("{where}: [sms].protocol must be http or https, not {value!r}", where=origin,
                                     value=settings.protocol))
        if settings.enabled and not settings.sign_name:
            raise ConfigError(tx("{where}: [sms].sign_name is required when SMS is enabled", where=origin))
        return settings


class AliyunSms:
    """Transport and Reconciling for channel "sms"."""

    name = "sms"
    limits = SMS_LIMITS

    def __init__(self, settings: SmsSettings, key_id: str | None = None, key_secret: str | None = None):
        self.settings = settings
        self._key_id = key_id or secret(KEY_ID_ENV)
        self._key_secret = key_secret or secret(KEY_SECRET_ENV)
        self._acs: AcsClient | None = None

    @property
    def missing_secret(self) -> str | None:
        return None if self._key_id and self._key_secret else f"{KEY_ID_ENV} / {KEY_SECRET_ENV} not set"

    def send(self, message: Message) -> SendResult:
        problem = self._send_problem(message)
        if problem:
            return problem
        body = {
            "PhoneNumbers": message.recipient,
            "SignName": self.settings.sign_name,
            "TemplateCode": self.settings.templates[message.template],
            "TemplateParam": json.dumps({k: str(v) for k, v in message.params.items()}, ensure_ascii=False),
            "OutId": message.key,
        }
        answer = self._call("SendSms", body)
        result = answer if isinstance(answer, SendResult) else self._send_result(answer)
        log.info("sms %s to %s: %s %s", message.key, mask_phone(message.recipient), result.outcome, result.code or "")
        return result

    def lookup(self, message: Message, sent_on: date) -> SendResult | None:
        try:
            records = self._details(message.recipient, sent_on, None, stop_at_out_id=message.key)
        except QueryFailed as failed:
            return failed.result
        for record in records:
            if record.get("OutId") == message.key:
                return _lookup_result(record)
        return None

    def delivery_reports(self, mobile: str, sent_on: date, provider_id: str | None) -> list[DeliveryReport]:
        return [_report(record, provider_id) for record in self._details(mobile, sent_on, provider_id)]

    def _send_problem(self, message: Message) -> SendResult | None:
        if self.missing_secret:  # never claimed by such a process (scheduler.dispatch): only a direct call gets here
            return _misconfigured("config.NO_KEYS", f"set {KEY_ID_ENV} and {KEY_SECRET_ENV} in the environment")
        if not message.template:
            return SendResult(Outcome.PERMANENT, code="local.NO_TEMPLATE", detail="an SMS needs a template key")
        if message.template not in self.settings.templates:
            return _misconfigured("config.NO_TEMPLATE", f"no [sms.templates] entry for {message.template!r}")
        if not MOBILE.fullmatch(message.recipient):
            return SendResult(Outcome.PERMANENT, code="local.BAD_MOBILE", detail="not a mainland mobile number")
        return None

    def _send_result(self, answer: Mapping[str, Any]) -> SendResult:
        code = str(answer.get("Code", ""))
        if code == "OK":
            return SendResult(Outcome.SENT, provider_id=answer.get("BizId"), code=code)
        return _masked(result_for_code(code, str(answer.get("Message", ""))))

    def _details(
        self, mobile: str, sent_on: date, provider_id: str | None, stop_at_out_id: str | None = None
    ) -> list[Mapping[str, Any]]:
        """QuerySendDetails, all pages (or until the page holding `stop_at_out_id`)."""
        if self.missing_secret:
            raise QueryFailed(_misconfigured("config.NO_KEYS", f"set {KEY_ID_ENV} and {KEY_SECRET_ENV}"))
        records: list[Mapping[str, Any]] = []
        page, pages = 1, 1
        while page <= min(pages, MAX_PAGES):
            answer = self._call("QuerySendDetails", _query_body(mobile, sent_on, provider_id, page))
            if isinstance(answer, SendResult):
                raise QueryFailed(_query_failure(answer))
            if answer.get("Code") != "OK":
                raise QueryFailed(_query_failure(self._send_result(answer)))
            found = answer.get("SmsSendDetailDTOs", {}).get("SmsSendDetailDTO", [])
            records.extend(found)
            if stop_at_out_id and any(r.get("OutId") == stop_at_out_id for r in found):
                break
            pages = math.ceil(int(answer.get("TotalCount", 0) or 0) / PAGE_SIZE)
            page += 1
        return records

    def _call(self, action: str, body: Mapping[str, str]) -> Mapping[str, Any] | SendResult:
        """The decoded JSON answer of an HTTP 200, or the SendResult of a failure (never raises)."""
        try:
            raw = self._client().do_action_with_exception(self._request(action, body))
        except ServerException as exc:
            return _masked(result_for_code(exc.get_error_code(), exc.get_error_msg(), exc.get_http_status()))
        except ClientException as exc:
            return _client_failure(exc, self.settings.read_timeout)
        except Exception as exc:  # the SDK's internals: we cannot tell whether the request left
            return SendResult(Outcome.UNKNOWN, code="local.SDK_FAILURE", detail=mask_text(f"{type(exc).__name__}"))
        try:
            answer = json.loads(raw)
        except ValueError:
            return SendResult(Outcome.UNKNOWN, code="local.BAD_RESPONSE", detail="HTTP 200 without JSON")
        return answer if isinstance(answer, dict) else SendResult(Outcome.UNKNOWN, code="local.BAD_RESPONSE")

    def _client(self) -> AcsClient:
        if self._acs is None:  # one client keeps one pool of keep-alive connections
            self._acs = self._new_client()
        return self._acs

    def _new_client(self) -> AcsClient:
        local = bool(LOOPBACK.match(self.settings.endpoint))
        return AcsClient(
            self._key_id,
            self._key_secret,
            self.settings.region,
            auto_retry=False,
            connect_timeout=self.settings.connect_timeout,
            timeout=self.settings.read_timeout,
            # The SDK sends even loopback traffic to an HTTP_PROXY from the environment and ignores NO_PROXY.
            proxy={"http": None, "https": None} if local else None,
        )

    def _request(self, action: str, body: Mapping[str, str]) -> CommonRequest:
        request = CommonRequest(domain=self.settings.endpoint, version=API_VERSION, action_name=action)
        request.set_protocol_type(self.settings.protocol)  # the SDK defaults to plain HTTP
        request.set_method("POST")
        request.set_accept_format("json")
        for name, value in body.items():
            request.add_body_params(name, value)
        return request


def _query_body(mobile: str, sent_on: date, provider_id: str | None, page: int) -> dict[str, str]:
    body = {
        "PhoneNumber": _national(mobile),
        "SendDate": sent_on.strftime("%Y%m%d"),
        "PageSize": str(PAGE_SIZE),
        "CurrentPage": str(page),
    }
    if provider_id:
        body["BizId"] = provider_id
    return body


def _national(mobile: str) -> str:
    """The 11-digit number without +86: QuerySendDetails takes one national number."""
    digits = mobile.strip().removeprefix("+")
    return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits


def _client_failure(exc: ClientException, read_timeout: float) -> SendResult:
    """SDK.HttpError: a refused or timed-out connection never carried the request; anything later might have."""
    text = str(exc.get_error_msg())
    if exc.get_error_code() != "SDK.HttpError":
        return _masked(result_for_code(exc.get_error_code(), text))
    if "NewConnectionError" in text or "ConnectTimeout" in text:
        return SendResult(Outcome.RETRY, code="SDK.HttpError", detail="could not connect",
                          retry_after_seconds=NETWORK_WAIT)
    what = f"no answer within {read_timeout:g} s" if "timed out" in text.lower() else "connection lost"
    return SendResult(Outcome.UNKNOWN, code="SDK.HttpError", detail=what, retry_after_seconds=NETWORK_WAIT)


def _lookup_result(record: Mapping[str, Any]) -> SendResult:
    status = SEND_STATUS.get(str(record.get("SendStatus")), "waiting")
    code = record.get("ErrCode") or None
    if status == "failed":
        return SendResult(Outcome.PERMANENT, code=code, detail="accepted, then failed at the carrier")
    return SendResult(Outcome.SENT, code=code, detail=f"found by OutId: {status}")


def _report(record: Mapping[str, Any], provider_id: str | None) -> DeliveryReport:
    return DeliveryReport(
        mobile=str(record.get("PhoneNum", "")),
        provider_id=provider_id,
        out_id=record.get("OutId") or None,
        status=SEND_STATUS.get(str(record.get("SendStatus")), "waiting"),
        code=record.get("ErrCode") or None,
        at=_shanghai_time(record.get("ReceiveDate")),
    )


def _shanghai_time(text: str | None) -> datetime | None:
    try:
        return datetime.strptime(text or "", "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI)
    except ValueError:
        return None


def _query_failure(result: SendResult) -> SendResult:
    """A failed query says nothing about the message: the caller waits (UNKNOWN) unless the channel is broken."""
    if result.outcome in (Outcome.PAUSE_CHANNEL, Outcome.MISCONFIGURED):
        return result
    return SendResult(Outcome.UNKNOWN, code=result.code, detail=result.detail,
                      retry_after_seconds=result.retry_after_seconds or NETWORK_WAIT)


def _misconfigured(code: str, detail: str) -> SendResult:
    return SendResult(Outcome.MISCONFIGURED, code=code, detail=detail)


def _masked(result: SendResult) -> SendResult:
    return SendResult(result.outcome, result.provider_id, result.code, mask_text(result.detail),
                      result.retry_after_seconds)

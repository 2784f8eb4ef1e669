"""A local Alibaba Cloud SMS gateway (Dysmsapi SendSms + QuerySendDetails) for tests, on 127.0.0.1.

It checks requests the way the real one does: the POP RPC v1 HMAC-SHA1 signature over every query and form
parameter (the blank SignatureType included), Timestamps more than 15 minutes off, and reused nonces. It records
each accepted message and serves it back through QuerySendDetails. Tests script failures: a queue of `Fault`s
taken one per request of their action, or a seeded random share of failing requests.

    with AliyunGateway(templates={"SMS_1": "专利${number}年费${due}到期"}) as gateway:
        gateway.fail_next(timeout(record=True), throttled())
        ... SmsSettings(endpoint=gateway.endpoint, protocol="http", ...)
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import random
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, urlsplit
from zoneinfo import ZoneInfo

KEY_ID = "LTAI5tTestKeyId000001"
KEY_SECRET = "TestSecret0123456789abcdefABCD"
SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_SKEW = timedelta(minutes=15)
VARIABLE = re.compile(r"\$\{(\w+)\}")


@dataclass(frozen=True)
class Fault:
    """One scripted failure for the next request of `action`."""

    code: str
    http_status: int = 200  # business errors are HTTP 200 with Code != OK
    message: str = ""
    delay: float = 0.0  # seconds to hold the answer: past the client's read timeout, a timeout
    record: bool = False  # accept and record the message first (the answer is what gets lost)
    action: str = "SendSms"


def timeout(record: bool = False, delay: float = 3.0, action: str = "SendSms") -> Fault:
    """No answer in time; with record=True the message was accepted all the same."""
    return Fault("ServiceTimeout", 504, "held past the client's timeout", delay, record, action)


def accepted_then(status: int = 504, action: str = "SendSms") -> Fault:
    """The message is accepted behind a gateway that then answers 5xx at once: the client cannot know."""
    codes = {502: "BadGateway", 503: "ServiceUnavailable", 504: "ServiceTimeout"}
    return Fault(codes[status], status, "the gateway lost the answer", record=True, action=action)


def http_500(action: str = "SendSms") -> Fault:
    return Fault("InternalError", 500, "The request processing has failed due to some unknown error.", action=action)


def throttled(action: str = "SendSms") -> Fault:
    return Fault("Throttling.User", 400, "Request was denied due to user flow control.", action=action)


def business(code: str, message: str = "", action: str = "SendSms") -> Fault:
    return Fault(code, 200, message or code, action=action)


LIMIT_MINUTE = business("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1")
LIMIT_HOUR = business("isv.BUSINESS_LIMIT_CONTROL", "触发小时级流控Permits:5")
LIMIT_DAY = business("isv.BUSINESS_LIMIT_CONTROL", "触发天级流控Permits:10")
MOBILE_ILLEGAL = business("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
AMOUNT_NOT_ENOUGH = business("isv.AMOUNT_NOT_ENOUGH", "账户余额不足")
RANDOM_MIX = (http_500(), throttled(), LIMIT_MINUTE, business("isp.SYSTEM_ERROR", "系统错误"), accepted_then(504))


def percent(text: str) -> str:
    """RFC 3986 encoding as Aliyun signs it: UTF-8, only A-Za-z0-9-_.~ left bare (space is %20)."""
    return quote(text, safe="-_.~")


def string_to_sign(method: str, params: Mapping[str, str]) -> str:
    joined = "&".join(f"{percent(k)}={percent(v)}" for k, v in sorted(params.items()) if k != "Signature")
    return f"{method}&{percent('/')}&{percent(joined)}"


def signature(method: str, params: Mapping[str, str], secret: str) -> str:
    digest = hmac.new(f"{secret}&".encode(), string_to_sign(method, params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@dataclass
class SentSms:
    biz_id: str
    phone: str
    sign_name: str
    template_code: str
    params: dict[str, str]
    out_id: str | None
    sent_at: datetime  # Asia/Shanghai
    content: str
    send_status: int = 3  # 1 waiting, 2 failed, 3 delivered
    err_code: str = "DELIVERED"


@dataclass(frozen=True)
class RawRequest:
    method: str
    target: str  # path and query, as sent
    body: bytes
    content_type: str
    status: int
    code: str


@dataclass
class Answer:
    status: int
    payload: dict
    delay: float = 0.0


@dataclass
class _Script:
    queue: list[Fault] = field(default_factory=list)
    rate: float = 0.0
    rng: random.Random = field(default_factory=random.Random)
    mix: tuple[Fault, ...] = ()

    def next_fault(self, action: str) -> Fault | None:
        for index, fault in enumerate(self.queue):
            if fault.action == action:
                return self.queue.pop(index)
        if action == "SendSms" and self.rate and self.rng.random() < self.rate:
            return self.rng.choice(self.mix)
        return None


class AliyunGateway:
    def __init__(
        self,
        keys: Mapping[str, str] | None = None,
        templates: Mapping[str, str] | None = None,
        sign_names: Iterable[str] = (),
        clock: Callable[[], datetime] | None = None,
    ):
        self.keys = dict(keys or {KEY_ID: KEY_SECRET})
        self.templates = dict(templates or {})  # TemplateCode -> text with ${variables}; empty: accept any
        self.sign_names = set(sign_names)  # empty: accept any
        self.clock = clock or (lambda: datetime.now(UTC))
        self.clock_skew = timedelta()  # move the gateway's clock to test stale Timestamps
        # The clock that dates recorded messages (QuerySendDetails asks by day): a test moving its own clock sets
        # it, while Timestamps are still checked against the real one.
        self.message_clock: Callable[[], datetime] | None = None
        self.messages: list[SentSms] = []
        self.requests: list[RawRequest] = []
        self.carrier_failures: dict[str, str] = {}  # mobile -> carrier error code (SendStatus 2)
        self.carrier_silent: set[str] = set()  # mobiles whose messages never get a receipt (SendStatus 1)
        self.refused: dict[str, Fault] = {}  # mobile -> the business error every SendSms to it gets
        # Called with each SendSms request's parameters once it is handled and before it is answered (outside the
        # gateway's lock, so other requests are served meanwhile): a test makes the gateway slow with it.
        self.while_sending: Callable[[dict[str, str]], None] | None = None
        self._nonces: set[str] = set()
        self._script = _Script()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._biz_ids = itertools.count(900619746936498440, 7919)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        # A short poll keeps shutdown() quick (it waits for the serving loop to notice).
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), name="aliyun-gateway",
                                        daemon=True)

    # -- life cycle -------------------------------------------------------------------------------------------
    def __enter__(self) -> AliyunGateway:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._stopping.set()  # wakes handlers sleeping through a scripted timeout
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def endpoint(self) -> str:
        """host:port, the value for [sms].endpoint (with protocol "http")."""
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    # -- scripting --------------------------------------------------------------------------------------------
    def fail_next(self, *scripted: Fault) -> None:
        """Answer the next requests of each fault's action with these faults, in order."""
        with self._lock:
            self._script.queue.extend(scripted)

    def fail_at_random(self, rate: float = 0.3, seed: int = 0, mix: Iterable[Fault] = RANDOM_MIX) -> None:
        """Fail this share of SendSms requests, choosing among `mix`, reproducibly."""
        with self._lock:
            self._script.rate, self._script.rng, self._script.mix = rate, random.Random(seed), tuple(mix)

    def refuse(self, mobile: str, fault: Fault = MOBILE_ILLEGAL) -> None:
        """Every SendSms to this number is answered with `fault` (e.g. isv.MOBILE_NUMBER_ILLEGAL), for good."""
        self.refused[_national(mobile)] = fault

    def carrier_rejects(self, mobile: str, code: str = "MK:0001") -> None:
        """Messages to this number are accepted but fail at the carrier (QuerySendDetails SendStatus 2)."""
        self.carrier_failures[_national(mobile)] = code

    def accepted(self) -> list[SentSms]:
        with self._lock:
            return list(self.messages)

    # -- request handling -------------------------------------------------------------------------------------
    def answer(self, method: str, target: str, body: bytes, content_type: str) -> Answer:
        params = dict(parse_qsl(urlsplit(target).query, keep_blank_values=True))
        if "application/x-www-form-urlencoded" in content_type:
            params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        with self._lock:
            answer = self._checked(method, urlsplit(target).path, params) or self._action(params)
            code = answer.payload.get("Code", "")
            self.requests.append(RawRequest(method, target, body, content_type, answer.status, code))
        if self.while_sending is not None and params.get("Action") == "SendSms":
            self.while_sending(params)
        return answer

    def _checked(self, method: str, path: str, params: dict[str, str]) -> Answer | None:
        """The gateway's rejection of a badly signed, stale or replayed request; None if it passes."""
        if path != "/":
            return _error(404, "InvalidAction.NotFound", "RPC requests go to /")
        secret = self.keys.get(params.get("AccessKeyId", ""))
        if secret is None:
            return _error(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        if (params.get("SignatureMethod"), params.get("SignatureVersion")) != ("HMAC-SHA1", "1.0"):
            return _error(400, "InvalidSignatureMethod", "Only HMAC-SHA1 version 1.0 is supported here.")
        expected = signature(method, params, secret)
        if not hmac.compare_digest(expected.encode(), params.get("Signature", "").encode()):
            text = "Specified signature is not matched with our calculation. server string to sign is:"
            return _error(400, "SignatureDoesNotMatch", text + string_to_sign(method, params))
        if not self._is_fresh(params.get("Timestamp", "")):
            return _error(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
        nonce = params.get("SignatureNonce", "")
        if not nonce or nonce in self._nonces:
            return _error(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
        self._nonces.add(nonce)
        return None

    def _is_fresh(self, timestamp: str) -> bool:
        try:
            sent = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            return False
        return abs(self.clock() + self.clock_skew - sent) <= MAX_SKEW

    def _action(self, params: dict[str, str]) -> Answer:
        action = params.get("Action", "")
        if params.get("Version") != "2017-05-25" or action not in ("SendSms", "QuerySendDetails"):
            return _error(404, "InvalidVersion", f"{action} {params.get('Version')} is not served here")
        fault = self._script.next_fault(action)
        if fault is None and action == "SendSms":
            fault = next((self.refused[n] for n in map(_national, params.get("PhoneNumbers", "").split(","))
                          if n in self.refused), None)
        if fault is not None:
            return self._faulted(fault, params)
        return self._send(params) if action == "SendSms" else self._query(params)

    def _faulted(self, fault: Fault, params: dict[str, str]) -> Answer:
        if fault.record and params.get("Action") == "SendSms":
            self._send(params)  # accepted and recorded; the client only sees the failure
        return Answer(fault.http_status, _payload(fault.code, fault.message), fault.delay)

    def _send(self, params: dict[str, str]) -> Answer:
        problem = self._send_problem(params)
        if problem:
            return problem
        now = ((self.message_clock or self.clock)() + self.clock_skew).astimezone(SHANGHAI)
        variables = json.loads(params.get("TemplateParam") or "{}")
        biz_id = f"{next(self._biz_ids)}^0"
        for phone in params["PhoneNumbers"].split(","):
            national = _national(phone)
            failure = self.carrier_failures.get(national)
            status, code = (1, "") if national in self.carrier_silent else (2, failure) if failure else (3, "DELIVERED")
            self.messages.append(SentSms(
                biz_id, national, params["SignName"], params["TemplateCode"], variables, params.get("OutId"),
                now, self._content(params, variables), status, code,
            ))
        return Answer(200, {**_payload("OK", "OK"), "BizId": biz_id})

    def _send_problem(self, params: dict[str, str]) -> Answer | None:
        for name in ("PhoneNumbers", "SignName", "TemplateCode"):
            if not params.get(name):
                return _error(400, f"Missing{name}", f"{name} is mandatory for this action.")
        phones = params["PhoneNumbers"].split(",")
        if len(phones) > 1000:
            return _business("isv.MOBILE_COUNT_OVER_LIMIT", "手机号码数量超过限制")
        if not all(re.fullmatch(r"1\d{10}", _national(p)) for p in phones):
            return _business("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        if self.sign_names and params["SignName"] not in self.sign_names:
            return _business("isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
        if self.templates and params["TemplateCode"] not in self.templates:
            return _business("isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
        return _template_param_problem(params.get("TemplateParam"), self.templates.get(params["TemplateCode"]))

    def _content(self, params: dict[str, str], variables: dict[str, str]) -> str:
        text = self.templates.get(params["TemplateCode"], params["TemplateCode"])
        return f"【{params['SignName']}】" + VARIABLE.sub(lambda m: variables.get(m.group(1), ""), text)

    def _query(self, params: dict[str, str]) -> Answer:
        try:
            size, page = int(params.get("PageSize", "")), int(params.get("CurrentPage", "1"))
            day = datetime.strptime(params.get("SendDate", ""), "%Y%m%d").date()
        except ValueError:
            return _business("isv.INVALID_PARAMETERS", "PageSize, CurrentPage or SendDate is invalid")
        if not 1 <= size <= 50 or page < 1 or not params.get("PhoneNumber"):
            return _business("isv.INVALID_PARAMETERS", "参数异常")
        phone, biz_id = _national(params["PhoneNumber"]), params.get("BizId")
        matching = [m for m in self.messages if m.phone == phone and m.sent_at.date() == day
                    and (not biz_id or m.biz_id == biz_id)]
        shown = matching[(page - 1) * size: page * size]
        details = {"SmsSendDetailDTO": [_detail(m) for m in shown]}
        return Answer(200, {**_payload("OK", "OK"), "TotalCount": len(matching), "SmsSendDetailDTOs": details})


def _template_param_problem(raw: str | None, template: str | None) -> Answer | None:
    try:
        variables = json.loads(raw or "{}")
    except ValueError:
        return _business("isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
    if not isinstance(variables, dict) or not all(isinstance(v, str) for v in variables.values()):
        return _business("isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
    missing = set(VARIABLE.findall(template or "")) - set(variables)
    if missing:
        return _business("isv.TEMPLATE_MISSING_PARAMETERS", f"模板缺少变量 {sorted(missing)}")
    return None


def _detail(message: SentSms) -> dict[str, object]:
    stamp = message.sent_at.strftime("%Y-%m-%d %H:%M:%S")
    return {
        "PhoneNum": message.phone, "SendStatus": message.send_status, "ErrCode": message.err_code,
        "TemplateCode": message.template_code, "Content": message.content, "SendDate": stamp,
        "ReceiveDate": stamp, "OutId": message.out_id or "",
    }


def _national(phone: str) -> str:
    phone = phone.strip().removeprefix("+")
    return phone[2:] if len(phone) == 13 and phone.startswith("86") else phone


def _payload(code: str, message: str) -> dict:
    return {"RequestId": str(uuid.uuid4()).upper(), "Code": code, "Message": message}


def _error(status: int, code: str, message: str) -> Answer:
    return Answer(status, _payload(code, message))


def _business(code: str, message: str) -> Answer:
    """Business errors are HTTP 200 with Code != OK."""
    return Answer(200, _payload(code, message))


def _handler_for(gateway: AliyunGateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            answer = gateway.answer(self.command, self.path, body, self.headers.get("Content-Type", ""))
            if answer.delay and gateway._stopping.wait(answer.delay):
                return
            data = json.dumps(answer.payload, ensure_ascii=False).encode()
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a scripted timeout): nothing to answer

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output quiet (and phone numbers out of it)

    return Handler

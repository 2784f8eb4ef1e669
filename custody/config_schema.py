"""The configuration file's shape: every section a typed model, with every default in one place.

Strict typing: TOML has real booleans, numbers and lists, so `digest = "no"`, `port = "x"` or
`notify_channels = "email"` are refused rather than read as something else; unknown keys are refused (a typo
would otherwise be a setting silently ignored); numbers are bounded. config.toml documents exactly these
defaults (a test compares them). The rule and reminder defaults are the core's own (custody.ruleset,
custody.reminder_settings), so a library caller without a file gets the same values.
"""
from __future__ import annotations

from datetime import time
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from custody.ops_schedule import _BOUNDS as _OPS_BOUNDS
from custody.ops_schedule import OpsSettings
from custody.reminder_policy import ANCHORS, KINDS
from custody.reminder_settings import AUDIENCE_WORDS, CHANNELS, CONTACT_ROLES, HealthThresholds, ReminderSettings
from custody.reminder_settings import RetryPolicy as _Retry
from custody.ruleset import (
    COMPENSATION_WHOLE_YEARS,
    GRACE_BASES,
    GRANT_YEAR_INFERENCES,
    OPEN_LICENCE_MAPPINGS,
    RuleSettings,
)
from custody.status_effects import ASSUMED_NOTICE_MONTHS

DEFAULT_DATABASE_URL = "sqlite:///custody.sqlite3"
IMPORT_KINDS = ("enterprises", "patents", "payments")

Text = Annotated[str, Field(min_length=1)]
Seconds = Annotated[float, Field(gt=0, le=86_400)]
STATEMENT_PERIODS = ("monthly", "quarterly")

if TYPE_CHECKING:
    # mypy reads a Literal only from words written in place; the words live once, beside the rules that use them,
    # so the type checker sees plain text and pydantic (below) checks the word.
    Channel = str
    Audience = str
    ContactRole = str
    GraceBase = str
    GrantYearInference = str
    OpenLicenceMapping = str
    CompensationWholeYear = str
    Anchor = str
    ReminderKind = str
    ImportKind = str
    StatementPeriod = str
else:
    Channel = Literal[CHANNELS]
    Audience = Literal[CONTACT_ROLES + AUDIENCE_WORDS]
    ContactRole = Literal[CONTACT_ROLES]
    GraceBase = Literal[GRACE_BASES]
    GrantYearInference = Literal[GRANT_YEAR_INFERENCES]
    OpenLicenceMapping = Literal[OPEN_LICENCE_MAPPINGS]
    CompensationWholeYear = Literal[COMPENSATION_WHOLE_YEARS]
    Anchor = Literal[ANCHORS]
    ReminderKind = Literal[KINDS]
    ImportKind = Literal[IMPORT_KINDS]
    StatementPeriod = Literal[STATEMENT_PERIODS]


class KeyProblem(ValueError):
    """A check across keys, blamed on one of them (`key`) so the message names it."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(problem)
        self.key = key


class Section(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, populate_by_name=True)


class General(Section):
    language: Literal["zh", "en"] = "zh"
    log_file: Text | None = None  # None: custody.config.DEFAULT_LOG_FILE, in the working directory


class Database(Section):
    url: Text = DEFAULT_DATABASE_URL


class Calendar(Section):
    """Nothing to set: loaded holiday schedules live in the database."""


_RULES = RuleSettings()


class Rules(Section):
    grace_base: GraceBase = _RULES.grace_base
    grant_year_inference: GrantYearInference = _RULES.grant_year_inference
    open_licence_mapping: OpenLicenceMapping = _RULES.open_licence_mapping
    reduction_lead_months: int = Field(_RULES.reduction_lead_months, ge=0, le=12)
    advance_payment_months: int = Field(_RULES.advance_payment_months, ge=0, le=12)
    restoration_back_fee_months: int = Field(_RULES.restoration_back_fee_months, ge=0, le=6)
    compensation_whole_year: CompensationWholeYear = _RULES.compensation_whole_year


class Sms(Section):
    enabled: bool = False
    endpoint: Text = "dysmsapi.aliyuncs.com"
    protocol: Literal["http", "https"] = "https"
    region: Text = "cn-hangzhou"
    sign_name: str = ""
    templates: dict[str, Text] = Field(default_factory=dict)
    connect_timeout: Seconds = 5.0
    read_timeout: Seconds = 10.0

    @model_validator(mode="after")
    def _signed_when_enabled(self) -> Sms:
        if self.enabled and not self.sign_name:
            raise KeyProblem("sign_name", "required when enabled = true (the approved signature, without 【】)")
        return self


class Email(Section):
    enabled: bool = False
    host: str = ""
    port: int = Field(465, ge=1, le=65_535)
    security: Literal["ssl", "starttls", "none"] = "ssl"
    username: str = ""
    from_address: str = ""
    from_name: str = ""
    timeout: Seconds = 30.0
    per_second: float | None = Field(None, gt=0, le=1000)

    @model_validator(mode="after")
    def _addressed_when_enabled(self) -> Email:
        for key in ("host", "from_address"):
            if self.enabled and not getattr(self, key):
                raise KeyProblem(key, "required when enabled = true")
        return self


class Outbox(Section):
    dir: Text = "outbox"
    replace: bool = False


class Alerts(Section):
    enabled: bool = False
    kind: Literal["wecom", "dingtalk"] = "wecom"
    format: Literal["text", "markdown"] = "text"
    keyword: str = ""
    timeout: Seconds = 10.0


_REMINDERS = ReminderSettings()


class Retry(Section):
    base_seconds: Seconds = _Retry.base_seconds
    factor: float = Field(_Retry.factor, ge=1, le=100)
    max_seconds: Seconds = _Retry.max_seconds
    max_attempts: int = Field(_Retry.max_attempts, ge=1, le=1000)


class Health(Section):
    plan_max_age_minutes: int = Field(HealthThresholds.plan_max_age_minutes, ge=1)
    dispatch_max_age_minutes: int = Field(HealthThresholds.dispatch_max_age_minutes, ge=1)
    receipts_max_age_minutes: int = Field(HealthThresholds.receipts_max_age_minutes, ge=1)
    overdue_minutes: int = Field(HealthThresholds.overdue_minutes, ge=1)


class CallListEntry(Section):
    name: Text
    mobile: Text | None = None
    email: Text | None = None


Days = list[Annotated[int, Field(ge=0, le=3660)]]


class Tier(Section):
    """One [[reminders.tiers]] table; how its keys go together is checked by custody.reminder_settings."""

    name: Text | None = None
    anchor: Anchor
    days_before: Days = Field(default_factory=list)
    days_after: Days = Field(default_factory=list)
    kind: ReminderKind | None = None
    channels: list[Channel] = Field(default_factory=list)
    audience: list[Audience] = Field(default_factory=list)
    escalate_from_rate: float | None = Field(None, ge=0, le=1)
    escalate_to: list[Audience] = Field(default_factory=list)


def _clock(text: str, channel: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise KeyProblem(channel, f'{text!r} is not a time like "09:00"') from None


Window = Annotated[list[str], Field(min_length=2, max_length=2)]  # ["09:00", "20:00"]


class Reminders(Section):
    digest: bool = _REMINDERS.digest
    lapse_notice_days: int = Field(_REMINDERS.lapse_notice_days, ge=0, le=366)
    alert_channel: Channel = _REMINDERS.alert_channel
    fallback: dict[Channel, Channel] = Field(default_factory=lambda: dict(_REMINDERS.fallback))
    daily_cap: dict[Channel, Annotated[int, Field(ge=1, le=10_000)]] = Field(
        default_factory=lambda: dict(_REMINDERS.daily_cap))
    claim_timeout_seconds: int = Field(_REMINDERS.claim_timeout_seconds, ge=30, le=86_400)
    unknown_recheck_seconds: int = Field(_REMINDERS.unknown_recheck_seconds, ge=1, le=86_400)
    pause_minutes: int = Field(_REMINDERS.pause_minutes, ge=1, le=7 * 24 * 60)
    batch_size: int = Field(_REMINDERS.batch_size, ge=1, le=10_000)
    receipts_hours: int = Field(_REMINDERS.receipts_hours, ge=1, le=30 * 24)
    call_list: list[CallListEntry] = Field(default_factory=list)
    send_hours: dict[Channel, Window] = Field(default_factory=lambda: {
        channel: [w.start.strftime("%H:%M"), w.end.strftime("%H:%M")] for channel, w in
        _REMINDERS.send_windows.items()})
    retry: Retry = Field(default_factory=Retry)
    health: Health = Field(default_factory=Health)
    tiers: list[Tier] | None = None  # None: custody.reminder_settings.DEFAULT_TIERS (config.toml lists them)

    @field_validator("send_hours")
    @classmethod
    def _times(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for channel, (start, end) in value.items():
            if not _clock(start, channel) < _clock(end, channel):
                raise KeyProblem(channel, "the start must come before the end")
        return value


class StatusFields(Section):
    application_number: Text = "application_number"
    announced_on: Text = "announced_on"
    status: Text = "status"
    detail: Text = "detail"


class StatusHttp(Section):
    url: str = ""
    auth_header: str = "Authorization"
    auth_env: str = "CUSTODY_STATUS_TOKEN"
    records_path: str = "records"
    timeout_seconds: Seconds = 30.0
    deadline_seconds: Seconds = 300.0
    max_body_mb: float = Field(50.0, gt=0, le=4096)
    max_records: int = Field(1_000_000, ge=1, le=100_000_000)
    max_depth: int = Field(64, ge=2, le=10_000)
    redirects: Literal["same_origin", "none", "any"] = "same_origin"
    fields: StatusFields = Field(default_factory=StatusFields)

    @field_validator("url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        parts = urlsplit(value)
        if value and (parts.scheme not in ("http", "https") or not parts.hostname):
            raise ValueError("expected an http:// or https:// address, or \"\" for no feed")
        return value


_OPS = OpsSettings()


def _ops_field(key: str) -> Any:
    kind, low, high = _OPS_BOUNDS[key]
    return Field(getattr(_OPS, key), ge=low, le=high)


class StatusOps(Section):
    """[status.ops]: defaults and bounds are custody.ops_schedule's own, so the watch and the file agree."""

    enabled: bool = _OPS.enabled
    base_url: Text = _OPS.base_url
    interval_days: int = _ops_field("interval_days")
    urgent_interval_days: int = _ops_field("urgent_interval_days")
    weekly_quota_mb: int = _ops_field("weekly_quota_mb")
    stop_at_percent: int = _ops_field("stop_at_percent")
    max_checks_per_run: int = _ops_field("max_checks_per_run")
    run_every_minutes: int = _ops_field("run_every_minutes")
    retry_hours: int = _ops_field("retry_hours")
    overloaded_pause_minutes: int = _ops_field("overloaded_pause_minutes")
    timeout_seconds: float = _ops_field("timeout_seconds")


class Status(Section):
    drop_folder: str = "status-inbox"
    settle_seconds: float = Field(5.0, ge=0, le=86_400)
    notify_channels: list[Channel] = Field(default_factory=lambda: ["email"])
    digest_roles: list[ContactRole] = Field(default_factory=lambda: ["ip_manager"])
    assumed_notice_months: int = Field(ASSUMED_NOTICE_MONTHS, ge=0, le=24)
    http: StatusHttp = Field(default_factory=StatusHttp)
    ops: StatusOps = Field(default_factory=StatusOps)


class Profile(Section):
    kind: ImportKind | None = None
    sheet: Text | None = None
    header_row: int | None = Field(None, ge=1, le=1000)
    columns: dict[str, Text] = Field(default_factory=dict)


class Import(Section):
    # Excel's own sheet limit is 1,048,576 rows; a portfolio of a million patents fits one sheet.
    max_sheet_rows: int = Field(1_048_576, ge=1, le=1_048_576)
    max_sheet_columns: int = Field(256, ge=1, le=16_384)
    max_sheet_cells: int = Field(30_000_000, ge=1)  # a reader holds a sheet's whole rectangle of cells
    max_unzipped_mb: float = Field(2048.0, gt=0)
    max_zip_ratio: float = Field(200.0, ge=1)
    # A patent file of at least this many rows is read in a process of its own while the import writes
    # (importers.forked); 0: always in the importing process.
    reader_process_from_rows: int = Field(100_000, ge=0, le=1_000_000_000)
    profiles: dict[str, Profile] = Field(default_factory=dict)


class Platform(Section):
    """Who sends the enterprise statements: the platform's name and how to reach it, printed on each statement."""

    name: str = ""
    contact: str = ""




class Statement(Section):
    """[statement]: the daemon emails each enterprise its statement once a period, from `day` of the period's first
    month (a catch-up: a daemon down that day sends it when it is back, within the period)."""

    enabled: bool = False
    period: StatementPeriod = "monthly"
    day: int = Field(1, ge=1, le=28)  # 28: every month has it


class ConfigFile(Section):
    """The whole file; a section left out takes its defaults."""

    general: General = Field(default_factory=General)
    database: Database = Field(default_factory=Database)
    calendar: Calendar = Field(default_factory=Calendar)
    rules: Rules = Field(default_factory=Rules)
    sms: Sms = Field(default_factory=Sms)
    email: Email = Field(default_factory=Email)
    outbox: Outbox = Field(default_factory=Outbox)
    alerts: Alerts = Field(default_factory=Alerts)
    reminders: Reminders = Field(default_factory=Reminders)
    status: Status = Field(default_factory=Status)
    platform: Platform = Field(default_factory=Platform)
    statement: Statement = Field(default_factory=Statement)
    import_: Import = Field(default_factory=Import, alias="import")


def sections(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every section as plain dicts and lists (what the rest of the code reads), defaults filled in; pydantic's
    ValidationError when the file is not what the models say."""
    return ConfigFile.model_validate(data).model_dump(by_alias=True, exclude_none=True)

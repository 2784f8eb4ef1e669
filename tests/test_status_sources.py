"""The legal-status sources behind one interface: export files (CSV in UTF-8 and GBK, XLSX with title rows and
Excel serial dates) and a generic HTTP JSON feed, tested against a real local HTTP server, including a 500 and
malformed bodies: each failure is one clear error and nothing is applied."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from custody.models.status import StatusEvent, StatusSync
from custody.ruleset import default_rules
from custody.status_vocab import StatusRecord, StatusSource, StatusSourceError
from custody.store.status import SyncRefused
from importers.status_file import StatusFile, read_status_file
from importers.status_http import HttpStatusSource, http_source_from_config
from scheduler.status_tick import sync_source
from tests.test_status_portfolio import NOW, P1, P3, P6, P7, build_portfolio

DATA = Path(__file__).parent / "data" / "status"
TOKEN = "Bearer s3cret-token-value"
GOOD = [
    {"patent": {"appNo": "ZL201410000003.5"}, "lawDate": "2025-05-06", "lawStatus": "未缴年费专利权终止",
     "info": "未缴年费专利权终止"},
    {"patent": {"appNo": "201710000001.X"}, "lawDate": "20200605", "lawStatus": "授权"},
]
BODIES = {
    "/feed": (200, json.dumps({"data": {"items": GOOD}}, ensure_ascii=False)),
    "/fail": (500, "internal error: database unavailable"),
    "/html": (200, "<html><body>维护中</body></html>"),
    "/shape": (200, json.dumps({"data": {"items": {"appNo": "201410000003.5"}}})),
    "/half-bad": (200, json.dumps({"data": {"items": [GOOD[0], {"patent": {"appNo": "201710000001.X"},
                                                               "lawDate": "2025-02-30", "lawStatus": "授权"}]}},
                                  ensure_ascii=False)),
}
FIELDS = {"application_number": "patent.appNo", "announced_on": "lawDate", "status": "lawStatus", "detail": "info"}


class _Feed(BaseHTTPRequestHandler):
    seen: list[dict] = []

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        _Feed.seen.append({"path": self.path, "authorization": self.headers.get("Authorization")})
        if self.headers.get("Authorization") != TOKEN:
            status, body = 401, "unauthorised"
        else:
            status, body = BODIES.get(self.path, (404, "no such feed"))
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def feed_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Feed)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Feed.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _source(url: str, path: str, token: str = TOKEN) -> HttpStatusSource:
    return HttpStatusSource(url + path, "data.items", FIELDS, "Authorization", token, timeout_seconds=5)


# ---------------------------------------------------------------------------------------------- files


def test_the_status_export_with_every_status_reads_every_row_in_order() -> None:
    batch = read_status_file(DATA / "status-all.csv")
    assert batch.source == "file:status-all.csv" and batch.problems == ()
    assert len(batch.records) == 26
    assert batch.records[4] == StatusRecord(
        "201630000004.X", date(2023, 10, 10), "专利权的终止",
        "未缴年费专利权终止IPC(主分类)：09-03 申请日：20160115 授权公告日：20160701 终止日期：20230115",
        "status-all.csv:6")


def test_application_numbers_in_any_spelling_become_canonical() -> None:
    numbers = [r.application_number for r in read_status_file(DATA / "status-all.csv").records[:3]]
    assert numbers == [P1, P1, P1]


def test_an_xlsx_export_below_a_merged_title_with_excel_serial_and_chinese_dates() -> None:
    batch = read_status_file(DATA / "status-export.xlsx")
    assert [(r.application_number, r.announced_on, r.status, r.location) for r in batch.records] == [
        (P7, date(2025, 2, 2), "专利权质押合同登记的生效", "status-export.xlsx:4"),
        (P1, date(2020, 6, 5), "授权", "status-export.xlsx:5"),
        (P6, date(2019, 3, 8), "实质审查的生效", "status-export.xlsx:6"),
    ]


def test_a_gbk_csv_with_other_header_wordings() -> None:
    batch = read_status_file(DATA / "status-gbk.csv")
    assert [(r.application_number, r.announced_on, r.status) for r in batch.records] == [
        (P6, date(2021, 2, 9), "授权"), (P7, date(2022, 1, 14), "授权")]


def test_every_unreadable_row_is_a_problem_with_its_location() -> None:
    batch = read_status_file(DATA / "status-bad.csv")
    assert [str(p) for p in batch.problems] == [
        "status-bad.csv:3:公告日: '2025-13-45' is not a real date (month must be in 1..12)",
        "status-bad.csv:4:申请号: character 'A' at position 1 is not a digit",
        "status-bad.csv:5:法律状态: the legal status is empty",
    ]


def test_a_file_whose_status_column_is_ambiguous_is_refused_whole() -> None:
    with pytest.raises(StatusSourceError, match=r"status-ambiguous.csv:1: column for 法律状态 is ambiguous"):
        read_status_file(DATA / "status-ambiguous.csv")


def test_a_file_without_the_needed_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "names.csv"
    path.write_text("申请号,名称\n201710000001.X,一种方法\n", encoding="utf-8")
    with pytest.raises(StatusSourceError, match=r"no header row with the columns 申请号/专利号、法律状态公告日"):
        read_status_file(path)


def test_files_and_feeds_share_one_interface() -> None:
    sources: list[StatusSource] = [StatusFile(DATA / "status-gbk.csv"), _source("http://127.0.0.1:1", "/feed")]
    assert [s.name for s in sources] == ["file:status-gbk.csv", "http:http://127.0.0.1:1/feed"]


# ---------------------------------------------------------------------------------------------- HTTP


def test_the_feed_is_read_with_the_auth_header_and_field_mapping(feed_url: str) -> None:
    batch = _source(feed_url, "/feed").fetch()
    assert [(r.application_number, r.announced_on, r.status, r.detail) for r in batch.records] == [
        (P3, date(2025, 5, 6), "未缴年费专利权终止", "未缴年费专利权终止"), (P1, date(2020, 6, 5), "授权", "")]
    assert batch.records[0].location == f"{feed_url}/feed#0"
    assert _Feed.seen == [{"path": "/feed", "authorization": TOKEN}]


@pytest.mark.parametrize(("path", "message"), [
    pytest.param("/fail", r"HTTP 500 from the status feed, nothing applied: internal error", id="http-500"),
    pytest.param("/html", r"the body is not JSON .*nothing applied: <html>", id="not-json"),
    pytest.param("/shape", r"expected a list of records at 'data.items', got dict", id="no-list"),
    pytest.param("/half-bad", r"1 malformed record\(s\), nothing applied: .*#1:lawDate: '2025-02-30' is not a real",
                 id="one-bad-record-of-two"),
    pytest.param("/missing", r"HTTP 404", id="not-found"),
])
def test_a_failing_or_malformed_feed_is_one_clear_error(feed_url: str, path: str, message: str) -> None:
    with pytest.raises(StatusSourceError, match=message):
        _source(feed_url, path).fetch()


def test_a_wrong_token_is_an_http_error_that_never_shows_the_token(feed_url: str) -> None:
    with pytest.raises(StatusSourceError) as caught:
        _source(feed_url, "/feed", token="Bearer wrong-secret-value").fetch()
    assert "HTTP 401" in str(caught.value) and "wrong-secret-value" not in str(caught.value)


def test_an_unreachable_feed_is_a_clear_error() -> None:
    with pytest.raises(StatusSourceError, match=r"cannot reach the status feed"):
        _source("http://127.0.0.1:9", "/feed").fetch()


def test_the_feed_comes_from_config_with_its_token_from_the_environment(monkeypatch: pytest.MonkeyPatch,
                                                                         feed_url: str) -> None:
    monkeypatch.setenv("CUSTODY_STATUS_TOKEN", TOKEN)
    section = {"url": feed_url + "/feed", "auth_header": "Authorization", "auth_env": "CUSTODY_STATUS_TOKEN",
               "records_path": "data.items", "fields": FIELDS}
    assert len(http_source_from_config(section).fetch().records) == 2
    assert TOKEN not in repr(http_source_from_config(section))


def _count(engine: Engine, model) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


@pytest.mark.parametrize("path", ["/fail", "/html", "/half-bad"])
def test_a_failed_feed_changes_nothing_and_the_failure_is_on_record(engine: Engine, session: Session,
                                                                    feed_url: str, path: str) -> None:
    build_portfolio(session)
    source = _source(feed_url, path)
    with pytest.raises(StatusSourceError):
        sync_source(engine, source.fetch, source.name, default_rules(), NOW)
    assert _count(engine, StatusEvent) == 0
    with Session(engine) as check:
        failure = check.exec(select(StatusSync)).one()
    assert failure.source == source.name and "nothing applied" in failure.error and failure.new_events == 0


def test_a_good_feed_is_applied_and_running_it_again_changes_nothing(engine: Engine, session: Session,
                                                                     feed_url: str) -> None:
    build_portfolio(session)
    source = _source(feed_url, "/feed")
    first = sync_source(engine, source.fetch, source.name, default_rules(), NOW)
    again = sync_source(engine, source.fetch, source.name, default_rules(), NOW)
    assert (len(first.new_events), len(again.new_events), again.duplicates) == (2, 0, 2)
    assert _count(engine, StatusEvent) == 2


def test_a_file_with_one_unreadable_row_changes_nothing(engine: Engine, session: Session) -> None:
    build_portfolio(session)
    source = StatusFile(DATA / "status-bad.csv")
    with pytest.raises(SyncRefused) as refused:
        sync_source(engine, source.fetch, source.name, default_rules(), NOW)
    assert len(refused.value.problems) == 3 and "nothing applied" in str(refused.value)
    assert _count(engine, StatusEvent) == 0


def test_a_dry_run_shows_the_effects_and_changes_nothing(engine: Engine, session: Session) -> None:
    build_portfolio(session, spares=True)
    source = StatusFile(DATA / "status-all.csv")
    result = sync_source(engine, source.fetch, source.name, default_rules(), NOW, dry_run=True)
    assert len(result.new_events) == 19
    assert (_count(engine, StatusEvent), _count(engine, StatusSync)) == (0, 0)


"""The Cursor client against a faked network (respx at the transport, CountingCursorTeam behind it)."""

from __future__ import annotations

import base64
import datetime
import email.utils
import logging
import traceback
from collections.abc import Iterator

import httpx
import pytest
import respx

from grafient_tui.config import Settings
from grafient_tui.providers.cursor import (
    MAX_WINDOW_DAYS,
    PAGE_SIZE,
    ApiTimeout,
    BadResponse,
    CursorClient,
    CursorError,
    EventFormatError,
    KeyRejected,
    NotEnterprise,
    RateLimited,
    RequestRejected,
    ServerError,
    TeamInfo,
    TokenBucket,
    Unreachable,
    bucket_for_key,
    day_bounds_ms,
    key_hint,
)
from grafient_tui.providers.cursor.fake import make_events
from tests.conftest import API, GOOD_KEY
from tests.fakes import CountingCursorTeam
from tests.helpers import FakeClock, RecordingSleep

MEMBERS = f"{API}/teams/members"
EVENTS = f"{API}/teams/filtered-usage-events"
DAY = datetime.date(2025, 6, 26)
DAY_START, DAY_END = day_bounds_ms(DAY, DAY)


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def client(sleep: RecordingSleep, *, key: str = GOOD_KEY, **kwargs: object) -> CursorClient:
    options: dict = {"rpm": 0, "backoff_base": 0, "sleep": sleep}
    options.update(kwargs)
    return CursorClient(key, **options)


def event(ts: int, cents: float = 1.0, email: str = "dev@company.com") -> dict:
    return {
        "timestamp": str(ts),
        "userEmail": email,
        "model": "gpt-5",
        "kind": "Usage-based",
        "requestsCosts": 1,
        "isChargeable": True,
        "chargedCents": cents,
    }


def assert_no_key(error: BaseException, caplog: pytest.LogCaptureFixture, c: CursorClient) -> None:
    rendered = "".join(traceback.format_exception(error))
    for text in (
        str(error),
        getattr(error, "sentence", ""),
        rendered,
        repr(c),
        caplog.text,
        *(r.getMessage() for r in caplog.records),
    ):
        assert GOOD_KEY not in text
        assert GOOD_KEY[4:] not in text
    assert error.__cause__ is None and error.__context__ is None  # no httpx request chained on


async def collect(c: CursorClient, start: int = DAY_START, end: int = DAY_END) -> list[list]:
    return [page async for page in c.usage_event_pages(start, end)]


# ------------------------------------------------------------------ auth and validate


async def test_basic_auth_header_and_user_agent(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    route = mock.get(MEMBERS).respond(200, json={"teamMembers": [{"email": "a@x"}, {"email": "b@x"}]})
    async with client(sleep) as c:
        assert await c.validate() == TeamInfo(members=2)
    request = route.calls.last.request
    assert request.headers["authorization"] == "Basic " + base64.b64encode(f"{GOOD_KEY}:".encode()).decode()
    assert request.headers["user-agent"].startswith("grafient-tui/")
    assert c.stats.requests == 1 and c.stats.retries == 0


async def test_validate_against_the_fake_team(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    team = CountingCursorTeam(
        api_key=GOOD_KEY, members=[{"email": "a@x"}, {"email": "b@x", "isRemoved": True}, {"email": "c@x"}]
    )
    mock.route(host="api.cursor.com").mock(side_effect=team.handler)
    async with client(sleep) as c:
        assert await c.validate() == TeamInfo(members=2)
    assert team.calls["/teams/members"] == 1


async def test_wrong_key_is_rejected(
    mock: respx.MockRouter, sleep: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    team = CountingCursorTeam(api_key="key_" + "z" * 64)
    route = mock.route(host="api.cursor.com").mock(side_effect=team.handler)
    c = client(sleep)
    with pytest.raises(KeyRejected) as info:
        await c.validate()
    assert info.value.sentence.startswith("the key was rejected by Cursor")
    assert route.call_count == 1  # 401 is not retried
    assert_no_key(info.value, caplog, c)
    await c.aclose()


async def test_not_enterprise(mock: respx.MockRouter, sleep: RecordingSleep, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    team = CountingCursorTeam(api_key=GOOD_KEY, enterprise=False)
    mock.route(host="api.cursor.com").mock(side_effect=team.handler)
    c = client(sleep)
    with pytest.raises(NotEnterprise) as info:
        await c.validate()
    assert info.value.sentence == (
        "Enterprise access required (the Admin API is only available on Cursor Enterprise plans)"
    )
    assert c.stats.requests == 1
    assert_no_key(info.value, caplog, c)
    await c.aclose()


async def test_connection_refused(
    mock: respx.MockRouter, sleep: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    route = mock.get(MEMBERS).mock(side_effect=httpx.ConnectError("[Errno 111] Connection refused"))
    c = client(sleep)
    with pytest.raises(Unreachable) as info:
        await c.validate()
    assert info.value.sentence.startswith("cannot reach the Cursor API")
    assert "api.cursor.com" in info.value.sentence and "connection refused" in info.value.sentence
    assert route.call_count == 3  # validate gives up after 3 tries
    assert c.stats.retries == 2
    assert_no_key(info.value, caplog, c)
    await c.aclose()


async def test_timeouts_are_retried_then_reported(
    mock: respx.MockRouter, sleep: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    route = mock.post(EVENTS).mock(side_effect=httpx.ReadTimeout)
    c = client(sleep, max_attempts=4)
    with pytest.raises(ApiTimeout) as info:
        await collect(c)
    assert info.value.sentence == "the Cursor API did not answer in time (4 tries)"
    assert route.call_count == 4 and c.stats.retries == 3
    assert sleep.delays == [0, 0, 0]  # backoff_base=0: retries happen, the waiting does not
    assert_no_key(info.value, caplog, c)
    await c.aclose()


# ------------------------------------------------------------------ retries


async def test_server_error_then_success(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    mock.get(MEMBERS).mock(
        side_effect=[
            httpx.Response(500, json={"error": "Internal Server Error", "message": "An unexpected error occurred"}),
            httpx.Response(200, json={"teamMembers": [{"email": "a@x"}]}),
        ]
    )
    async with client(sleep) as c:
        assert await c.validate() == TeamInfo(members=1)
    assert c.stats.retries == 1 and c.stats.requests == 2


async def test_server_error_forever(
    mock: respx.MockRouter, sleep: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # A server echoing the key back must not get it into our sentence.
    route = mock.post(EVENTS).respond(503, json={"code": "unavailable", "message": f"overloaded for {GOOD_KEY}"})
    c = client(sleep, max_attempts=5)
    with pytest.raises(ServerError) as info:
        await collect(c)
    assert route.call_count == 5
    assert "HTTP 503" in info.value.sentence and "overloaded for [redacted]" in info.value.sentence
    assert_no_key(info.value, caplog, c)
    await c.aclose()


async def test_truncated_body_is_retried(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    mock.get(MEMBERS).mock(
        side_effect=[
            httpx.Response(200, content=b'{"teamMembers": [{"email": "a@'),
            httpx.Response(200, json={"teamMembers": [{"email": "a@x"}]}),
        ]
    )
    async with client(sleep) as c:
        assert await c.validate() == TeamInfo(members=1)
    assert c.stats.retries == 1


async def test_truncated_body_forever(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    mock.post(EVENTS).respond(200, content=b'{"usageEvents": [')
    async with client(sleep, max_attempts=3) as c:
        with pytest.raises(BadResponse):
            await collect(c)
    assert c.stats.requests == 3


async def test_rate_limit_honours_retry_after(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    mock.get(MEMBERS).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "7"}, json={"error": "Too Many Requests"}),
            httpx.Response(429, headers={"Retry-After": "100000"}),
            httpx.Response(200, json={"teamMembers": []}),
        ]
    )
    async with client(sleep, backoff_base=1) as c:
        assert await c.validate() == TeamInfo(members=0)
    assert sleep.delays == [7, 120]  # capped at 120 s
    assert c.stats.rate_limited == 2 and c.stats.retries == 2


async def test_rate_limit_retry_after_as_http_date(
    mock: respx.MockRouter, sleep: RecordingSleep, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.datetime(2025, 6, 26, 12, 0, 0, tzinfo=datetime.UTC)
    monkeypatch.setattr("grafient_tui.providers.http._utc_now", lambda: now)  # the date is read against this
    when = email.utils.format_datetime(now + datetime.timedelta(seconds=30), usegmt=True)
    mock.get(MEMBERS).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": when}),
            httpx.Response(200, json={"teamMembers": []}),
        ]
    )
    async with client(sleep, backoff_base=1) as c:
        await c.validate()
    assert 25 <= sleep.delays[0] <= 30
    assert sleep.delays == [30.0]  # exactly: the clock the date is read against stands still


async def test_rate_limit_backs_off_exponentially(
    mock: respx.MockRouter, sleep: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    route = mock.post(EVENTS).respond(
        429, json={"error": "Too Many Requests", "message": "Rate limit exceeded. Please try again later."}
    )
    c = client(sleep, backoff_base=1, max_attempts=6)
    with pytest.raises(RateLimited) as info:
        await collect(c)
    assert route.call_count == 6 and c.stats.rate_limited == 6
    assert len(sleep.delays) == 5
    for n, delay in enumerate(sleep.delays):
        assert 2**n <= delay <= 1.25 * 2**n, sleep.delays
    assert_no_key(info.value, caplog, c)
    await c.aclose()


async def test_other_client_errors_are_not_retried(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    route = mock.post(EVENTS).respond(400, json={"outcome": "error", "message": "Date range cannot exceed 30 days"})
    async with client(sleep) as c:
        with pytest.raises(RequestRejected) as info:
            await collect(c)
    assert route.call_count == 1
    assert "HTTP 400" in info.value.sentence and "Date range cannot exceed 30 days" in info.value.sentence


async def test_json_of_the_wrong_shape(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    mock.post(EVENTS).respond(200, json={"usageEvents": {"not": "a list"}})
    async with client(sleep) as c:
        with pytest.raises(BadResponse):
            await collect(c)
    mock.post(EVENTS).respond(200, json=[1, 2])
    async with client(sleep) as c:
        with pytest.raises(BadResponse):
            await collect(c)


# ------------------------------------------------------------------ usage events


async def test_pages_through_three_pages(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    events = make_events(
        seed=7,
        start=DAY,
        days=1,
        per_day=2 * PAGE_SIZE + 345,
        members=["a@x.com", "b@x.com"],
        models=["default", "gpt-5"],
    )
    outside = [event(DAY_START - 1), event(DAY_END + 1)]
    team = CountingCursorTeam(api_key=GOOD_KEY, events=events + outside)
    route = mock.post(EVENTS).mock(side_effect=team.handler)
    async with client(sleep) as c:
        pages = await collect(c)
    assert [len(p) for p in pages] == [PAGE_SIZE, PAGE_SIZE, 345]
    assert route.call_count == 3 and team.event_requests == 3
    got = sorted(e.timestamp_ms for page in pages for e in page)
    assert got == sorted(int(e["timestamp"]) for e in events)
    assert all(e.day == DAY for page in pages for e in page)
    bodies = [route.calls[i].request.content for i in range(3)]
    assert b'"page":3' in bodies[2] and b'"pageSize":1000' in bodies[0]


async def test_inclusive_bounds_and_midnight(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    team = CountingCursorTeam(api_key=GOOD_KEY, events=[event(DAY_START), event(DAY_END), event(DAY_END + 1)])
    mock.post(EVENTS).mock(side_effect=team.handler)
    async with client(sleep) as c:
        pages = await collect(c)
    assert [e.timestamp_ms for e in pages[0]] == [DAY_END, DAY_START]


async def test_a_row_repeated_on_a_later_page_counts_once(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    events = [event(DAY_START + i * 1000, cents=i) for i in range(2 * PAGE_SIZE)]
    team = CountingCursorTeam(api_key=GOOD_KEY, events=list(events))
    calls = 0

    def arriving(request: httpx.Request) -> httpx.Response:
        # Three new events land while we page: page 2 then repeats the last 3 rows of page 1.
        nonlocal calls
        calls += 1
        if calls == 2:
            team.events.extend(event(DAY_END - i, cents=99) for i in range(3))
        return team.handler(request)

    mock.post(EVENTS).mock(side_effect=arriving)
    async with client(sleep) as c:
        pages = await collect(c)
    flat = [e for page in pages for e in page]
    assert len(flat) == 2 * PAGE_SIZE  # the 3 repeats dropped (the newcomers were above page 1: next sync)
    assert len({e.timestamp_ms for e in flat}) == 2 * PAGE_SIZE
    assert sum(e.cost_micro for e in flat) == sum(range(2 * PAGE_SIZE)) * 1_000_000


async def test_identical_rows_within_one_page_are_kept(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    team = CountingCursorTeam(api_key=GOOD_KEY, events=[event(DAY_START + 5)] * 3)
    mock.post(EVENTS).mock(side_effect=team.handler)
    async with client(sleep) as c:
        pages = await collect(c)
    assert [len(p) for p in pages] == [3]


async def test_an_unreadable_event_fails_the_window_loudly(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    """Dropping an event would understate the bill without a word: the window fails instead."""
    rows = [event(DAY_START + 1), {"timestamp": "soon", "chargedCents": 5}, event(DAY_START + 2, cents=2.5)]
    mock.post(EVENTS).respond(200, json={"usageEvents": rows, "pagination": {"hasNextPage": False}})
    async with client(sleep) as c:
        with pytest.raises(EventFormatError, match=r"cannot read .*timestamp.*nothing from this window was saved"):
            await collect(c)


async def test_an_empty_usage_events_list_is_an_empty_page(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    route = mock.post(EVENTS).respond(200, json={"usageEvents": [], "pagination": {"hasNextPage": True}})
    async with client(sleep) as c:
        assert await collect(c) == []
    assert route.call_count == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"usageEvents": None},
        {"data": [{"timestamp": "1"}]},
        {"usageEvents": {"0": {}}},
        {"totalUsageEventsCount": 0},
    ],
)
async def test_an_answer_without_a_usage_events_list_is_malformed_not_empty(
    mock: respx.MockRouter, sleep: RecordingSleep, body: dict
) -> None:
    """shared/cursor-admin-api.md: a 200 without a usageEvents list is asked for again, then fails the
    window; it is never read as a day without usage."""
    route = mock.post(EVENTS).respond(200, json=body)
    async with client(sleep) as c:
        with pytest.raises(BadResponse, match=r"without a usageEvents list .*nothing from this window was saved"):
            await collect(c)
    assert route.call_count == 3


async def test_stops_at_num_pages_even_if_has_next_page_lies(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    route = mock.post(EVENTS).respond(
        200, json={"usageEvents": [event(DAY_START + 1)], "pagination": {"numPages": 2, "hasNextPage": True}}
    )
    async with client(sleep) as c:
        await collect(c)
    assert route.call_count == 2


async def test_window_wider_than_30_days_is_refused(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    route = mock.post(EVENTS).respond(200, json={"usageEvents": []})
    async with client(sleep) as c:
        with pytest.raises(ValueError):
            c.usage_event_pages(0, MAX_WINDOW_DAYS * 86_400_000)
        with pytest.raises(ValueError):
            c.usage_event_pages(10, 5)
        assert await collect(c, 0, MAX_WINDOW_DAYS * 86_400_000 - 1) == []
    assert route.call_count == 1


async def test_fake_refuses_wide_windows_and_big_pages() -> None:
    team = CountingCursorTeam(api_key=GOOD_KEY)
    auth = httpx.BasicAuth(GOOD_KEY, "")
    async with httpx.AsyncClient(transport=httpx.MockTransport(team.handler), base_url=API, auth=auth) as http:
        wide = await http.post("/teams/filtered-usage-events", json={"startDate": 0, "endDate": 30 * 86_400_000})
        big = await http.post("/teams/filtered-usage-events", json={"pageSize": 1001})
        default = await http.post("/teams/filtered-usage-events", json={})
        missing = await http.get("/teams/nothing")
    assert wide.status_code == 400 and wide.json()["message"] == "Date range cannot exceed 30 days"
    assert big.status_code == 400
    assert default.status_code == 200 and default.json()["pagination"]["pageSize"] == 100
    assert missing.status_code == 404
    assert team.event_requests == 1


# ------------------------------------------------------------------ secrets, settings, pacing


def test_key_hint_and_repr() -> None:
    assert key_hint(GOOD_KEY) == "key_…c3d4"
    assert key_hint("crsr_" + "9" * 60 + "wxyz") == "crsr_…wxyz"
    assert key_hint("abcdefghijklmnop") == "…mnop"
    assert key_hint("key_short") == "key_…"
    c = CursorClient(GOOD_KEY, rpm=0)
    assert GOOD_KEY not in repr(c) and repr(c).startswith("CursorClient(key=key_…c3d4, ")


async def test_from_settings(grafient_home: object) -> None:
    settings = Settings.from_env()
    team = CountingCursorTeam(api_key=GOOD_KEY)
    async with CursorClient.from_settings(GOOD_KEY, settings, transport=httpx.MockTransport(team.handler)) as c:
        assert c.base_url == "https://api.cursor.com"
        assert await c.validate() == TeamInfo(members=1)


def test_token_bucket_with_a_fake_clock() -> None:
    now = [1000.0]
    bucket = TokenBucket(60, clock=lambda: now[0])
    waits = [bucket.reserve() for _ in range(61)]
    assert waits[:60] == [0.0] * 60
    assert waits[60] == pytest.approx(1.0)
    now[0] += 10  # ten seconds on, ten tokens are back, one of them owed to the 61st request
    assert [bucket.reserve() for _ in range(9)] == [0.0] * 9
    assert bucket.reserve() == pytest.approx(1.0)


def test_buckets_are_shared_per_key() -> None:
    a = bucket_for_key("key_shared_" + "1" * 40, 20)
    assert bucket_for_key("key_shared_" + "1" * 40, 20) is a
    assert bucket_for_key("key_shared_" + "2" * 40, 20) is not a


async def test_pacing_every_attempt(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    key = "key_pacing_" + "7" * 54
    team = CountingCursorTeam(api_key=key)
    mock.get(MEMBERS).mock(side_effect=team.handler)
    clock = FakeClock()  # the team's bucket, made first, on a clock that moves only when told to
    bucket = bucket_for_key(key, 60, clock=clock)
    first, second = client(sleep, key=key, rpm=60), client(sleep, key=key, rpm=60)
    for n in range(61):
        await (first if n % 2 else second).validate()  # two clients, one team, one bucket
    assert len(sleep.delays) == 1 and 0.9 < sleep.delays[0] <= 1.0
    assert sleep.delays == [1.0]  # 60 requests at once (the burst), the 61st a whole interval later
    clock.advance(0.5)  # half an interval on: the next request owes the other half, after the 61st's
    await first.validate()
    assert sleep.delays == [1.0, 1.5] and bucket_for_key(key, 60) is bucket
    await first.aclose()
    await second.aclose()


async def test_every_error_is_a_cursor_error(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    for side_effect in (httpx.ConnectTimeout, httpx.RemoteProtocolError("eof"), httpx.ReadError("reset by peer")):
        mock.get(MEMBERS).mock(side_effect=side_effect)
        async with client(sleep) as c:
            with pytest.raises(CursorError):
                await c.validate()

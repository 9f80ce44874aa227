"""The Anthropic client against a faked network (respx at the transport, FakeAnthropicOrg behind it)."""

from __future__ import annotations

import datetime
import hashlib
import logging
import traceback
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
import respx

from grafient_tui import providers
from grafient_tui.config import Settings
from grafient_tui.providers.anthropic import (
    DEFAULT_RPM,
    DEFAULT_WORKSPACE,
    MAX_MODELS_PER_WINDOW,
    MAX_PAGES,
    AnthropicClient,
)
from grafient_tui.providers.anthropic.fake import (
    DEMO_SPIKE_DAYS_AGO,
    FakeAnthropicOrg,
    cost_row,
    demo_account,
    token_row,
)
from grafient_tui.providers.base import AccountInfo, CostLine
from grafient_tui.providers.http import (
    AccessDenied,
    BadResponse,
    KeyRejected,
    LimitExceeded,
    RequestRejected,
    ServerError,
    Unreachable,
    bucket_for_key,
)
from tests.helpers import RecordingSleep

API = "https://api.anthropic.com"
KEY = "sk-ant-admin01-" + "Qm7xZ2pL9vR4tW8k" * 5 + "-Ab1C2dAA"
ME = f"{API}/v1/organizations/me"
COSTS = f"{API}/v1/organizations/cost_report"
USAGE = f"{API}/v1/organizations/usage_report/messages"
WORKSPACES = f"{API}/v1/organizations/workspaces"
TODAY = datetime.date(2026, 8, 6)
D1, D2 = datetime.date(2026, 8, 3), datetime.date(2026, 8, 4)
RESEARCH = {"id": "wrkspc_01Hk7QpXr3", "name": "Research"}
OLD = {"id": "wrkspc_01OldArchived", "name": "Old prototype", "archived_at": "2026-01-02T00:00:00Z"}

# The shared doc's own example bodies.
DOC_COSTS = {
    "data": [
        {
            "starting_at": "2026-08-03T00:00:00Z",
            "ending_at": "2026-08-04T00:00:00Z",
            "results": [
                {
                    "amount": "1534.2215",
                    "currency": "USD",
                    "cost_type": "tokens",
                    "description": "Claude Sonnet 4 Usage - Output Tokens",
                    "model": "claude-sonnet-4-20250514",
                    "token_type": "output_tokens",
                    "service_tier": "standard",
                    "context_window": "0-200k",
                    "inference_geo": "global",
                    "workspace_id": None,
                },
                {
                    "amount": "36",
                    "currency": "USD",
                    "cost_type": "code_execution",
                    "description": "Code Execution Usage",
                    "model": None,
                    "token_type": None,
                    "service_tier": None,
                    "context_window": None,
                    "inference_geo": None,
                    "workspace_id": "wrkspc_01Hk7QpXr3",
                },
            ],
        },
        {"starting_at": "2026-08-04T00:00:00Z", "ending_at": "2026-08-05T00:00:00Z", "results": []},
    ],
    "has_more": False,
    "next_page": None,
}
DOC_USAGE = {
    "data": [
        {
            "starting_at": "2026-08-03T00:00:00Z",
            "ending_at": "2026-08-04T00:00:00Z",
            "results": [
                {
                    "model": "claude-sonnet-4-20250514",
                    "uncached_input_tokens": 48210,
                    "cache_creation": {"ephemeral_5m_input_tokens": 12000, "ephemeral_1h_input_tokens": 0},
                    "cache_read_input_tokens": 301442,
                    "output_tokens": 20387,
                    "server_tool_use": {"web_search_requests": 3},
                    "workspace_id": None,
                    "api_key_id": None,
                    "account_id": None,
                    "service_account_id": None,
                    "service_tier": None,
                    "context_window": None,
                    "inference_geo": None,
                }
            ],
        },
        {"starting_at": "2026-08-04T00:00:00Z", "ending_at": "2026-08-05T00:00:00Z", "results": []},
    ],
    "has_more": False,
    "next_page": None,
}


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def client(sleep: RecordingSleep, *, key: str = KEY, **kwargs: object) -> AnthropicClient:
    options: dict = {"rpm": 0, "backoff_base": 0, "sleep": sleep}
    options.update(kwargs)
    c = AnthropicClient(key, **options)
    c.today = TODAY
    return c


def org(**kwargs: object) -> FakeAnthropicOrg:
    options: dict = {"api_key": KEY, "workspaces": [RESEARCH, OLD]}
    options.update(kwargs)
    return FakeAnthropicOrg(**options)


def serve(mock: respx.MockRouter, fake: FakeAnthropicOrg) -> respx.Route:
    return mock.route(host="api.anthropic.com").mock(side_effect=fake.handler)


def no_workspaces(mock: respx.MockRouter) -> None:
    mock.get(WORKSPACES).respond(200, json={"data": [RESEARCH], "has_more": False})


def assert_no_key(caplog: pytest.LogCaptureFixture, *things: object) -> None:
    texts = [caplog.text, *(r.getMessage() for r in caplog.records)]
    for thing in things:
        if isinstance(thing, BaseException):
            texts += [str(thing), getattr(thing, "sentence", ""), "".join(traceback.format_exception(thing))]
            assert thing.__cause__ is None and thing.__context__ is None  # no httpx request chained on
        else:
            texts.append(repr(thing))
    for text in texts:
        assert KEY not in text and KEY[15:] not in text and KEY[-12:] not in text


async def lines_of(c: AnthropicClient, first: datetime.date = D1, last: datetime.date = D2) -> list[list[CostLine]]:
    return [batch async for batch in c.cost_lines(first, last)]


# ------------------------------------------------------------------ the provider's description


def test_registered_with_its_limits_and_capabilities() -> None:
    provider = providers.get("anthropic")
    assert provider is AnthropicClient and providers.fake("anthropic") is FakeAnthropicOrg
    limits = provider.limits
    assert (limits.max_window_days, limits.settle_days, limits.max_history_days, limits.default_rpm) == (31, 3, 365, 30)
    assert [limits.history_for(p) for p in ("free", "pro", "ultimate")] == [30, 365, 365]
    caps = provider.capabilities
    assert (caps.has_requests, caps.actor_kind, caps.has_on_demand, caps.actor_title) == (
        False,
        "workspace",
        False,
        "Workspaces",
    )
    assert "Admin key" in provider.key_help and provider.key_placeholder.startswith("sk-ant-admin01-")


def test_from_settings_reads_the_url_and_the_pace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRAFIENT_ANTHROPIC_RPM")  # the tests' home turns pacing off; here the default counts
    default = AnthropicClient.from_settings("sk-ant-admin01-" + "Pace" * 20, Settings.from_env())
    assert default.base_url == API and default._api._bucket.rpm == DEFAULT_RPM == 30
    monkeypatch.setenv("GRAFIENT_ANTHROPIC_API_URL", "https://proxy.example.test/anthropic/")
    monkeypatch.setenv("GRAFIENT_ANTHROPIC_RPM", "12")
    c = AnthropicClient.from_settings(KEY, Settings.from_env())
    assert c.base_url == "https://proxy.example.test/anthropic"
    assert c._api._bucket is bucket_for_key(KEY, 12) and c._api._bucket.rpm == 12


def test_repr_shows_only_the_hint() -> None:
    c = AnthropicClient(KEY, rpm=0)
    assert repr(c) == f"AnthropicClient(key=sk-ant-admin01-…{KEY[-4:]}, base_url='{API}')"


# ------------------------------------------------------------------ validate


async def test_validate_sends_the_admin_headers_and_names_the_organization(
    mock: respx.MockRouter, sleep: RecordingSleep
) -> None:
    fake = org(org_name="Acme Labs")
    route = serve(mock, fake)
    async with client(sleep) as c:
        info = await c.validate()
    assert info == AccountInfo(members=3)  # Research, the archived prototype, and the default workspace
    assert info.name == "Acme Labs"
    assert info.fingerprint == hashlib.sha256(b"6f1c2a9e-3b7d-4e21-9c55-0a8b7d2e4f10").hexdigest()
    calls = [call.request for call in route.calls]
    assert [r.url.path for r in calls] == [
        "/v1/organizations/me",
        "/v1/organizations/cost_report",
        "/v1/organizations/workspaces",
    ]
    for request in calls:
        assert request.headers["x-api-key"] == KEY and request.headers["anthropic-version"] == "2023-06-01"
        assert "authorization" not in request.headers
    probe = calls[1].url.params  # one day, the one that proves access to cost data
    assert (probe["starting_at"], probe["ending_at"], probe["limit"], probe["bucket_width"]) == (
        "2026-08-05T00:00:00Z",
        "2026-08-06T00:00:00Z",
        "1",
        "1d",
    )
    assert (calls[2].url.params["include_archived"], calls[2].url.params["limit"]) == ("true", "1000")


async def test_same_organization_same_fingerprint_whatever_the_key(
    mock: respx.MockRouter, sleep: RecordingSleep
) -> None:
    other_key = "sk-ant-admin01-" + "Zz9" * 30
    serve(mock, org())
    async with client(sleep) as c:
        first = await c.validate()
    mock.reset()
    serve(mock, org(api_key=other_key))
    async with client(sleep, key=other_key) as c:
        second = await c.validate()
    assert first.fingerprint == second.fingerprint


async def test_workspaces_page_with_after_id(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    spaces = [{"id": f"wrkspc_{i:05d}", "name": f"Team {i}"} for i in range(2345)]
    route = serve(mock, org(workspaces=spaces))
    async with client(sleep) as c:
        assert (await c.validate()).members == 2346
    lists = [call.request.url.params for call in route.calls if call.request.url.path.endswith("/workspaces")]
    assert [p.get("after_id") for p in lists] == [None, "wrkspc_00999", "wrkspc_01999"]


async def test_a_workspace_list_that_does_not_move_on_is_malformed(
    mock: respx.MockRouter, sleep: RecordingSleep
) -> None:
    mock.get(ME).respond(200, json={"id": "org", "name": "A"})
    mock.get(COSTS).respond(200, json={"data": [], "has_more": False})
    mock.get(WORKSPACES).respond(200, json={"data": [RESEARCH], "has_more": True, "last_id": RESEARCH["id"]})
    async with client(sleep) as c:
        with pytest.raises(BadResponse, match="pages without moving on"):
            await c.validate()


@pytest.mark.parametrize(
    "key, fake_key, admin, error, words",
    [
        # A wrong Admin key: invalid, revoked or expired.
        (KEY, "sk-ant-admin01-" + "0" * 80, True, KeyRejected, "invalid, revoked or expired"),
        # A key that is not shaped like an Admin key and is unknown: 401 says what kind is needed.
        ("sk-ant-api03-" + "Rt5" * 30, KEY, True, KeyRejected, "it is not an Admin key (sk-ant-admin01-…)"),
        # An inference key of the organization: 403 permission_error.
        (
            "sk-ant-api03-" + "Rt5" * 30,
            "sk-ant-api03-" + "Rt5" * 30,
            None,
            AccessDenied,
            "it is not an Admin key (sk-ant-admin01-…)",
        ),
        # An Admin-shaped key that may not read the reports.
        (KEY, KEY, False, AccessDenied, "an Admin key from the Claude Console is needed"),
    ],
)
async def test_wrong_keys_are_one_sentence_without_the_key(
    mock: respx.MockRouter,
    sleep: RecordingSleep,
    caplog: pytest.LogCaptureFixture,
    key: str,
    fake_key: str,
    admin: bool | None,
    error: type,
    words: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    route = serve(mock, org(api_key=fake_key, admin=admin))
    c = client(sleep, key=key)
    with pytest.raises(error) as raised:
        await c.validate()
    sentence = raised.value.sentence
    assert words in sentence and "Anthropic" in sentence and "Admin key" in sentence and "\n" not in sentence
    assert "x-api-key" not in sentence and "permission_error" not in sentence  # our words, not the server's
    assert route.call_count == 1  # 401 and 403 are not retried
    assert key not in sentence and key[-12:] not in sentence
    for text in (sentence, caplog.text, repr(c)):
        assert key[13:] not in text and fake_key not in text
    await c.aclose()


async def test_a_401_that_echoes_the_key_stays_out_of_everything(
    mock: respx.MockRouter, sleep: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    mock.get(ME).respond(
        401, json={"type": "error", "error": {"type": "authentication_error", "message": f"invalid x-api-key {KEY}"}}
    )
    c = client(sleep)
    with pytest.raises(KeyRejected) as raised:
        await c.validate()
    assert "[redacted]" in caplog.text  # the server's message is logged, scrubbed
    assert_no_key(caplog, raised.value, c)
    await c.aclose()


async def test_rate_limited_then_success_honours_retry_after(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    fake = org()
    answers = iter(
        [
            httpx.Response(
                429,
                headers={"retry-after": "4"},
                json={"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}},
            )
        ]
    )

    def once_limited(request: httpx.Request) -> httpx.Response:
        return next(answers, None) or fake.handler(request)

    mock.route(host="api.anthropic.com").mock(side_effect=once_limited)
    async with client(sleep, backoff_base=1) as c:
        assert (await c.validate()).members == 3
    assert sleep.delays == [4]
    assert c.stats.rate_limited == 1 and c.stats.retries == 1


async def test_server_errors_exhausted(
    mock: respx.MockRouter, sleep: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    route = mock.get(ME).respond(
        529, json={"type": "error", "error": {"type": "overloaded_error", "message": f"Overloaded {KEY}"}}
    )
    c = client(sleep)
    with pytest.raises(ServerError) as raised:
        await c.validate()
    assert route.call_count == 3  # validation gives up after three tries
    assert "HTTP 529" in raised.value.sentence and "Anthropic" in raised.value.sentence
    assert_no_key(caplog, raised.value, c)
    await c.aclose()


async def test_offline(sleep: RecordingSleep, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    tries = 0

    def refuse(request: httpx.Request) -> httpx.Response:
        nonlocal tries
        tries += 1
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    c = client(sleep, transport=httpx.MockTransport(refuse))
    with pytest.raises(Unreachable) as raised:
        await c.validate()
    assert raised.value.sentence == (
        "cannot reach the Anthropic API at api.anthropic.com (connection refused; 3 tries)"
    )
    assert tries == 3
    assert_no_key(caplog, raised.value, c)
    await c.aclose()


@pytest.mark.parametrize(
    "me, probe, words",
    [
        ({}, {"data": []}, "no organization id"),
        ({"id": 42, "name": "x"}, {"data": []}, "no organization id"),
        ({"id": "org", "name": "x"}, {"buckets": []}, "no data list"),
    ],
)
async def test_a_200_of_the_wrong_shape_is_not_a_good_key(
    mock: respx.MockRouter, sleep: RecordingSleep, me: dict, probe: dict, words: str
) -> None:
    mock.get(ME).respond(200, json=me)
    mock.get(COSTS).respond(200, json=probe)
    no_workspaces(mock)
    async with client(sleep) as c:
        with pytest.raises(BadResponse, match=words):
            await c.validate()


# ------------------------------------------------------------------ money, exactly


async def test_the_docs_example_gives_exact_micro_cents(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    costs = mock.get(COSTS).respond(200, json=DOC_COSTS)
    usage = mock.get(USAGE).respond(200, json=DOC_USAGE)
    no_workspaces(mock)
    async with client(sleep) as c:
        batches = await lines_of(c)
        covered = c.days_covered(D1, D2)
    assert batches == [
        [  # "1534.2215" cents is $15.342215: 1_534_221_500 micro-cents; "36" cents: 36_000_000
            CostLine(
                D1,
                "claude-sonnet-4-20250514",
                DEFAULT_WORKSPACE,
                False,
                1_534_221_500,
                None,
                input_tokens=None,  # the usage report's own lines count them: not this line's, never 0
                output_tokens=None,
                cache_read_tokens=None,
                cache_write_tokens=None,
                reports_tokens=False,
            ),
            CostLine(
                D1,
                "code_execution",
                "Research",
                False,
                36_000_000,
                None,
                input_tokens=None,
                output_tokens=None,
                cache_read_tokens=None,
                cache_write_tokens=None,
                reports_tokens=False,
            ),
        ],
        [  # the tokens come as lines of their own, with no money
            CostLine(
                D1,
                "claude-sonnet-4-20250514",
                DEFAULT_WORKSPACE,
                False,
                0,
                None,
                input_tokens=48210,
                output_tokens=20387,
                cache_read_tokens=301442,
                cache_write_tokens=12000,
            ),
        ],
    ]
    assert covered == [D1, D2]  # the empty bucket is a synced $0 day
    params = costs.calls.last.request.url.params
    assert params.get_list("group_by[]") == ["description", "workspace_id"]
    assert (params["starting_at"], params["ending_at"], params["bucket_width"], params["limit"]) == (
        "2026-08-03T00:00:00Z",
        "2026-08-05T00:00:00Z",
        "1d",
        "31",
    )
    assert "page" not in params
    assert usage.calls.last.request.url.params.get_list("group_by[]") == ["model", "workspace_id"]


def _bucket(day: datetime.date, rows: list[dict]) -> dict:
    return {
        "starting_at": f"{day}T00:00:00Z",
        "ending_at": f"{day + datetime.timedelta(days=1)}T00:00:00Z",
        "results": rows,
    }


def _answer(*buckets: dict) -> dict:
    return {"data": list(buckets), "has_more": False, "next_page": None}


async def test_each_amount_is_rounded_once_and_sums_are_exact(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    # The one money parser gives each row in integer micro-cents, rounded once, half to even; the
    # sums of those are exact.
    rows = [
        cost_row("0.0000005", model="m"),
        cost_row("0.0000015", model="m"),  # 0.5 micro: to the even 0; 1.5 micro: to the even 2
        cost_row("0.1234565", model="half-even"),  # 123456.5 micro: to the even 123456
        cost_row("0.12345675", model="up"),  # 123456.75: 123457
        cost_row("-12.5", model="m"),  # a credit stays negative
        cost_row("10", cost_type="web_search", model=None),
        cost_row("1.25", cost_type=None, model=None),
        cost_row("0.1", model="claude-x", workspace_id="wrkspc_gone"),  # a workspace the list does not know
    ]
    mock.get(COSTS).respond(200, json=_answer(_bucket(D1, rows)))
    mock.get(USAGE).respond(200, json=_answer())
    no_workspaces(mock)
    async with client(sleep) as c:
        [lines] = await lines_of(c, D1, D1)
    got = {(line.model, line.actor): line.cost_micro for line in lines}
    assert got == {
        ("m", DEFAULT_WORKSPACE): 0 + 2 - 12_500_000,
        ("half-even", DEFAULT_WORKSPACE): 123_456,
        ("up", DEFAULT_WORKSPACE): 123_457,
        ("web_search", DEFAULT_WORKSPACE): 10_000_000,
        ("other", DEFAULT_WORKSPACE): 1_250_000,
        ("claude-x", "wrkspc_gone"): 100_000,
    }
    assert all(
        line.requests is None and line.on_demand is False and line.reasoning_tokens is None and line.byok_micro is None
        for line in lines
    )


# ------------------------------------------------------------------ paging


async def test_pages_follow_next_page_and_cover_every_day(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    first, last = datetime.date(2026, 7, 1), datetime.date(2026, 7, 31)
    costs = {first + datetime.timedelta(days=i): [cost_row(f"{i}.5", model="claude-sonnet-4-5")] for i in range(31)}
    fake = org(costs=costs, page_buckets=7)
    route = serve(mock, fake)
    async with client(sleep) as c:
        batches = await lines_of(c, first, last)
        assert c.days_covered(first, last) == sorted(costs)
    cost_calls = [call.request for call in route.calls if call.request.url.path.endswith("/cost_report")]
    assert len(cost_calls) == 5  # 7 + 7 + 7 + 7 + 3 buckets
    pages = [r.url.params.get("page") for r in cost_calls]
    assert pages[0] is None and all(p and p.startswith("page_") for p in pages[1:]) and len(set(pages)) == 5
    assert sum(line.cost_micro for line in batches[0]) == sum(Decimal(f"{i}.5") for i in range(31)) * 1_000_000
    assert len(batches) == 1  # no token rows: no token batch


@pytest.mark.parametrize(
    "second, words",
    [
        ({"data": [], "has_more": True, "next_page": "p1"}, "next_page it had already sent"),
        ({"data": [], "has_more": True, "next_page": None}, "has_more without a next_page"),
        ({"data": [], "has_more": True}, "has_more without a next_page"),
        ({"data": [], "has_more": "yes", "next_page": "p2"}, "has_more that is a string"),
    ],
)
async def test_paging_that_would_loop_or_stop_short_is_malformed(
    mock: respx.MockRouter, sleep: RecordingSleep, second: dict, words: str
) -> None:
    route = mock.get(COSTS).mock(
        side_effect=[
            httpx.Response(200, json={"data": [_bucket(D1, [])], "has_more": True, "next_page": "p1"}),
            httpx.Response(200, json=second),
        ]
    )
    no_workspaces(mock)
    async with client(sleep) as c:
        with pytest.raises(BadResponse, match=f"{words}.*nothing from this window was saved"):
            await lines_of(c)
        assert c.days_covered(D1, D2) == []
    assert route.calls[1].request.url.params["page"] == "p1"


async def test_endless_pages_are_stopped(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    count = 0

    def endless(request: httpx.Request) -> httpx.Response:
        nonlocal count
        count += 1
        return httpx.Response(200, json={"data": [], "has_more": True, "next_page": f"p{count}"})

    mock.get(COSTS).mock(side_effect=endless)
    no_workspaces(mock)
    async with client(sleep) as c:
        with pytest.raises(LimitExceeded, match="nothing from this window was saved"):
            await lines_of(c)
    assert count == MAX_PAGES


# ------------------------------------------------------------------ malformed answers


def _row(**changes: object) -> dict:
    row = cost_row("1.5", model="claude-sonnet-4-5")
    row.update(changes)
    return row


@pytest.mark.parametrize(
    "answer, words",
    [
        ({"has_more": False}, "without a data list"),
        ({"data": {"0": {}}}, "without a data list"),
        ({"data": None}, "without a data list"),
        (_answer(_bucket(datetime.date(2026, 8, 2), [])), "outside the days asked for"),
        (_answer(_bucket(datetime.date(2026, 8, 5), [])), "outside the days asked for"),
        (_answer({"starting_at": "yesterday", "results": []}), "starting_at is not an RFC 3339"),
        (_answer({"starting_at": "2026-08-03T00:00:00", "results": []}), "starting_at is not an RFC 3339"),
        (_answer({"ending_at": "2026-08-04T00:00:00Z", "results": []}), "starting_at is not an RFC 3339"),
        (_answer({"starting_at": "2026-08-03T00:00:00Z", "ending_at": "soon", "results": []}), "ending_at"),
        (_answer("2026-08-03"), "a bucket that is a string"),
        (_answer({"starting_at": "2026-08-03T00:00:00Z"}), "results are missing"),
        (_answer({"starting_at": "2026-08-03T00:00:00Z", "results": None}), "results are null"),
        (_answer(_bucket(D1, ["1.5"])), "a result that is a string"),
        (_answer(_bucket(D1, []), _bucket(D1, [])), "the day 2026-08-03 twice"),
        (_answer(_bucket(D1, [_row(amount=None)])), "amount that is not a number (got nothing)"),
        (_answer(_bucket(D1, [_row(amount="1,50")])), "not a number (got a string of 4 characters)"),
        (_answer(_bucket(D1, [_row(amount="NaN")])), "not a number"),
        (_answer(_bucket(D1, [_row(amount="Infinity")])), "not a number"),
        (_answer(_bucket(D1, [_row(amount="1e20")])), "beyond any plausible bill"),
        (_answer(_bucket(D1, [_row(currency="EUR")])), "a cost in EUR, not USD"),
        (_answer(_bucket(D1, [_row(currency=None)])), "a cost in null, not USD"),
        (_answer(_bucket(D1, [{k: v for k, v in _row().items() if k != "currency"}])), "not USD"),
        (_answer(_bucket(D1, [_row(model=["claude"])])), "model that is a list"),
        (_answer(_bucket(D1, [_row(workspace_id=7)])), "workspace_id that is a number"),
    ],
)
async def test_a_malformed_cost_report_fails_the_window(
    mock: respx.MockRouter, sleep: RecordingSleep, caplog: pytest.LogCaptureFixture, answer: dict, words: str
) -> None:
    caplog.set_level(logging.DEBUG)
    mock.get(COSTS).respond(200, json=answer)
    usage = mock.get(USAGE).respond(200, json=_answer())
    no_workspaces(mock)
    c = client(sleep)
    with pytest.raises(BadResponse) as raised:
        await lines_of(c)
    sentence = raised.value.sentence
    assert words in sentence and sentence.endswith("nothing from this window was saved"), sentence
    assert sentence.startswith("the Anthropic API sent") and "cost report" in sentence
    assert c.days_covered(D1, D2) == [] and usage.call_count == 0
    assert_no_key(caplog, raised.value, c)
    await c.aclose()


async def test_too_many_models_in_a_window(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    rows = [cost_row("1", model=f"model-{i}") for i in range(MAX_MODELS_PER_WINDOW + 1)]
    mock.get(COSTS).respond(200, json=_answer(_bucket(D1, rows)))
    no_workspaces(mock)
    async with client(sleep) as c:
        with pytest.raises(LimitExceeded, match=r"more than 5,000 different models.*nothing from this window"):
            await lines_of(c, D1, D1)


async def test_a_window_wider_than_31_days_is_refused_before_any_call(sleep: RecordingSleep) -> None:
    async with client(sleep) as c:
        with pytest.raises(ValueError):
            c.cost_lines(D1, D1 + datetime.timedelta(days=31))
        with pytest.raises(ValueError):
            c.cost_lines(D2, D1)
        assert c.stats.requests == 0


async def test_a_400_is_our_sentence_and_the_message_goes_to_the_debug_log(
    mock: respx.MockRouter, sleep: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    route = mock.get(COSTS).respond(
        400,
        json={
            "type": "error",
            "error": {"type": "invalid_request_error", "message": "starting_at: too far in the past"},
        },
    )
    no_workspaces(mock)
    async with client(sleep) as c:
        with pytest.raises(RequestRejected) as raised:
            await lines_of(c)
    assert raised.value.sentence == "the Anthropic API refused the request to /v1/organizations/cost_report (HTTP 400)"
    assert "too far in the past" in caplog.text and route.call_count == 1


# ------------------------------------------------------------------ tokens


def _usage_org(**kwargs: object) -> FakeAnthropicOrg:
    costs = {
        D1: [
            cost_row("250.125", model="claude-sonnet-4-5", workspace_id=RESEARCH["id"]),
            cost_row("7", cost_type="web_search", workspace_id=RESEARCH["id"]),
        ]
    }
    tokens = {
        D1: [
            token_row(
                "claude-sonnet-4-5",
                workspace_id=RESEARCH["id"],
                uncached_input_tokens=1000,
                cache_5m=200,
                cache_1h=30,
                cache_read_input_tokens=5000,
                output_tokens=400,
                service_tier="standard",
            ),
            token_row(
                "claude-sonnet-4-5",
                workspace_id=RESEARCH["id"],
                uncached_input_tokens=10,
                output_tokens=1,
                service_tier="batch",
            ),
            token_row("claude-haiku-4-5", uncached_input_tokens=7),
        ]
    }
    return org(costs=costs, tokens=tokens, **kwargs)


async def test_tokens_come_from_the_usage_report(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    serve(mock, _usage_org())
    async with client(sleep) as c:
        cost, tokens = await lines_of(c)
    assert {(line.model, line.actor, line.cost_micro, line.input_tokens, line.reports_tokens) for line in cost} == {
        ("claude-sonnet-4-5", "Research", 250_125_000, None, False),
        ("web_search", "Research", 7_000_000, None, False),
    }
    assert sorted(
        (
            line.model,
            line.actor,
            line.cost_micro,
            line.requests,
            line.input_tokens,
            line.output_tokens,
            line.cache_read_tokens,
            line.cache_write_tokens,
        )
        for line in tokens
    ) == [
        ("claude-haiku-4-5", DEFAULT_WORKSPACE, 0, None, 7, 0, 0, 0),
        ("claude-sonnet-4-5", "Research", 0, None, 1010, 401, 5000, 230),
    ]


@pytest.mark.parametrize("status", [500, 403, 429])
async def test_a_failed_usage_report_keeps_the_cost_with_tokens_unknown(
    mock: respx.MockRouter, sleep: RecordingSleep, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    caplog.set_level(logging.DEBUG)
    serve(mock, _usage_org(usage_fails=True, usage_error_status=status))
    c = client(sleep, max_attempts=2)
    batches = await lines_of(c)
    assert len(batches) == 1  # no token lines
    assert {(line.model, line.cost_micro) for line in batches[0]} == {
        ("claude-sonnet-4-5", 250_125_000),
        ("web_search", 7_000_000),
    }
    assert all(
        line.input_tokens is None
        and line.output_tokens is None
        and line.cache_read_tokens is None
        and line.cache_write_tokens is None
        for line in batches[0]
    )
    assert c.days_covered(D1, D2) == [D1, D2]
    assert "usage report for 2026-08-03 to 2026-08-04 not read" in caplog.text
    assert_no_key(caplog, c)
    await c.aclose()


async def test_a_malformed_usage_report_keeps_the_cost_with_tokens_unknown(
    mock: respx.MockRouter, sleep: RecordingSleep
) -> None:
    mock.get(COSTS).respond(200, json=DOC_COSTS)
    mock.get(USAGE).respond(200, json=_answer(_bucket(D1, [{"model": "m", "output_tokens": "many"}])))
    no_workspaces(mock)
    async with client(sleep) as c:
        [lines] = await lines_of(c)
    assert sum(line.cost_micro for line in lines) == 1_570_221_500 and all(line.output_tokens is None for line in lines)


async def test_a_rejected_key_during_the_usage_report_fails_the_window(
    mock: respx.MockRouter, sleep: RecordingSleep
) -> None:
    serve(mock, _usage_org(usage_fails=True, usage_error_status=401))
    async with client(sleep) as c:
        with pytest.raises(KeyRejected):
            await lines_of(c)


async def test_token_rows_of_days_without_a_cost_bucket_are_dropped(
    mock: respx.MockRouter, sleep: RecordingSleep
) -> None:
    mock.get(COSTS).respond(200, json=_answer(_bucket(D2, [])))  # no bucket for D1
    mock.get(USAGE).respond(200, json=DOC_USAGE)  # tokens on D1
    no_workspaces(mock)
    async with client(sleep) as c:
        assert await lines_of(c) == [[]]
        assert c.days_covered(D1, D2) == [D2]  # D1 stays never fetched


# ------------------------------------------------------------------ days covered


async def test_days_covered_are_the_days_with_a_bucket(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    first, last = datetime.date(2026, 7, 1), datetime.date(2026, 7, 5)
    mock.get(COSTS).respond(200, json=_answer(*(_bucket(first + datetime.timedelta(days=i), []) for i in (0, 1, 3))))
    mock.get(USAGE).respond(200, json=_answer())
    no_workspaces(mock)
    async with client(sleep) as c:
        assert c.days_covered(first, last) == []  # nothing read yet
        assert await lines_of(c, first, last) == [[]]
        assert c.days_covered(first, last) == [
            first,
            first + datetime.timedelta(days=1),
            first + datetime.timedelta(days=3),
        ]


async def test_the_fake_serves_an_empty_bucket_for_every_day(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    serve(mock, org())
    async with client(sleep) as c:
        assert await lines_of(c) == [[]]
        assert c.days_covered(D1, D2) == [D1, D2]


async def test_workspace_names_and_the_default_workspace(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    costs = {
        D1: [
            cost_row("1", model="a", workspace_id=RESEARCH["id"]),
            cost_row("2", model="a"),
            cost_row("3", model="a", workspace_id=OLD["id"]),
        ]
    }
    route = serve(mock, org(costs=costs))
    async with client(sleep) as c:
        await c.validate()
        [lines] = await lines_of(c)
        await lines_of(c)
    assert {(line.actor, line.cost_micro) for line in lines} == {
        ("Research", 1_000_000),
        (DEFAULT_WORKSPACE, 2_000_000),
        ("Old prototype", 3_000_000),
    }
    lists = [c for c in route.calls if c.request.url.path.endswith("/workspaces")]
    assert len(lists) == 1  # read once for the provider's life


# ------------------------------------------------------------------ the demo


async def test_the_demo_organization(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    today = datetime.date(2026, 3, 12)
    fake = demo_account(KEY, today, seed=3)
    assert fake.costs == demo_account(KEY, today, seed=3).costs  # seeded: the same every time
    assert min(fake.costs) == today - datetime.timedelta(days=364) and max(fake.costs) == today
    serve(mock, fake)
    async with client(sleep) as c:
        c.today = today
        assert (await c.validate()).members == 3
        first = today - datetime.timedelta(days=30)
        lines = [line for batch in await lines_of(c, first, today) for line in batch]
    per_day: dict[datetime.date, int] = {}
    for line in lines:
        per_day[line.day] = per_day.get(line.day, 0) + line.cost_micro
    spike = today - datetime.timedelta(days=DEMO_SPIKE_DAYS_AGO)  # the demo's anomaly: an Opus run in Research
    assert all(40 * 10**8 <= v <= 130 * 10**8 for d, v in per_day.items() if d < today and d != spike), per_day
    assert per_day[spike] > 200 * 10**8
    opus = [line for line in lines if line.day == spike and line.model == "claude-opus-4-1"]
    assert {line.actor for line in opus if line.cost_micro > 50 * 10**8} == {"Research"}
    models = {line.model for line in lines if line.cost_micro}
    assert {"claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1", "web_search"} <= models
    assert {line.actor for line in lines} == {"Default workspace", "Research", "Support bot"}
    assert sum(line.output_tokens or 0 for line in lines if line.reports_tokens) > 0

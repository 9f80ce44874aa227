"""The ElevenLabs provider against a faked network: the fake workspace behind httpx.MockTransport, or
answers in the contract's shapes (shared/elevenlabs-api.md). Nothing of ours is patched."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from grafient_tui.providers import get as registered
from grafient_tui.providers.base import CostLine
from grafient_tui.providers.elevenlabs import (
    NO_USAGE_SENTENCE,
    REJECTED_SENTENCE,
    RETIRED_SENTENCE,
    ElevenLabsClient,
)
from grafient_tui.providers.elevenlabs.fake import FakeElevenLabsWorkspace
from grafient_tui.providers.http import AccessDenied, BadResponse, KeyRejected, RequestRejected

KEY = "sk_" + "9c2e7a41" * 6
TODAY = datetime.date(2026, 12, 7)
DAY_MS = 86_400_000


def ms(day: datetime.date) -> int:
    return (day - datetime.date(1970, 1, 1)).days * DAY_MS


class Recorder:
    def __init__(self, inner: Callable[[httpx.Request], httpx.Response]) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner(request)


def client(handler: Callable[[httpx.Request], httpx.Response], *, key: str = KEY, **kwargs: Any) -> ElevenLabsClient:
    options: dict[str, Any] = {"rpm": 0, "backoff_base": 0, "transport": httpx.MockTransport(handler)}
    options.update(kwargs)
    c = ElevenLabsClient(key, **options)
    c.today = TODAY
    return c


def workspace(**kwargs: Any) -> FakeElevenLabsWorkspace:
    options: dict[str, Any] = {
        "api_key": KEY,
        "usage": {
            TODAY - datetime.timedelta(days=2): {
                "eleven_multilingual_v2": (Decimal(10412), 10412),
                "eleven_flash_v2_5": (Decimal("2207.5"), 4415),
                "scribe_v1": (Decimal(1200), None),
            },
            TODAY - datetime.timedelta(days=1): {"eleven_flash_v2_5": (Decimal("311.5"), 623)},
        },
    }
    options.update(kwargs)
    return FakeElevenLabsWorkspace(**options)


async def lines_of(c: ElevenLabsClient, first: datetime.date, last: datetime.date) -> list[CostLine]:
    return [line async for batch in c.cost_lines(first, last) for line in batch]


def subscription(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"tier": "pro", "character_count": 183407, "character_limit": 500000, "status": "active"}
    body.update(fields)
    return body


def scripted(sub: dict[str, Any] | httpx.Response, *stats: dict[str, Any] | httpx.Response) -> Recorder:
    queue = list(stats)

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/user/subscription":
            return sub if isinstance(sub, httpx.Response) else httpx.Response(200, json=sub)
        item = queue.pop(0)
        if isinstance(item, httpx.Response):
            return item
        return httpx.Response(200, content=json.dumps(item).encode(), headers={"content-type": "application/json"})

    return Recorder(handle)


# ------------------------------------------------------------------ registry


def test_registered_as_an_estimate_with_its_limits() -> None:
    provider = registered("elevenlabs")
    assert provider is ElevenLabsClient and provider.title == "ElevenLabs"
    caps, limits = provider.capabilities, provider.limits
    assert caps.cost_basis == "estimate" and not caps.has_requests and not caps.has_on_demand
    assert caps.actor_kind == "workspace"
    assert limits.max_window_days == 90 and limits.history_for("free") == 30 and limits.history_for("pro") == 90
    # today's plan re-prices every stored day: every sync reads the whole history it keeps (one window)
    assert limits.settle_days >= limits.max_history_days


# ------------------------------------------------------------------ the key


async def test_a_good_key_reads_the_subscription_then_one_day_of_credits() -> None:
    calls = Recorder(workspace().handler)
    async with client(calls) as c:
        info = await c.validate()
    assert info.members == 1 and info.fingerprint is None  # the API names no workspace (unnamed_account)
    assert [r.url.path for r in calls.requests] == ["/v1/user/subscription", "/v1/usage/character-stats"]
    assert all(r.headers["xi-api-key"] == KEY for r in calls.requests)
    probe = calls.requests[1].url.params
    yesterday = TODAY - datetime.timedelta(days=1)
    assert probe["metric"] == "credits" and probe["start_unix"] == str(ms(yesterday))
    assert probe["end_unix"] == str(ms(TODAY) - 1)


@pytest.mark.parametrize(
    ("fake_options", "error", "sentence"),
    [
        ({"api_key": "sk_" + "0" * 48}, KeyRejected, REJECTED_SENTENCE),
        ({"restricted": True}, AccessDenied, NO_USAGE_SENTENCE),
    ],
)
async def test_a_wrong_or_restricted_key_is_told_by_its_detail_status(
    fake_options: dict[str, Any], error: type[Exception], sentence: str
) -> None:
    async with client(workspace(**fake_options).handler) as c:
        with pytest.raises(error) as raised:
            await c.validate()
    assert raised.value.sentence == sentence  # type: ignore[attr-defined]
    assert KEY not in sentence and KEY[-8:] not in sentence


@pytest.mark.parametrize("status", [401, 403])
async def test_missing_permissions_is_the_same_sentence_whichever_status_says_it(status: int) -> None:
    refused = httpx.Response(
        status,
        json={"detail": {"status": "missing_permissions", "message": "The API key you used is missing user_read"}},
    )
    async with client(scripted(refused)) as c:
        with pytest.raises(AccessDenied) as raised:
            await c.validate()
    assert raised.value.sentence == NO_USAGE_SENTENCE


async def test_a_401_quota_exceeded_is_not_read_as_a_rejected_key() -> None:
    spent = httpx.Response(401, json={"detail": {"status": "quota_exceeded", "message": "quota exceeded"}})
    async with client(scripted(subscription(), spent)) as c:
        with pytest.raises(AccessDenied) as raised:
            await c.validate()
    assert not isinstance(raised.value, KeyRejected) and "quota" in raised.value.sentence


@pytest.mark.parametrize("status", [404, 410])
async def test_a_retired_usage_endpoint_fails_the_window_with_its_sentence(status: int) -> None:
    async with client(scripted(subscription(), httpx.Response(status, json={"detail": "Not Found"}))) as c:
        with pytest.raises(RequestRejected) as raised:
            await lines_of(c, TODAY - datetime.timedelta(days=3), TODAY)
    assert raised.value.sentence == RETIRED_SENTENCE


async def test_too_many_concurrent_requests_is_waited_out() -> None:
    delays: list[float] = []

    async def sleep(delay: float) -> None:
        delays.append(delay)

    busy = httpx.Response(
        429, headers={"Retry-After": "3"}, json={"detail": {"status": "too_many_concurrent_requests", "message": "x"}}
    )
    answer = {"time": [ms(TODAY)], "usage": {"eleven_v3": [10]}}
    async with client(scripted(subscription(), busy, answer, answer), sleep=sleep) as c:
        lines = await lines_of(c, TODAY, TODAY)
    assert delays == [3.0] and [line.credits_micro for line in lines] == [10_000_000]


# ------------------------------------------------------------------ the calls and the figures


async def test_a_window_is_one_subscription_and_two_character_stats_calls_with_the_contracts_parameters() -> None:
    calls = Recorder(workspace().handler)
    first, last = TODAY - datetime.timedelta(days=89), TODAY
    async with client(calls) as c:
        await lines_of(c, first, last)
        await lines_of(c, first, last)  # the plan is read once per sync
    paths = [r.url.path for r in calls.requests]
    assert paths == ["/v1/user/subscription"] + ["/v1/usage/character-stats"] * 4
    for request, metric in zip(calls.requests[1:3], ("credits", "tts_characters"), strict=True):
        assert dict(request.url.params) == {
            "start_unix": str(ms(first)),
            "end_unix": str(ms(last) + DAY_MS - 1),  # the last day's 23:59:59.999
            "include_workspace_metrics": "true",
            "breakdown_type": "model",
            "aggregation_interval": "day",
            "metric": metric,
        }


async def test_credits_per_model_and_day_are_exact_with_their_characters_and_the_pro_estimate() -> None:
    async with client(workspace().handler) as c:
        lines = await lines_of(c, TODAY - datetime.timedelta(days=3), TODAY)
        basis = c.cost_basis()
    got = {(line.day.isoformat(), line.model): (line.credits_micro, line.characters, line.cost_micro) for line in lines}
    assert got == {
        # Pro: $99 ÷ 500,000 = $0.000198 a credit
        ("2026-12-05", "eleven_multilingual_v2"): (10_412_000_000, 10412, 206_157_600),
        ("2026-12-05", "eleven_flash_v2_5"): (2_207_500_000, 4415, 43_708_500),
        ("2026-12-05", "scribe_v1"): (1_200_000_000, None, 23_760_000),
        ("2026-12-06", "eleven_flash_v2_5"): (311_500_000, 623, 6_167_700),
    }
    assert all(line.actor == "Workspace" and line.requests is None and not line.on_demand for line in lines)
    assert all(line.input_tokens is None for line in lines)  # not applicable
    assert basis is not None and basis.cost_known
    assert basis.note == "estimated from credits at the Pro plan's $99 / 500,000 credits"
    assert basis.estimate == {
        "tier": "pro",
        "plan_price_usd": "99",
        "credit_quota": 500000,
        "usd_per_credit": "0.000198",
        "as_of": "2026-12-07",
    }


@pytest.mark.parametrize(
    ("tier", "quota", "price"),
    [
        ("starter", 30_000, 5),
        ("creator", 100_000, 22),
        ("pro", 500_000, 99),
        ("scale", 2_000_000, 330),
        ("business", 11_000_000, 1320),
    ],
)
async def test_every_tier_of_the_table_is_priced_at_list_price_over_quota(tier: str, quota: int, price: int) -> None:
    usage = {TODAY: {"eleven_v3": (Decimal("12345.5"), 12345)}}
    async with client(workspace(tier=tier, character_limit=quota, usage=usage).handler) as c:
        (line,) = await lines_of(c, TODAY, TODAY)
    exact = Decimal("12345.5") * price / quota * 100_000_000
    assert abs(line.cost_micro - exact) <= Decimal("0.5")  # rounded once, at the micro-cent


async def test_a_free_plan_costs_nothing_and_says_so() -> None:
    async with client(workspace(tier="free", character_limit=10_000).handler) as c:
        lines = await lines_of(c, TODAY - datetime.timedelta(days=3), TODAY)
        basis = c.cost_basis()
    assert lines and all(line.cost_micro == 0 and line.credits_micro for line in lines)
    assert basis is not None and basis.cost_known and "credits cost nothing" in basis.note


@pytest.mark.parametrize("tier", ["enterprise", "growing_business", "independent_publisher", "custom_2026"])
async def test_a_tier_without_a_list_price_is_unknown_never_zero_and_keeps_its_credits(tier: str) -> None:
    async with client(workspace(tier=tier, character_limit=None).handler) as c:
        lines = await lines_of(c, TODAY - datetime.timedelta(days=3), TODAY)
        basis = c.cost_basis()
    assert basis is not None and not basis.cost_known
    assert "cost unknown" in basis.note and basis.estimate is not None and basis.estimate["usd_per_credit"] is None
    assert sum(line.credits_micro or 0 for line in lines) == 14_131_000_000  # the credits are kept


@pytest.mark.parametrize(
    "sub",
    [
        {"character_count": 1, "character_limit": 500000},  # no tier
        subscription(character_limit=None),
        subscription(character_limit=0),
        subscription(character_limit="500000"),
    ],
)
async def test_a_subscription_that_cannot_be_priced_fails_the_window(sub: dict[str, Any]) -> None:
    async with client(scripted(sub, {"time": [], "usage": {}}, {"time": [], "usage": {}})) as c:
        with pytest.raises(BadResponse):
            await lines_of(c, TODAY, TODAY)


async def test_days_without_a_bucket_in_a_complete_answer_are_days_without_usage() -> None:
    async with client(workspace(skip_quiet_days=True).handler) as c:
        lines = await lines_of(c, TODAY - datetime.timedelta(days=10), TODAY)
        covered = c.days_covered(TODAY - datetime.timedelta(days=10), TODAY)
    assert {line.day for line in lines} == {TODAY - datetime.timedelta(days=2), TODAY - datetime.timedelta(days=1)}
    assert len(covered) == 11  # every day of the window: the quiet ones are $0 days


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"usage": {}}, "no time list"),
        ({"time": [ms(TODAY)]}, "no time list"),
        ({"time": [ms(TODAY)], "usage": {"m": [1, 2]}}, "length differs"),
        ({"time": [ms(TODAY) + 3_600_000], "usage": {"m": [1]}}, "not a UTC midnight"),
        ({"time": [ms(TODAY - datetime.timedelta(days=40))], "usage": {"m": [1]}}, "outside"),
        ({"time": [ms(TODAY), ms(TODAY)], "usage": {"m": [1, 1]}}, "twice"),
        ({"time": [ms(TODAY)], "usage": {"m": ["12"]}}, "not a number"),
        ({"time": [ms(TODAY)], "usage": {"m": [None]}}, "not a number"),
        ({"time": [str(ms(TODAY))], "usage": {"m": [1]}}, "not a UTC midnight"),
    ],
)
async def test_a_malformed_answer_fails_its_window_never_an_empty_day(body: dict[str, Any], words: str) -> None:
    async with client(scripted(subscription(), body, body)) as c:
        with pytest.raises(BadResponse) as raised:
            await lines_of(c, TODAY - datetime.timedelta(days=3), TODAY)
    assert words in raised.value.sentence and "nothing from this window was saved" in raised.value.sentence


async def test_fractional_credits_are_read_from_their_literal_never_through_a_float() -> None:
    body = b'{"time": [%d], "usage": {"eleven_flash_v2_5": [0.1], "eleven_turbo_v2_5": [0.2]}}' % ms(TODAY)
    raw = httpx.Response(200, content=body, headers={"content-type": "application/json"})
    async with client(scripted(subscription(), raw, {"time": [ms(TODAY)], "usage": {}})) as c:
        lines = await lines_of(c, TODAY, TODAY)
    assert sum(line.credits_micro or 0 for line in lines) == 300_000  # 0.1 + 0.2 = 0.3 credits, exactly


async def test_from_settings_uses_grafient_elevenlabs_api_url(monkeypatch: pytest.MonkeyPatch) -> None:
    from grafient_tui.config import Settings

    monkeypatch.setenv("GRAFIENT_ELEVENLABS_API_URL", "http://127.0.0.1:8091/el")
    calls = Recorder(workspace().handler)
    async with ElevenLabsClient.from_settings(KEY, Settings.from_env(), transport=httpx.MockTransport(calls)) as c:
        c.today = TODAY
        with pytest.raises(Exception):  # noqa: B017  (the fake serves /v1/... only: this is about where calls go)
            await c.validate()
    assert c.base_url == "http://127.0.0.1:8091/el" and str(calls.requests[0].url).startswith(
        "http://127.0.0.1:8091/el/"
    )

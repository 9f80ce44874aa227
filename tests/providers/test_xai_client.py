"""The xAI client against a faked network: every rule of shared/xai-management-api.md, at the transport
(httpx.MockTransport with the fake team behind it, or a handler of our own for answers the fake would
never send). Sleeps are injected; nothing waits for real."""

from __future__ import annotations

import datetime
import json
import logging
from decimal import Decimal

import httpx
import pytest

from grafient_tui.config import Settings
from grafient_tui.errors import ConfigError
from grafient_tui.providers.base import CostLine
from grafient_tui.providers.http import AccessDenied, BadResponse, KeyRejected
from grafient_tui.providers.xai.api import NO_BILLING, WRONG_KEY, XaiClient, team_fingerprint
from grafient_tui.providers.xai.fake import NO_KEY, ApiKey, FakeXaiTeam, Spend

KEY = "xai-token-" + "Rt5Yu8Io" * 10
TEAM = "65c1e471-205f-4566-9c5a-07198bcdf4ce"
TODAY = datetime.date(2026, 11, 4)
YESTERDAY = TODAY - datetime.timedelta(days=1)
PROD = ApiKey("0cfea97f-ead0-4e22-a8f9-46db941c962d", "prod-backend", "xai-...3Xxp")


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def team(spend: list[Spend] | None = None, **kw) -> FakeXaiTeam:
    return FakeXaiTeam(api_key=KEY, team_id=TEAM, spend=spend or [], today=TODAY, **kw)


def client(fake: FakeXaiTeam | None = None, *, handler=None, key: str = KEY, team_id: str = TEAM, sleep=None):
    provider = XaiClient(
        key,
        account={"team_id": team_id},
        transport=httpx.MockTransport(handler or fake.handler),  # type: ignore[union-attr]
        rpm=0,  # unpaced: the tests count the client's own sleeps
        backoff_base=0,
        sleep=sleep or Sleeps(),
    )
    provider.today = TODAY
    return provider


def spend(day: datetime.date, model: str, usd: str, key: ApiKey = PROD) -> Spend:
    return Spend(day, model, key, Decimal(usd))


async def lines_of(provider: XaiClient, first: datetime.date, last: datetime.date) -> list[CostLine]:
    return [line async for batch in provider.cost_lines(first, last) for line in batch]


def totals(lines: list[CostLine], *keys: str) -> dict:
    out: dict = {}
    for line in lines:
        k = tuple(getattr(line, key) for key in keys)
        k = k[0] if len(k) == 1 else k
        out[k] = out.get(k, 0) + line.cost_micro
    return out


def bodies(fake: FakeXaiTeam) -> list[dict]:
    return [json.loads(c.content)["analyticsRequest"] for c in fake.calls if c.method == "POST"]


# --------------------------------------------------------------------------- the key and the team


async def test_validation_checks_the_key_then_reads_yesterday_with_the_documented_query() -> None:
    fake = team([spend(YESTERDAY, "Chat grok-4-0709", "1.5"), spend(YESTERDAY, "Live search", "0.2", NO_KEY)])
    async with client(fake) as provider:
        info = await provider.validate()
    validation, usage = fake.calls
    assert (validation.method, validation.url.path) == ("GET", "/auth/management-keys/validation")
    assert (usage.method, usage.url.path) == ("POST", f"/v1/billing/teams/{TEAM}/usage")
    assert all(c.headers["authorization"] == f"Bearer {KEY}" for c in fake.calls)
    assert usage.headers["content-type"] == "application/json"
    assert json.loads(usage.content) == {
        "analyticsRequest": {
            "timeRange": {"startTime": "2026-11-03 00:00:00", "endTime": "2026-11-04 00:00:00", "timezone": "Etc/GMT"},
            "timeUnit": "TIME_UNIT_DAY",
            "values": [{"name": "usd", "aggregation": "AGGREGATION_SUM"}],
            "groupBy": ["description", "api_key_id"],
            "filters": [],
        }
    }
    assert info.members == 1 and info.fingerprint == team_fingerprint(TEAM.upper())


@pytest.mark.parametrize(
    ("fake", "key", "team_id", "sentence", "error"),
    [
        (team(kind="inference"), KEY, TEAM, WRONG_KEY, KeyRejected),  # 401
        (team(), "xai-" + "Zz9" * 27, TEAM, WRONG_KEY, KeyRejected),  # an unknown key: 401
        (
            team(),
            KEY,
            "1b7e2d40-0000-4000-8000-000000000000",
            "This management key does not belong to team 1b7e2d40-0000-4000-8000-000000000000.",
            AccessDenied,
        ),  # scopeId says another team
        (
            team(scope="SCOPE_ORGANIZATION"),
            KEY,
            "1b7e2d40-0000-4000-8000-000000000000",
            "This management key does not belong to team 1b7e2d40-0000-4000-8000-000000000000.",
            AccessDenied,
        ),  # 403
        (team(billing=False), KEY, TEAM, NO_BILLING, AccessDenied),
    ],
)
async def test_each_refusal_is_our_own_sentence_never_xais(fake, key, team_id, sentence, error) -> None:
    async with client(fake, key=key, team_id=team_id) as provider:
        with pytest.raises(error) as raised:
            await provider.validate()
    assert raised.value.sentence == sentence
    assert "team mismatch" not in sentence and "permission" not in sentence and KEY[-12:] not in sentence


async def test_a_404_for_the_team_and_a_403_for_a_key_not_shaped_as_a_management_key() -> None:
    def not_found(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"scope": "SCOPE_TEAM", "scopeId": TEAM})
        return httpx.Response(404, json={"code": 5, "message": "team not found"})

    async with client(handler=not_found) as provider:
        with pytest.raises(AccessDenied) as raised:
            await provider.validate()
    assert raised.value.sentence == f"This management key does not belong to team {TEAM}."

    def forbidden(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"code": 7, "message": "Permission denied"})

    async with client(handler=forbidden, key="xai-" + "Kq7" * 27) as provider:
        with pytest.raises(KeyRejected) as raised:
            await provider.validate()
    assert raised.value.sentence == WRONG_KEY


def test_a_team_id_that_is_not_a_uuid_is_refused_before_any_call() -> None:
    calls: list[httpx.Request] = []
    with pytest.raises(ConfigError) as raised:
        XaiClient.from_settings(
            KEY, Settings.from_env(), transport=httpx.MockTransport(calls.append), account={"team_id": "acme-team"}
        )
    assert raised.value.sentence == "The xAI team ID is a UUID (xAI Console → team settings)." and not calls


# --------------------------------------------------------------------------- usage


async def test_a_window_is_one_query_summed_exactly_by_description_and_key() -> None:
    first, last = TODAY - datetime.timedelta(days=30), YESTERDAY
    batch = [
        ApiKey("7e11b2c4-3a5d-4f60-8b9c-0d1e2f3a4b5c", "batch", "xai-...Qw8e"),
        ApiKey("b84c0d9e-1f2a-4b3c-9d4e-5f6a7b8c9d0e", "batch", "xai-...Lm2z"),
    ]
    fake = team(
        [
            spend(last, "Chat grok-4-0709", "1.15915468"),
            spend(last, "Chat grok-4-0709", "8.36374651"),  # one day, one key, one label: one point, summed
            spend(last, "Chat grok-3-mini", "4.7E-8", NO_KEY),
            spend(first, "Chat grok-3-mini", "0.01283309", batch[0]),
            spend(first, "Chat grok-3-mini", "0.5", batch[1]),
            spend(first, "Image grok-2-image-1212", "0"),  # a zero point makes no model
        ]
    )
    async with client(fake) as provider:
        lines = await lines_of(provider, first, last)
    (body,) = bodies(fake)
    assert body["timeRange"] == {
        "startTime": "2026-10-05 00:00:00",
        "endTime": "2026-11-04 00:00:00",
        "timezone": "Etc/GMT",
    }
    assert totals(lines, "day", "model", "actor") == {
        (last, "Chat grok-4-0709", "prod-backend"): 952_290_119,
        (last, "Chat grok-3-mini", "(no API key)"): 5,  # 4.7e-8 dollars: 4.7 micro-cents, half-even
        (first, "Chat grok-3-mini", "batch (7e11b2c4)"): 1_283_309,
        (first, "Chat grok-3-mini", "batch (b84c0d9e)"): 50_000_000,
    }
    assert all(line.requests is None and line.input_tokens is None and not line.on_demand for line in lines)
    assert not any("xai-..." in line.actor for line in lines)  # the redacted key is never kept
    assert provider.days_covered(first, last) == [first + datetime.timedelta(days=i) for i in range(30)]


async def test_limit_reached_is_asked_again_in_halves_then_a_day_by_description_alone() -> None:
    keys = [ApiKey(f"{i:08d}-0000-4000-8000-000000000000", f"key-{i}", "xai-...abcd") for i in range(4)]
    first, last = TODAY - datetime.timedelta(days=3), YESTERDAY
    usage = [spend(first, "Chat grok-3-mini", "1", k) for k in keys[:2]]
    usage += [spend(last, m, "0.25", k) for m in ("Chat grok-4-0709", "Live search") for k in keys]  # 8 series
    fake = team(usage, cap=4)
    async with client(fake) as provider:
        lines = await lines_of(provider, first, last)
    asked = [
        (b["timeRange"]["startTime"][:10], b["timeRange"]["endTime"][:10], len(b["groupBy"])) for b in bodies(fake)
    ]
    assert asked == [
        ("2026-11-01", "2026-11-04", 2),  # 10 series: cut short
        ("2026-11-03", "2026-11-04", 2),  # the newer half, 2 days: still 8 series on the 3rd
        ("2026-11-03", "2026-11-04", 1),  # one day still over: by model alone, under "(all keys)"
        ("2026-11-01", "2026-11-03", 2),  # the older half: 2 series
    ]
    assert totals(lines, "day", "actor") == {
        (last, "(all keys)"): 200_000_000,
        (first, "key-0"): 100_000_000,
        (first, "key-1"): 100_000_000,
    }


async def test_a_day_over_the_cap_even_by_model_fails_the_window() -> None:
    usage = [spend(YESTERDAY, f"Chat model-{i}", "1") for i in range(5)]
    async with client(team(usage, cap=3)) as provider:
        with pytest.raises(BadResponse) as raised:
            await lines_of(provider, YESTERDAY, YESTERDAY)
    assert raised.value.sentence == (
        "the xAI API sent only part of 2026-11-03 even by model alone (limitReached); "
        "nothing from this window was saved"
    )


async def test_no_usage_at_all_is_every_day_at_0_not_an_error() -> None:
    fake = team()
    async with client(fake) as provider:
        assert await lines_of(provider, YESTERDAY - datetime.timedelta(days=2), YESTERDAY) == []


POINT = {"timestamp": "2026-11-03T00:00:00Z", "values": [1]}


def series(**change) -> dict:
    return {
        "timeSeries": [
            {
                "group": ["Chat grok-4", "k1"],
                "groupLabels": ["Chat grok-4", "k (xai-...1)"],
                "dataPoints": [POINT],
                **change,
            }
        ]
    }


@pytest.mark.parametrize(
    ("answer", "what"),
    [
        ("[]", "not a JSON object"),
        ({"timeSeries": {}}, "timeSeries is not a list"),
        ({"timeSeries": [], "limitReached": "no"}, "limitReached"),
        (series(group=["Chat grok-4"]), "group or groupLabels"),
        (series(groupLabels=["Chat grok-4", "k", "x"]), "group or groupLabels"),
        (series(group=["Chat grok-4", 7]), "group or groupLabels"),
        (series(dataPoints={}), "dataPoints is not a list"),
        (series(group=["Chat grok-4", "k" * 300]), "an API key id longer than 256 characters"),
        (series(dataPoints=[{"timestamp": "2026-11-03T06:00:00Z", "values": [1]}]), "not a UTC midnight"),
        (series(dataPoints=[{"timestamp": "2026-11-03T00:00:00+02:00", "values": [1]}]), "not a UTC midnight"),
        (series(dataPoints=[{"timestamp": "2026-11-02T00:00:00Z", "values": [1]}]), "outside the window"),
        (series(dataPoints=[{"timestamp": "yesterday", "values": [1]}]), "not RFC 3339"),
        (series(dataPoints=[{"timestamp": "2026-11-03T00:00:00Z", "values": [1, 2]}]), "not a list of one number"),
        (series(dataPoints=[{"timestamp": "2026-11-03T00:00:00Z"}]), "not a list of one number"),
        (series(dataPoints=[{"timestamp": "2026-11-03T00:00:00Z", "values": ["NaN"]}]), "not a number"),
        (series(dataPoints=[{"timestamp": "2026-11-03T00:00:00Z", "values": [None]}]), "not a number (got nothing)"),
        (series(dataPoints=[{"timestamp": "2026-11-03T00:00:00Z", "values": ["1.5 USD"]}]), "not a number"),
        (
            '{"timeSeries": [{"group": ["m", ""], "groupLabels": ["m", ""], "dataPoints": '
            '[{"timestamp": "2026-11-03T00:00:00Z", "values": [Infinity]}]}]}',
            "not a finite number",
        ),
    ],
)
async def test_a_malformed_answer_is_an_error_for_its_window_never_an_empty_day(answer, what: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        content = answer if isinstance(answer, str) else json.dumps(answer)
        return httpx.Response(200, content=content.encode(), headers={"content-type": "application/json"})

    async with client(handler=handler) as provider:
        with pytest.raises(BadResponse) as raised:
            await lines_of(provider, YESTERDAY, YESTERDAY)
    assert what in raised.value.sentence and "xAI" in raised.value.sentence


async def test_missing_fields_proto3_leaves_out_mean_none_and_false() -> None:
    answer = {"timeSeries": [{"group": ["Chat grok-4", ""], "groupLabels": ["Chat grok-4", ""]}]}  # no points, no flag

    async with client(handler=lambda request: httpx.Response(200, json=answer)) as provider:
        assert await lines_of(provider, YESTERDAY, YESTERDAY) == []


async def test_a_429_waits_its_retry_after_and_the_key_is_in_no_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake = team([spend(YESTERDAY, "Chat grok-4-0709", "2")])
    answers = [httpx.Response(429, headers={"retry-after": "7"}, json={"code": 8, "message": "slow down"})]

    def handler(request: httpx.Request) -> httpx.Response:
        return answers.pop() if answers else fake.handler(request)

    sleeps = Sleeps()
    async with client(handler=handler, sleep=sleeps) as provider:
        lines = await lines_of(provider, YESTERDAY, YESTERDAY)
        assert provider.stats.rate_limited == 1
    assert sleeps.delays == [7.0] and totals(lines, "model") == {"Chat grok-4-0709": 200_000_000}
    assert KEY not in caplog.text and KEY[-12:] not in caplog.text


def test_a_window_wider_than_31_days_is_refused_before_any_call() -> None:
    fake = team()
    with pytest.raises(ValueError):
        client(fake).cost_lines(YESTERDAY - datetime.timedelta(days=31), YESTERDAY)
    assert fake.calls == []

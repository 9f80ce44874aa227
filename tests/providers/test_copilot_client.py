"""The GitHub Copilot client against a faked network: every rule of shared/copilot-billing-api.md, at the
transport (httpx.MockTransport with the fake organization behind it, or a handler of our own for answers
the fake would never send). The clock and the sleeps are injected; nothing waits for real."""

from __future__ import annotations

import datetime
import json
import logging
from decimal import Decimal

import httpx
import pytest

from grafient_tui import __version__
from grafient_tui.providers.base import CostLine
from grafient_tui.providers.copilot.api import (
    ENTERPRISE_DENIED,
    REJECTED,
    CopilotClient,
    owner_fingerprint,
)
from grafient_tui.providers.copilot.fake import FakeCopilotAccount, Item, Seat, make_usage, raw_item
from grafient_tui.providers.http import AccessDenied, BadResponse, KeyRejected, RateLimited, RequestRejected

KEY = "github_pat_" + "11QwErTy42" * 8 + "zZ"
TODAY = datetime.date(2026, 7, 20)
YESTERDAY = TODAY - datetime.timedelta(days=1)
PERIOD = '{"timePeriod": {"year": 2026, "month": 7, "day": 19}, '  # the start of yesterday's answer, as text
NOW_EPOCH = 1_784_500_000.0  # the injected wall clock (any fixed second does)


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def item(model: str, gross: str, net: str, *, discount: str | None = None, sku: str = "Copilot AI Credits") -> Item:
    price = Decimal("0.01") if "Credits" in sku else Decimal("0.04")
    g, n = Decimal(gross), Decimal(net)
    d = Decimal(discount) if discount is not None else g - n
    return Item("Copilot", sku, model, "ai-credits", price, g / price, g, d, n)


def client(
    account: FakeCopilotAccount | None = None, *, handler=None, sleep=None, clock=None, **owner: str
) -> CopilotClient:
    transport = httpx.MockTransport(handler or account.handler)  # type: ignore[union-attr]
    provider = CopilotClient(
        KEY,
        account=owner or {"org": "acme"},
        transport=transport,
        rpm=0,
        backoff_base=0,
        sleep=sleep or Sleeps(),
        wall_clock=clock or (lambda: NOW_EPOCH),
    )
    provider.today = TODAY
    return provider


def org(usage=None, seats=("octo-ana", "octo-bo"), **kw) -> FakeCopilotAccount:
    return FakeCopilotAccount(
        api_key=KEY, org="acme", usage=usage or {}, seats=[Seat(s) for s in seats], today=TODAY, **kw
    )


async def lines_of(provider: CopilotClient, first: datetime.date, last: datetime.date) -> list[CostLine]:
    return [line async for batch in provider.cost_lines(first, last) for line in batch]


def by(lines: list[CostLine], *keys: str) -> dict:
    """Σ cost per value of one attribute, or per tuple of several."""
    out: dict = {}
    for line in lines:
        k = tuple(getattr(line, key) for key in keys)
        k = k[0] if len(k) == 1 else k
        out[k] = out.get(k, 0) + line.cost_micro
    return out


# --------------------------------------------------------------------------- the calls


async def test_every_call_sends_githubs_headers_and_validation_asks_yesterday_then_the_seats() -> None:
    account = org()
    async with client(account) as provider:
        info = await provider.validate()
    first, seats = account.calls
    assert first.url.path == "/organizations/acme/settings/billing/ai_credit/usage"
    assert dict(first.url.params) == {"year": "2026", "month": "7", "day": "19"}
    assert seats.url.path == "/orgs/acme/copilot/billing/seats" and seats.url.params["per_page"] == "100"
    for call in account.calls:
        assert call.headers["authorization"] == f"Bearer {KEY}"
        assert call.headers["accept"] == "application/vnd.github+json"
        assert call.headers["x-github-api-version"] == "2026-03-10"
        assert call.headers["user-agent"] == f"grafient/{__version__}"
    assert info.members == 2 and info.name == "acme"
    assert info.fingerprint == owner_fingerprint("organization", "ACME")  # one organization, whatever the case


async def test_an_enterprise_is_read_at_its_own_paths() -> None:
    account = FakeCopilotAccount(api_key=KEY, org=None, enterprise="acme-corp", token="classic", today=TODAY)
    async with client(account, enterprise="acme-corp") as provider:
        await provider.validate()
        await lines_of(provider, YESTERDAY, YESTERDAY)
    paths = {call.url.path for call in account.calls}
    assert paths == {
        "/enterprises/acme-corp/settings/billing/ai_credit/usage",
        "/enterprises/acme-corp/copilot/billing/seats",
    }


@pytest.mark.parametrize(
    ("account", "owner", "sentence", "error"),
    [
        (org(), {"org": "acme"}, REJECTED, KeyRejected),  # wrong token: see the handler below
        (
            org(billing_access=False),
            {"org": "acme"},
            "This token cannot read the billing of acme: use a fine-grained token of acme with the organization "
            "permission Administration (read), or a classic token of an owner or billing manager.",
            AccessDenied,
        ),
        (org(), {"org": "someone-else"}, "GitHub shows no organization someone-else to this token.", RequestRejected),
        (
            FakeCopilotAccount(api_key=KEY, org=None, enterprise="acme-corp", token="fine-grained", today=TODAY),
            {"enterprise": "acme-corp"},
            ENTERPRISE_DENIED,
            AccessDenied,
        ),
    ],
)
async def test_each_refusal_is_our_own_sentence_never_githubs(account, owner, sentence, error) -> None:
    if error is KeyRejected:
        account.api_key = "ghp_" + "x" * 36
    async with client(account, **owner) as provider:
        with pytest.raises(error) as raised:
            await provider.validate()
    assert raised.value.sentence == sentence
    assert "Resource not accessible" not in sentence and "Bad credentials" not in sentence and KEY[-12:] not in sentence
    assert len(account.calls) == 1  # refused at the first call, never retried


async def test_a_refused_or_disabled_seat_list_refuses_nothing_and_splits_nothing() -> None:
    for access in ("denied", "disabled"):
        usage = {YESTERDAY: {"octo-ana": [item("GPT-5.2", "2.5", "0.5")]}}
        account = org(usage, seats_access=access)
        async with client(account) as provider:
            info = await provider.validate()
            lines = await lines_of(provider, YESTERDAY, YESTERDAY)
        assert info.members == 0 and provider.members_seen == 0
        assert {line.actor for line in lines} == {"(all users)"}
        assert not any("user" in call.url.params for call in account.calls)


# --------------------------------------------------------------------------- rate limits


def limited_then(account: FakeCopilotAccount, answers: list[httpx.Response]):
    def handler(request: httpx.Request) -> httpx.Response:
        if answers:
            account.calls.append(request)
            return answers.pop(0)
        return account.handler(request)

    return handler


@pytest.mark.parametrize(
    ("answer", "wait"),
    [
        # A secondary limit with retry-after: that many seconds.
        (
            httpx.Response(
                403, headers={"retry-after": "37"}, json={"message": "You have exceeded a secondary rate limit."}
            ),
            37.0,
        ),
        # A primary limit, nothing remaining: until the reset.
        (
            httpx.Response(
                403,
                headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW_EPOCH) + 900)},
                json={"message": "API rate limit exceeded for user ID 583231."},
            ),
            900.0,
        ),
        # Only the message says it: a minute.
        (httpx.Response(403, json={"message": "You have exceeded a secondary rate limit"}), 60.0),
        # A 429 follows the same rules.
        (
            httpx.Response(429, headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW_EPOCH) + 5)}),
            5.0,
        ),
    ],
)
async def test_a_rate_limit_is_waited_out_and_retried_never_a_refused_token(
    answer: httpx.Response, wait: float
) -> None:
    account = org({YESTERDAY: {"octo-ana": [item("GPT-5.2", "1", "0")]}})
    sleeps = Sleeps()
    async with client(account, handler=limited_then(account, [answer]), sleep=sleeps) as provider:
        info = await provider.validate()
        assert provider.stats.rate_limited == 1 and provider.stats.retries == 1
    assert info.members == 2 and sleeps.delays == [wait]


async def test_a_limit_that_repeats_without_a_hint_waits_longer_each_time_then_says_so() -> None:
    account = org()
    message = {"message": "You have exceeded a secondary rate limit."}
    sleeps = Sleeps()
    answers = [httpx.Response(403, json=message) for _ in range(6)]
    async with client(account, handler=limited_then(account, answers), sleep=sleeps) as provider:
        with pytest.raises(RateLimited) as raised:
            await provider._day(YESTERDAY)
    assert sleeps.delays == [60.0, 120.0, 240.0, 480.0, 960.0]
    assert "rate limiting" in raised.value.sentence and "GitHub" in raised.value.sentence


async def test_with_fewer_than_100_calls_left_the_next_call_waits_for_the_reset() -> None:
    account = org(remaining=101, reset=int(NOW_EPOCH) + 1200)
    sleeps = Sleeps()
    async with client(account, sleep=sleeps) as provider:
        await provider._day(YESTERDAY)  # leaves 100: no wait yet
        await provider._day(YESTERDAY)  # leaves 99
        assert sleeps.delays == []
        await provider._day(YESTERDAY)
    assert sleeps.delays == [1200.0]


async def test_a_403_without_any_sign_of_a_rate_limit_is_a_refusal_at_once() -> None:
    account = org()
    answers = [httpx.Response(403, headers={"x-ratelimit-remaining": "4000"}, json={"message": "Must be an org owner"})]
    async with client(account, handler=limited_then(account, answers)) as provider:
        with pytest.raises(AccessDenied):
            await provider.validate()
    assert len(account.calls) == 1


# --------------------------------------------------------------------------- days and money


async def test_each_day_is_one_call_to_its_eras_report() -> None:
    switch = datetime.date(2026, 6, 1)
    usage = {
        switch - datetime.timedelta(days=1): {
            None: [item("Claude Sonnet 4.6", "0.08", "0", sku="Copilot Premium Request")]
        },
        switch: {None: [item("Claude Sonnet 4.6", "0.11", "0")]},
    }
    account = org(usage, seats=())
    async with client(account) as provider:
        lines = await lines_of(provider, switch - datetime.timedelta(days=1), switch)
    calls = [(c.url.path.split("/")[-2], c.url.params["day"]) for c in account.calls if "day" in c.url.params]
    assert calls == [("ai_credit", "1"), ("premium_request", "31")]  # newest first
    assert by(lines, "day") == {switch - datetime.timedelta(days=1): 8_000_000, switch: 11_000_000}


async def test_money_is_exact_gross_is_the_total_net_the_bill_and_discount_never_counts() -> None:
    day = datetime.date(2026, 6, 10)  # older than the split: one actor, "(all users)"
    usage = {
        day: {
            None: [
                item("Claude Sonnet 4.6", "11.97026278", "0.0"),
                # GitHub's live answer: a discount above the gross, net 0.
                item("Auto: Claude Sonnet 4.6", "94.986969165", "0", discount="95.64710256"),
                item("GPT-5.2", "6.838478781", "5.753299092"),
                item("GPT-5 mini", "3.0E-8", "3.0E-8"),
                # The same model under another SKU is one model.
                item("GPT-5.2", "0.5", "0.5", sku="Copilot Coding Agent AI Credits"),
            ]
        }
    }
    async with client(org(usage, seats=())) as provider:
        lines = await lines_of(provider, day, day)
    models = by(lines, "model")
    assert models == {
        "Claude Sonnet 4.6": 1_197_026_278,
        "Auto: Claude Sonnet 4.6": 9_498_696_916,  # 94.986969165 rounded half-even at 1e-8: ...6916
        "GPT-5.2": 733_847_878,  # (6.838478781 + 0.5) to the micro-cent
        "GPT-5 mini": 3,
    }
    billed = by([line for line in lines if line.on_demand], "model")
    assert billed == {"GPT-5.2": 625_329_909, "GPT-5 mini": 3}  # 5.753299092 + 0.5
    assert {line.actor for line in lines} == {"(all users)"}
    assert all(line.requests is None and line.input_tokens is None and line.output_tokens is None for line in lines)


@pytest.mark.parametrize(
    ("body", "what"),
    [
        ([1, 2], "not a JSON object"),
        ({"timePeriod": {"year": 2026, "month": 7, "day": 19}}, "without a usageItems list"),
        ({"timePeriod": {"year": 2026, "month": 7, "day": 19}, "usageItems": {}}, "without a usageItems list"),
        ({"timePeriod": {"year": 2026, "month": 7, "day": 18}, "usageItems": []}, "another period"),
        ({"usageItems": []}, "without its timePeriod"),
        (
            {"timePeriod": {"year": 2026, "month": 7, "day": 19}, "usageItems": [{"grossAmount": 1, "netAmount": 0}]},
            "model",
        ),
        (
            {"timePeriod": {"year": 2026, "month": 7, "day": 19}, "usageItems": [{"model": "m", "netAmount": 0}]},
            "a grossAmount that is not a number (got nothing)",
        ),
        (
            {
                "timePeriod": {"year": 2026, "month": 7, "day": 19},
                "usageItems": [{"model": "m", "grossAmount": "1 dollar", "netAmount": 0}],
            },
            "a grossAmount that is not a number (got a string of 8 characters)",
        ),
        (
            {
                "timePeriod": {"year": 2026, "month": 7, "day": 19},
                "usageItems": [{"model": "m", "grossAmount": True, "netAmount": 0}],
            },
            "a grossAmount that is not a number (got a boolean)",
        ),
        (
            {
                "timePeriod": {"year": 2026, "month": 7, "day": 19},
                "usageItems": [{"model": "m", "grossAmount": 1, "netAmount": None}],
            },
            "a netAmount that is not a number (got nothing)",
        ),
        (
            PERIOD + '"usageItems": [{"model": "m", "grossAmount": NaN, "netAmount": 0}]}',
            "not a finite number",
        ),
        (
            PERIOD + '"usageItems": [{"model": "m", "grossAmount": 1e999999, "netAmount": 0}]}',
            "plausible",
        ),
    ],
)
async def test_a_malformed_answer_is_an_error_for_its_window_never_an_empty_day(body, what: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "/copilot/" in request.url.path:
            return httpx.Response(200, json={"total_seats": 0, "seats": []})
        content = body if isinstance(body, str) else json.dumps(body)
        return httpx.Response(200, content=content.encode(), headers={"content-type": "application/json"})

    async with client(handler=handler) as provider:
        with pytest.raises(BadResponse) as raised:
            await lines_of(provider, YESTERDAY, YESTERDAY)
    sentence = raised.value.sentence
    assert what in sentence and "GitHub" in sentence
    if what != "not a JSON object":
        assert "2026-07-19" in sentence and sentence.endswith("nothing from this window was saved")


async def test_an_empty_report_is_a_day_without_usage() -> None:
    async with client(org(seats=())) as provider:
        lines = await lines_of(provider, YESTERDAY, YESTERDAY)
        assert lines == [] and provider.days_covered(YESTERDAY, YESTERDAY) == [YESTERDAY]


# --------------------------------------------------------------------------- people


async def test_the_31_latest_days_are_split_per_seat_holder_and_the_rest_is_other_usage() -> None:
    recent, older = TODAY - datetime.timedelta(days=30), TODAY - datetime.timedelta(days=31)
    usage = {
        recent: {
            "octo-ana": [item("GPT-5.2", "2.5", "0.5")],
            "OCTO-BO": [item("GPT-5.2", "1.25", "0")],  # the seat list spells it octo-bo
            "gone-cy": [item("GPT-5.2", "4", "4")],  # a seat that ended
            None: [item("Claude Sonnet 4.6", "0.75", "0")],
        },
        older: {"octo-ana": [item("GPT-5.2", "9", "1")]},
    }
    async with client(org(usage)) as provider:
        lines = await lines_of(provider, older, recent)
    assert by(lines, "day", "actor") == {
        (recent, "octo-ana"): 250_000_000,
        (recent, "octo-bo"): 125_000_000,
        (recent, "(other usage)"): 475_000_000,
        (older, "(all users)"): 900_000_000,
    }
    assert by([line for line in lines if line.on_demand], "day", "actor") == {
        (recent, "octo-ana"): 50_000_000,
        (recent, "(other usage)"): 400_000_000,
        (older, "(all users)"): 100_000_000,
    }
    day = by(lines, "day")
    assert sum(cost for (d, _), cost in by(lines, "day", "actor").items() if d == recent) == day[recent]


async def test_no_other_usage_when_the_seat_holders_are_the_whole_day() -> None:
    usage = {YESTERDAY: {"octo-ana": [item("GPT-5.2", "2.5", "0.5")], "octo-bo": [item("GPT-5 mini", "0", "0")]}}
    async with client(org(usage)) as provider:
        lines = await lines_of(provider, YESTERDAY, YESTERDAY)
    assert {line.actor for line in lines} == {"octo-ana", "octo-bo"}
    assert by(lines, "actor", "model") == {("octo-ana", "GPT-5.2"): 250_000_000, ("octo-bo", "GPT-5 mini"): 0}


async def test_a_person_seated_twice_is_asked_once_and_an_idle_month_needs_no_day_calls() -> None:
    seats = [Seat("octo-ana", "acme-web"), Seat("Octo-Ana", "acme-data"), Seat("octo-bo", "acme-web")]
    first = datetime.date(2026, 7, 14)
    usage = {first: {"octo-ana": [item("GPT-5.2", "1", "0")]}}
    account = FakeCopilotAccount(
        api_key=KEY, org=None, enterprise="acme-corp", token="classic", usage=usage, seats=seats, today=TODAY
    )
    async with client(account, enterprise="acme-corp") as provider:
        lines = await lines_of(provider, first, first + datetime.timedelta(days=6))
    asked = [(c.url.params["user"], c.url.params.get("day")) for c in account.calls if "user" in c.url.params]
    assert asked.count(("octo-ana", None)) == 1  # the month first, once
    days = [("octo-ana", str(d)) for d in range(20, 13, -1)]  # newest first
    assert asked == [("octo-ana", None), *days, ("octo-bo", None)]  # octo-bo's month is idle: no day calls
    assert provider.members_seen == 2
    assert by(lines, "actor") == {"octo-ana": 100_000_000}


async def test_the_seat_list_follows_link_pages_by_number_on_our_own_path_only() -> None:
    logins = [f"dev-{i:03d}" for i in range(230)]
    account = org(seats=logins)
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        answer = account.handler(request)
        if "link" in answer.headers:  # point "next" at another host: only its page number may be used
            answer.headers["link"] = answer.headers["link"].replace("https://api.github.com", "https://evil.example")
        return answer

    async with client(handler=handler) as provider:
        info = await provider.validate()
    seat_calls = [c for c in calls if c.url.path.endswith("/seats")]
    assert [c.url.params["page"] for c in seat_calls] == ["1", "2", "3"]
    assert {c.url.host for c in calls} == {"api.github.com"}
    assert info.members == 230


async def test_more_seat_holders_than_grafient_splits_means_no_split() -> None:
    account = org(seats=[f"dev-{i:03d}" for i in range(301)])
    async with client(account) as provider:
        info = await provider.validate()
    assert info.members == 0 and provider.members_seen == 0


# --------------------------------------------------------------------------- history


async def test_a_400_older_than_a_day_that_answered_is_githubs_history_edge() -> None:
    today = datetime.date(2026, 7, 20)
    edge = datetime.date(2024, 8, 1)  # 24 months: July 2026 back to August 2024
    usage = make_usage(seed=3, start=edge - datetime.timedelta(days=3), days=6, people=[None], per_day=1)
    account = org(usage, seats=())
    async with client(account) as provider:
        first, last = edge - datetime.timedelta(days=3), edge + datetime.timedelta(days=2)
        lines = await lines_of(provider, first, last)
        assert provider.history_edge == edge
        assert provider.days_covered(first, last) == [edge + datetime.timedelta(days=i) for i in (2, 1, 0)]
        assert {line.day for line in lines} == {
            edge,
            edge + datetime.timedelta(days=1),
            edge + datetime.timedelta(days=2),
        }
        with pytest.raises(RequestRejected) as raised:  # a window wholly past the edge: the engine decides
            await lines_of(provider, first, first)
    assert raised.value.status == 400 and "24 months" in raised.value.sentence
    assert today == TODAY


async def test_the_key_is_in_no_log_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    usage = {YESTERDAY: {"octo-ana": [raw_item(__import__("random").Random(1), YESTERDAY, "GPT-5.2", 3.0)]}}
    async with client(org(usage)) as provider:
        await provider.validate()
        await lines_of(provider, YESTERDAY, YESTERDAY)
    assert "request id C0DE:" in caplog.text  # GitHub's request id is logged with each answer
    assert KEY not in caplog.text and KEY[-12:] not in caplog.text


def test_a_window_wider_than_a_week_or_backwards_is_refused_before_any_call() -> None:
    account = org()
    provider = client(account)
    with pytest.raises(ValueError):
        provider.cost_lines(YESTERDAY - datetime.timedelta(days=7), YESTERDAY)
    with pytest.raises(ValueError):
        provider.cost_lines(YESTERDAY, YESTERDAY - datetime.timedelta(days=1))
    assert account.calls == []


def test_only_the_tokens_kind_and_last_four_characters_are_ever_shown() -> None:
    from grafient_tui.secret import key_hint, looks_like_key

    assert key_hint(KEY) == "github_pat_…42zZ" and key_hint("ghp_" + "k" * 32 + "Wx9Q") == "ghp_…Wx9Q"
    assert looks_like_key(KEY) and looks_like_key("ghp_" + "a1" * 18)
    assert repr(client(org())) == "CopilotClient(key=github_pat_…42zZ, base_url='https://api.github.com')"


def test_the_registry_names_the_actor_of_a_day_github_does_not_split() -> None:
    """The capabilities table (read without loading the provider) and the cost rules agree on the
    actor a whole day falls under: the member count is 0 for it, and the day's lines carry it."""
    from grafient_tui import providers
    from grafient_tui.providers.copilot.costs import ALL_USERS

    assert providers.capabilities("copilot").whole_actor == ALL_USERS == "(all users)"


def test_the_actor_of_a_day_not_split_is_written_in_one_place() -> None:
    """ "(all users)" is the registry's (read without loading the provider): the cost rules take it
    from there, so the two cannot drift apart. Only a string in the code counts, not a comment."""
    import ast
    from pathlib import Path

    import grafient_tui

    source = Path(grafient_tui.__file__).parent
    holding = sorted(
        str(path.relative_to(source))
        for path in source.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and node.value == "(all users)"
    )
    assert holding == ["providers/__init__.py"]

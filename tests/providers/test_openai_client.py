"""The OpenAI client against a faked network (respx or httpx.MockTransport at the transport, FakeOpenAIOrg
behind it)."""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import traceback
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx

from grafient_tui import providers
from grafient_tui.config import Settings
from grafient_tui.providers.base import AccountInfo, CostLine
from grafient_tui.providers.http import (
    AccessDenied,
    BadResponse,
    KeyRejected,
    LimitExceeded,
    RateLimited,
    RequestRejected,
    ServerError,
    Unreachable,
)
from grafient_tui.providers.openai import (
    MAX_MODELS_PER_WINDOW,
    MAX_PAGES,
    MAX_WINDOW_DAYS,
    OpenAIClient,
    day_start,
    model_of,
)
from grafient_tui.providers.openai.fake import FakeOpenAIOrg, demo_account
from tests.helpers import RecordingSleep

KEY = "sk-admin-" + "Qx7vR2mN9pL4kT8wZ3cY6bH1jF5dG0sAeUi"
OTHER_KEY = "sk-admin-" + "Zz9yX8wV7uT6sR5qP4oN3mL2kJ1iH0gFeDc"
PROJECT_KEY = "sk-proj-" + "Aa1Bb2Cc3Dd4Ee5Ff6Gg7Hh8Ii9Jj0KkLlMm"
API = "https://api.openai.com"
COSTS = f"{API}/v1/organization/costs"
USAGE = f"{API}/v1/organization/usage/completions"
PROJECTS = f"{API}/v1/organization/projects"
TODAY = datetime.date(2026, 3, 12)
DAY = datetime.date(2026, 3, 10)
SAVED = "nothing from this window was saved"
PROJS = [
    {"id": "proj_chat", "name": "Chat assistant"},
    {"id": "proj_evals", "name": "Batch evals"},
    {"id": "proj_old", "name": "Old pilot", "status": "archived", "archived_at": 1_700_000_000},
]


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def client(
    sleep: RecordingSleep, org: FakeOpenAIOrg | None = None, *, key: str = KEY, **kwargs: object
) -> OpenAIClient:
    options: dict = {"rpm": 0, "backoff_base": 0, "sleep": sleep}
    if org is not None:
        options["transport"] = httpx.MockTransport(org.handler)
    options.update(kwargs)
    c = OpenAIClient(key, **options)
    c.today = TODAY
    return c


def cost(line_item: str | None, project: str | None, value: object, currency: str = "usd") -> dict:
    return {
        "object": "organization.costs.result",
        "amount": {"value": value, "currency": currency},
        "line_item": line_item,
        "project_id": project,
        "api_key_id": None,
        "quantity": 1,
    }


def use(
    model: str | None,
    project: str | None,
    requests: int,
    tokens: int,
    cached: int = 0,
    write: int = 0,
    output: int = 0,
    **extra: object,
) -> dict:
    return {
        "object": "organization.usage.completions.result",
        "model": model,
        "project_id": project,
        "num_model_requests": requests,
        "input_tokens": tokens,
        "input_cached_tokens": cached,
        "input_cache_write_tokens": write,
        "output_tokens": output,
        **extra,
    }


def org(**kwargs: object) -> FakeOpenAIOrg:
    options: dict = {"api_key": KEY, "projects": PROJS, "today": TODAY}
    options.update(kwargs)
    return FakeOpenAIOrg(**options)


async def lines(c: OpenAIClient, first: datetime.date = DAY, last: datetime.date = DAY) -> list[CostLine]:
    return [line async for batch in c.cost_lines(first, last) for line in batch]


def page(buckets: list[dict], has_more: bool = False, next_page: str | None = None) -> dict:
    return {"object": "page", "data": buckets, "has_more": has_more, "next_page": next_page}


def bucket(day: datetime.date, results: list[dict]) -> dict:
    return {"object": "bucket", "start_time": day_start(day), "end_time": day_start(day) + 86_400, "results": results}


def no_projects(mock: respx.MockRouter) -> None:
    mock.get(PROJECTS).respond(200, json={"object": "list", "data": [], "has_more": False})


def raw_json(text: str) -> httpx.Response:
    return httpx.Response(200, content=text.encode(), headers={"content-type": "application/json"})


def assert_no_key(error: BaseException | None, caplog: pytest.LogCaptureFixture, c: OpenAIClient, *keys: str) -> None:
    texts = [repr(c), caplog.text, *(r.getMessage() for r in caplog.records)]
    if error is not None:
        texts += [str(error), getattr(error, "sentence", ""), repr(error), "".join(traceback.format_exception(error))]
        assert error.__cause__ is None and error.__context__ is None  # no httpx request chained on
    for text in texts:
        for key in keys or (KEY,):
            assert key not in text and key[-12:] not in text
        assert "Incorrect API key" not in text and "****" not in text  # the 401's message quotes the key


# ------------------------------------------------------------------ validate


async def test_a_good_key_gives_the_projects_and_a_fingerprint_of_their_ids(sleep: RecordingSleep) -> None:
    fake = org()
    async with client(sleep, fake) as c:
        info = await c.validate()
    assert info == AccountInfo(members=2)  # the archived project is not counted
    assert info.fingerprint == hashlib.sha256(b"proj_chat\nproj_evals\nproj_old").hexdigest()
    assert info.name is None
    assert fake.calls == {"/v1/organization/costs": 1, "/v1/organization/projects": 1}


async def test_validation_asks_for_yesterday_with_bearer_auth(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    costs = mock.get(COSTS).respond(200, json=page([]))
    projects = mock.get(PROJECTS).respond(200, json={"object": "list", "data": [], "has_more": False})
    async with client(sleep) as c:
        assert await c.validate() == AccountInfo(members=0)
    request = costs.calls.last.request
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert dict(request.url.params) == {"start_time": "1773187200", "end_time": "1773273600", "limit": "1"}
    assert int(datetime.datetime(2026, 3, 11, tzinfo=datetime.UTC).timestamp()) == 1773187200
    assert projects.calls.last.request.url.params.get("include_archived") == "true"
    assert (await client(sleep, org(projects=[])).validate()).fingerprint is None


async def test_projects_are_paged_with_after(sleep: RecordingSleep) -> None:
    many = [
        {"id": f"proj_{i:04d}", "name": f"Project {i}", **({"status": "archived"} if i % 10 == 0 else {})}
        for i in range(250)
    ]
    fake = org(projects=many)
    async with client(sleep, fake) as c:
        info = await c.validate()
    assert info.members == 225
    assert info.fingerprint == hashlib.sha256("\n".join(p["id"] for p in many).encode()).hexdigest()
    assert fake.calls["/v1/organization/projects"] == 3


async def test_projects_that_repeat_a_cursor_are_malformed(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    mock.get(COSTS).respond(200, json=page([]))
    mock.get(PROJECTS).respond(
        200, json={"object": "list", "data": [{"id": "proj_a", "name": "A"}], "last_id": "proj_a", "has_more": True}
    )
    with pytest.raises(BadResponse, match=f"do not follow on; {SAVED}"):
        await client(sleep).validate()


async def test_a_wrong_key_is_one_sentence_without_the_key_or_the_servers_message(
    sleep: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = org(api_key=OTHER_KEY)
    c = client(sleep, fake)
    with pytest.raises(KeyRejected) as raised:
        await c.validate()
    assert raised.value.sentence == (
        "OpenAI rejected this key as invalid or revoked; use an Admin key with Read only permission"
    )
    assert fake.calls == {"/v1/organization/costs": 1}  # a 401 is not retried
    assert_no_key(raised.value, caplog, c, KEY, OTHER_KEY)
    await c.aclose()


async def test_a_wrong_key_not_shaped_like_an_admin_key_gets_a_hint(sleep: RecordingSleep) -> None:
    with pytest.raises(KeyRejected, match=r"\(Admin keys start sk-admin-\)$"):
        await client(sleep, org(), key="sk-" + "9" * 40).validate()


async def test_a_project_key_is_told_it_is_one(sleep: RecordingSleep, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake = org(api_key=PROJECT_KEY, key_kind="project")  # 403 naming api.usage.read
    c = client(sleep, fake, key=PROJECT_KEY)
    with pytest.raises(AccessDenied) as raised:
        await c.validate()
    assert not isinstance(raised.value, KeyRejected)
    assert raised.value.sentence == (
        "OpenAI: this is a project key (sk-proj-…), which cannot read costs; create an Admin key with Read only "
        "permission (it needs the api.usage.read scope)"
    )
    assert fake.calls == {"/v1/organization/costs": 1}
    assert_no_key(raised.value, caplog, c, PROJECT_KEY)


async def test_a_restricted_admin_key_gets_401_naming_the_scope_and_is_the_wrong_kind(sleep: RecordingSleep) -> None:
    with pytest.raises(AccessDenied) as raised:
        await client(sleep, org(key_kind="restricted")).validate()
    assert raised.value.sentence == (
        "OpenAI: this key cannot read costs; create an Admin key with Read only "
        "permission (it needs the api.usage.read scope)"
    )


async def test_another_403_names_the_path_not_the_servers_message(
    mock: respx.MockRouter, sleep: RecordingSleep
) -> None:
    mock.get(COSTS).respond(403, json={"error": {"message": "IP 10.0.0.1 is not allowed", "type": "x"}})
    with pytest.raises(AccessDenied) as raised:
        await client(sleep).validate()
    assert raised.value.sentence == (
        "OpenAI refused this key access to /v1/organization/costs (HTTP 403); use an "
        "Admin key with Read only permission"
    )


async def test_429_with_retry_after_then_success(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    route = mock.get(COSTS).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json=page([]))]
    )
    mock.get(PROJECTS).respond(200, json={"object": "list", "data": PROJS, "has_more": False})
    async with client(sleep) as c:
        assert (await c.validate()).members == 2
        assert c.stats.rate_limited == 1 and c.stats.retries == 1
    assert sleep.delays == [7.0] and route.call_count == 2


async def test_429_on_every_try_is_rate_limited(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    mock.get(COSTS).respond(429, json={"error": {"message": "Rate limit reached"}})
    with pytest.raises(RateLimited, match=r"^the OpenAI API is rate limiting"):
        await client(sleep).validate()
    assert len(sleep.delays) == 2  # three tries, two waits


async def test_5xx_on_every_try_is_a_server_error(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    route = mock.get(COSTS).respond(500, json={"error": {"message": "The server had an error"}})
    with pytest.raises(ServerError, match=r"^the OpenAI API failed with HTTP 500 after 3 tries"):
        await client(sleep).validate()
    assert route.call_count == 3  # validation tries three times, not six


async def test_offline_is_one_sentence(sleep: RecordingSleep, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    def offline(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    c = client(sleep, transport=httpx.MockTransport(offline))
    with pytest.raises(Unreachable) as raised:
        await c.validate()
    assert raised.value.sentence.startswith("cannot reach the OpenAI API at api.openai.com")
    assert_no_key(raised.value, caplog, c)


async def test_a_200_without_a_data_list_is_not_a_yes(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    mock.get(COSTS).respond(200, json={"object": "page"})
    with pytest.raises(BadResponse, match="no data list"):
        await client(sleep).validate()


async def test_a_key_that_may_not_list_projects_still_works_with_ids(sleep: RecordingSleep) -> None:
    fake = org(key_kind="costs_only", costs={DAY: [cost("gpt-5, input", "proj_chat", Decimal("1.5"))]})
    async with client(sleep, fake) as c:
        assert await c.validate() == AccountInfo(members=0)
        got = await lines(c)
    assert [(line.actor, line.cost_micro) for line in got] == [("proj_chat", 150_000_000)]


# ------------------------------------------------------------------ exact money


DOC_COSTS = """{"object": "page",
 "data": [
  {"object": "bucket", "start_time": 1785715200, "end_time": 1785801600,
   "results": [
     {"object": "organization.costs.result", "amount": {"value": 3.4172, "currency": "usd"},
      "line_item": "gpt-4.1-2025-04-14, input", "project_id": "proj_8Hc2LmQe",
      "api_key_id": null, "quantity": 1708600},
     {"object": "organization.costs.result", "amount": {"value": 0.05, "currency": "usd"},
      "line_item": "Web search tool calls", "project_id": null, "api_key_id": null,
      "quantity": 5}]}],
 "has_more": false, "next_page": null}"""
DOC_USAGE = """{"object": "page", "has_more": false, "next_page": null, "data": [
{"object": "bucket", "start_time": 1785715200, "end_time": 1785801600,
 "results": [{"object": "organization.usage.completions.result", "model": "gpt-4.1-2025-04-14",
   "num_model_requests": 412, "input_tokens": 1902350, "input_cached_tokens": 1210000,
   "input_cache_write_tokens": 0, "output_tokens": 88410, "project_id": null, "user_id": null,
   "api_key_id": null, "batch": null, "service_tier": null}]}]}"""


# A cost line's usage: not its to report (the usage lines count it), so None and not counted, never 0
NO_USAGE: dict[str, Any] = {
    "requests": None,
    "input_tokens": None,
    "output_tokens": None,
    "cache_read_tokens": None,
    "cache_write_tokens": None,
    "reports_requests": False,
    "reports_tokens": False,
}


async def test_the_docs_example_bodies_give_exact_micro_cents(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    doc_day = datetime.date(2026, 8, 3)
    assert day_start(doc_day) == 1785715200
    costs = mock.get(COSTS).mock(return_value=raw_json(DOC_COSTS))
    usage = mock.get(USAGE).mock(return_value=raw_json(DOC_USAGE))
    mock.get(PROJECTS).respond(
        200, json={"object": "list", "data": [{"id": "proj_8Hc2LmQe", "name": "Chatbot"}], "has_more": False}
    )
    async with client(sleep) as c:
        got = await lines(c, doc_day, doc_day)
    assert got == [
        # $3.4172 = 341_720_000 micro-cents; $0.05 = 5_000_000
        # Cost lines report no usage of their own (the usage lines count it): None, never 0
        CostLine(doc_day, "gpt-4.1-2025-04-14", "Chatbot", False, 341_720_000, **NO_USAGE),
        CostLine(doc_day, "Web search tool calls", "No project", False, 5_000_000, **NO_USAGE),
        # input 1_902_350 - 1_210_000 cached - 0 written = 692_350 uncached
        CostLine(doc_day, "gpt-4.1-2025-04-14", "No project", False, 0, 412, 0, 692_350, 88_410, 1_210_000, 0),
    ]
    sent = costs.calls.last.request.url
    assert sent.params.get_list("group_by[]") == ["line_item", "project_id"]
    assert "group_by%5B%5D=line_item&group_by%5B%5D=project_id" in str(sent)
    assert dict(sent.params) | {"group_by[]": None} == {
        "start_time": "1785715200",
        "end_time": "1785801600",
        "bucket_width": "1d",
        "limit": "180",
        "group_by[]": None,
    }
    assert usage.calls.last.request.url.params.get_list("group_by[]") == ["model", "project_id"]
    assert usage.calls.last.request.url.params["limit"] == "31"


async def test_each_amount_is_read_exactly_rounded_once_and_summed_exactly(sleep: RecordingSleep) -> None:
    results = [
        cost("gpt-5, input", "proj_chat", Decimal("0.1")),
        cost("gpt-5, output", "proj_chat", Decimal("0.2")),
        cost("gpt-5, cached input", "proj_chat", "2.25"),  # a numeric string, as one public fixture sends
        cost("o3, input", "proj_chat", Decimal("0.000000005")),
        cost("o3, output", "proj_chat", Decimal("0.000000005")),
        cost("o3-mini", "proj_chat", Decimal("0.000000005")),  # half a micro-cent on its own: rounds to even, 0
        cost("o1", "proj_chat", Decimal("0.000000015")),  # 1.5 -> 2
        cost("gpt-5, input", None, Decimal("-0.75")),  # a credit, summed as sent
        cost("gpt-5, input", None, 3, "USD"),  # an integer, and the currency compared without case
        cost(None, "proj_evals", Decimal("0.33333333333333333333")),
        {"object": "organization.costs.result", "amount": None, "line_item": "Image models", "project_id": None},
        {"object": "organization.costs.result", "line_item": "Image models", "project_id": None},
        cost("Image models", None, None),
    ]
    async with client(sleep, org(costs={DAY: results})) as c:
        got = {(line.model, line.actor): line.cost_micro for line in await lines(c)}
    assert got == {
        ("gpt-5", "Chat assistant"): 255_000_000,  # 0.1 + 0.2 + 2.25 exactly, no float residue
        ("o3", "Chat assistant"): 0,  # each 0.000000005 is half a micro-cent: rounded to the even 0, then summed
        ("o3-mini", "Chat assistant"): 0,
        ("o1", "Chat assistant"): 2,
        ("gpt-5", "No project"): 225_000_000,
        ("other", "Batch evals"): 33_333_333,
    }


async def test_usage_prefers_uncached_tokens_and_counts_absent_ones_as_zero(
    mock: respx.MockRouter, sleep: RecordingSleep
) -> None:
    fake = org(
        usage={
            DAY: [
                use("gpt-5", "proj_chat", 10, 1000, cached=300, write=100, output=50, input_uncached_tokens=590),
                use("gpt-5", "proj_chat", 5, 100, cached=20, write=30, output=7),
                {"model": "gpt-5-mini", "project_id": "proj_gone", "num_model_requests": 3, "input_tokens": 40},
                use(None, None, 1, 10, cached=30),  # more cache than input: 0 uncached, never negative
            ]
        }
    )
    async with client(sleep, fake) as c:
        got = {
            (line.model, line.actor): (
                line.requests,
                line.input_tokens,
                line.output_tokens,
                line.cache_read_tokens,
                line.cache_write_tokens,
            )
            for line in await lines(c)
        }
    assert got == {
        ("gpt-5", "Chat assistant"): (15, 590 + 50, 57, 320, 130),
        ("gpt-5-mini", "proj_gone"): (3, 40, 0, 0, 0),  # an id the project list does not name
        ("other", "No project"): (1, 0, 0, 30, 0),
    }


def test_the_model_of_a_line_item() -> None:
    assert model_of("gpt-4o-2024-08-06, input") == "gpt-4o-2024-08-06"
    assert model_of("gpt-4o, cached input, batch") == "gpt-4o"
    assert model_of("Web search tool calls") == "Web search tool calls"
    assert model_of(None) == "other"
    assert model_of(", input") == "other"


async def test_projects_sharing_a_name_are_told_apart(sleep: RecordingSleep) -> None:
    projects = [
        {"id": "proj_a", "name": "Chat"},
        {"id": "proj_b", "name": "Chat"},
        {"id": "proj_c", "name": "No project"},
        {"id": "proj_d", "name": None},
    ]
    fake = org(
        projects=projects, costs={DAY: [cost("m", p, 1) for p in ("proj_a", "proj_b", "proj_c", "proj_d", None)]}
    )
    async with client(sleep, fake) as c:
        actors = sorted(line.actor for line in await lines(c))
    assert actors == ["Chat (proj_a)", "Chat (proj_b)", "No project", "No project (proj_c)", "proj_d"]


# ------------------------------------------------------------------ windows and paging


async def test_a_window_follows_next_page_and_covers_every_day(sleep: RecordingSleep) -> None:
    first, last = datetime.date(2025, 9, 14), datetime.date(2026, 3, 12)
    assert (last - first).days + 1 == MAX_WINDOW_DAYS
    days = [first + datetime.timedelta(days=i) for i in range(MAX_WINDOW_DAYS)]
    fake = org(
        costs={d: [cost("gpt-5, input", "proj_chat", Decimal("1.01"))] for d in days[::2]},
        usage={d: [use("gpt-5", "proj_evals", 2, 10)] for d in days},
        max_page=7,
    )
    async with client(sleep, fake) as c:
        got = await lines(c, first, last)
        covered = c.days_covered(first, last)
    assert fake.calls["/v1/organization/costs"] == 26  # 180 buckets, 7 a page
    assert fake.calls["/v1/organization/usage/completions"] == 5 * 5 + 4  # 31-day calls, the sixth of 25 days
    assert sum(line.cost_micro for line in got) == 90 * 101_000_000
    assert sum(line.requests or 0 for line in got if line.reports_requests) == 360
    assert {line.day for line in got if line.requests} == set(days)
    assert covered == days  # a complete answer speaks for every day, the empty ones as $0


async def test_usage_is_read_in_31_day_calls(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    mock.get(COSTS).respond(200, json=page([]))
    mock.get(PROJECTS).respond(200, json={"object": "list", "data": [], "has_more": False})
    usage = mock.get(USAGE).respond(200, json=page([]))
    first, last = datetime.date(2026, 1, 1), datetime.date(2026, 3, 3)  # 62 days
    async with client(sleep) as c:
        assert await lines(c, first, last) == []
    spans = [
        (int(call.request.url.params["start_time"]), int(call.request.url.params["end_time"])) for call in usage.calls
    ]
    assert spans == [
        (day_start(first), day_start(datetime.date(2026, 2, 1))),
        (day_start(datetime.date(2026, 2, 1)), day_start(datetime.date(2026, 3, 4))),
    ]


async def test_a_window_past_180_days_is_refused_before_any_call(sleep: RecordingSleep) -> None:
    c = client(sleep, org())
    with pytest.raises(ValueError):
        c.cost_lines(datetime.date(2025, 1, 1), datetime.date(2025, 6, 30))
    assert c.stats.requests == 0


def _one_bucket(results: list) -> str:
    return json.dumps(
        page(
            [{"object": "bucket", "start_time": day_start(DAY), "end_time": day_start(DAY) + 86400, "results": results}]
        )
    )


MALFORMED = {
    "no data list": ('{"object": "page", "has_more": false}', "without a data list and has_more"),
    "data not a list": ('{"data": {}, "has_more": false, "next_page": null}', "without a data list and has_more"),
    "no has_more": ('{"data": [], "next_page": null}', "without a data list and has_more"),
    "has_more without next_page": ('{"data": [], "has_more": true, "next_page": null}', "do not follow on"),
    "bucket not at midnight": (
        json.dumps(page([{"start_time": day_start(DAY) + 3600, "results": []}])),
        "a bucket that does not start at a UTC midnight inside the window",
    ),
    "bucket outside the window": (
        json.dumps(page([bucket(DAY + datetime.timedelta(days=1), [])])),
        "a bucket that does not start at a UTC midnight inside the window",
    ),
    "start_time a string": (
        json.dumps(page([{"start_time": str(day_start(DAY)), "results": []}])),
        "a bucket without a whole-number start_time",
    ),
    "no results": (json.dumps(page([{"start_time": day_start(DAY)}])), "a bucket without a results list"),
    "two buckets for a day": (json.dumps(page([bucket(DAY, []), bucket(DAY, [])])), "two buckets for 2026-03-10"),
    "value a word": (
        _one_bucket([cost("gpt-5", None, "lots")]),
        r"an amount value that is not a number \(got a string of 4 characters\)",
    ),
    "value a boolean": (_one_bucket([cost("gpt-5", None, True)]), "not a number \\(got a boolean\\)"),
    "value an object": (_one_bucket([cost("gpt-5", None, {"usd": 1})]), "not a number \\(got an object\\)"),
    "value NaN": (
        f'{{"data": [{{"start_time": {day_start(DAY)}, "results": [{{"amount": {{"value": NaN}}}}]}}], '
        '"has_more": false}',
        "an amount value that is not a finite number",
    ),
    "currency eur": (_one_bucket([cost("gpt-5", None, 1, "eur")]), "a currency other than usd"),
    "amount a number": (_one_bucket([{"amount": 5, "line_item": "x"}]), "an amount that is not an object"),
    "line_item a number": (_one_bucket([cost(7, None, 1)]), "a line_item that is not a string"),  # type: ignore[arg-type]
    "project_id a list": (_one_bucket([cost("x", ["p"], 1)]), "a project_id that is not a string"),  # type: ignore[arg-type]
    "result a string": (_one_bucket(["gpt-5"]), "a result that is not a JSON object"),
}


@pytest.mark.parametrize("body,message", MALFORMED.values(), ids=MALFORMED.keys())
async def test_a_malformed_costs_answer_fails_the_window(
    mock: respx.MockRouter, sleep: RecordingSleep, body: str, message: str
) -> None:
    mock.get(COSTS).mock(return_value=raw_json(body))
    usage = mock.get(USAGE).respond(200, json=page([]))
    async with client(sleep) as c:
        with pytest.raises(BadResponse, match=f"^the OpenAI API .*{message}.*; {SAVED}$"):
            await lines(c)
    assert usage.call_count == 0


async def test_a_repeated_cursor_is_malformed(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    mock.get(COSTS).mock(
        side_effect=[
            httpx.Response(200, json=page([bucket(DAY, [])], True, "page_1")),
            httpx.Response(200, json=page([], True, "page_1")),
        ]
    )
    with pytest.raises(BadResponse, match=f"do not follow on .*; {SAVED}$"):
        await lines(client(sleep))


async def test_endless_pages_stop_at_the_limit(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    served = iter(range(10**6))
    route = mock.get(COSTS).mock(
        side_effect=lambda request: httpx.Response(200, json=page([], True, f"page_{next(served)}"))
    )
    with pytest.raises(LimitExceeded, match=f"after {MAX_PAGES:,} pages for one window; {SAVED}$"):
        await lines(client(sleep))
    assert route.call_count == MAX_PAGES


async def test_too_many_models_in_a_window_stop_it(mock: respx.MockRouter, sleep: RecordingSleep) -> None:
    results = [cost(f"model-{i}, input", None, 1) for i in range(MAX_MODELS_PER_WINDOW + 1)]
    mock.get(COSTS).respond(200, json=page([bucket(DAY, results)]))
    with pytest.raises(LimitExceeded, match=f"more than {MAX_MODELS_PER_WINDOW:,} different models"):
        await lines(client(sleep))


# ------------------------------------------------------------------ when the usage endpoint fails


@pytest.mark.parametrize("status", [500, 403, 404])
async def test_costs_are_kept_with_unknown_requests_when_usage_fails(
    sleep: RecordingSleep, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = org(
        costs={DAY: [cost("gpt-5, input", "proj_chat", Decimal("1.25"))]},
        usage={DAY: [use("gpt-5", "proj_chat", 9, 100)]},
        usage_failure=status,
    )
    async with client(sleep, fake) as c:
        got = await lines(c)
        assert_no_key(None, caplog, c)
    assert got == [CostLine(DAY, "gpt-5", "Chat assistant", False, 125_000_000, None, 0, None, None, None, None)]
    assert "kept the costs of 2026-03-10..2026-03-10 without requests and tokens" in caplog.text


async def test_a_usage_answer_of_the_wrong_shape_keeps_the_costs_too(
    mock: respx.MockRouter, sleep: RecordingSleep
) -> None:
    no_projects(mock)
    mock.get(COSTS).respond(200, json=page([bucket(DAY, [cost("gpt-5", None, 2)])]))
    mock.get(USAGE).respond(200, json=page([bucket(DAY, [use("gpt-5", None, -1, 5)])]))
    got = await lines(client(sleep))
    assert [(line.cost_micro, line.requests, line.input_tokens) for line in got] == [(200_000_000, None, None)]


async def test_a_key_rejected_by_the_usage_endpoint_fails_the_window(
    mock: respx.MockRouter, sleep: RecordingSleep
) -> None:
    no_projects(mock)
    mock.get(COSTS).respond(200, json=page([bucket(DAY, [cost("gpt-5", None, 2)])]))
    mock.get(USAGE).respond(
        401,
        json={"error": {"message": f"Incorrect API key provided: {KEY[:9]}****{KEY[-4:]}", "code": "invalid_api_key"}},
    )
    with pytest.raises(KeyRejected) as raised:
        await lines(client(sleep))
    assert "****" not in raised.value.sentence


async def test_a_usage_scope_refusal_names_usage(
    mock: respx.MockRouter, sleep: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    no_projects(mock)
    mock.get(COSTS).respond(200, json=page([]))
    mock.get(USAGE).respond(401, json={"error": {"message": "Missing scopes: api.usage.read"}})
    assert await lines(client(sleep)) == []
    assert "this key cannot read usage (requests and tokens)" in caplog.text


# ------------------------------------------------------------------ settings, registry and the demo


async def test_from_settings_uses_the_openai_url_and_the_registry_knows_it(
    monkeypatch: pytest.MonkeyPatch, sleep: RecordingSleep
) -> None:
    monkeypatch.setenv("GRAFIENT_OPENAI_API_URL", "https://openai.example.test")
    fake = org()
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url.host))
        return fake.handler(request)

    provider = providers.get("openai").from_settings(KEY, Settings.from_env(), transport=httpx.MockTransport(handler))
    async with provider:
        assert (await provider.validate()).members == 2
    assert seen == ["openai.example.test"] * 2
    assert providers.fake("openai") is FakeOpenAIOrg
    assert repr(provider) == f"OpenAIClient(key=sk-admin-…{KEY[-4:]}, base_url='https://openai.example.test')"


def test_the_demo_organization_is_seeded_and_office_shaped() -> None:
    a = demo_account(KEY, TODAY, seed=3)
    assert a.costs == demo_account(KEY, TODAY, seed=3).costs and a.costs != demo_account(KEY, TODAY, seed=4).costs
    assert len(a.costs) == 180 and max(a.costs) == TODAY
    assert [p["name"] for p in a.projects] == ["Chat assistant", "Batch evals", "Internal tools"]
    daily = {day: sum(Decimal(r["amount"]["value"]) for r in rows) for day, rows in a.costs.items() if day < TODAY}
    assert all(Decimal(15) < v < Decimal(350) for v in daily.values())
    weekdays = [v for d, v in daily.items() if d.weekday() < 5]
    weekends = [v for d, v in daily.items() if d.weekday() >= 5]
    ratio = (sum(weekends) / len(weekends)) / (sum(weekdays) / len(weekdays))
    assert Decimal("0.15") < ratio < Decimal("0.35")
    labels = {r["line_item"] for rows in a.costs.values() for r in rows}
    assert "Web search tool calls" in labels and "text-embedding-3-large, input" in labels
    assert any(r["project_id"] is None for rows in a.usage.values() for r in rows)
    by_model: dict[str, Decimal] = {}
    for rows in a.costs.values():
        for r in rows:
            by_model[model_of(r["line_item"])] = (
                by_model.get(model_of(r["line_item"]), Decimal(0)) + r["amount"]["value"]
            )
    assert max(by_model, key=by_model.__getitem__) == "gpt-5-2025-08-07"


def test_the_rpm_setting_is_read_without_an_api_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRAFIENT_OPENAI_RPM")  # the tests' home turns pacing off; here the default counts
    assert Settings.from_env().rpm("openai", 30) == 30
    monkeypatch.setenv("GRAFIENT_OPENAI_RPM", "0")  # pacing off, the address left at OpenAI's
    assert Settings.from_env().rpm("openai", 30) == 0


async def test_a_sync_whose_usage_failed_stores_unknown_requests_not_zero() -> None:
    from grafient_tui.secret import Secret
    from grafient_tui.store.db import Database
    from grafient_tui.store.integrations import add_integration
    from grafient_tui.store.vault import Vault
    from grafient_tui.sync.engine import run_sync
    from tests import oracle

    settings = Settings.from_env()
    settings.ensure_dirs()
    db, vault = Database(settings), Vault(settings)
    fake = org(
        costs={DAY: [cost("gpt-5, input", "proj_chat", Decimal("1.25"))]},
        usage={DAY: [use("gpt-5", "proj_chat", 9, 100)]},
        usage_failure=500,
    )
    iid = int(add_integration(db, vault, label="OpenAI", provider="openai", api_key=Secret(KEY)).id)
    now = datetime.datetime(2026, 3, 12, 10, 30, tzinfo=datetime.UTC)
    result = await run_sync(db, vault, settings, iid, "backfill", transport=httpx.MockTransport(fake.handler), now=now)
    assert result.outcome == "success"
    days, models, members = oracle.store_snapshot(settings.database_file, iid)
    assert [row[:10] for row in days if row[0] == DAY] == [
        (DAY, 125_000_000, None, None, None, 0, None, None, None, None)
    ]
    quiet = [row for row in days if row[0] != DAY]
    assert quiet and all(row[4] is None and row[6] is None for row in quiet)  # quiet days: unknown too, not 0
    assert models == [(DAY, "gpt-5", 125_000_000, None, None, None, None, None, None)]
    assert members == [(DAY, "Chat assistant", 125_000_000, None)]


# ------------------------------------------------------------------ live amounts (issue 21)

# A live /costs answer as shared/openai-admin-api.md describes it: the value as a decimal string with
# 39 decimals and as BigDecimal's zero with a four-digit exponent (as a string and as a number), the
# ISO times on the bucket, and the extra fields and float quantity on each result. Zeros whose exponent
# is past what Decimal itself reads are zeros too.
LIVE_COSTS = """{"object": "page", "data": [{"object": "bucket", "start_time": 1773100800, "end_time": 1773187200,
 "start_time_iso": "2026-03-10T00:00:00+00:00", "end_time_iso": "2026-03-11T00:00:00+00:00", "results": [
  {"object": "organization.costs.result", "amount": {"value": "0.00003420000000000000000000000000000000",
   "currency": "usd"}, "line_item": "gpt-5, input", "project_id": "proj_chat", "organization_id": "org-Q7",
   "organization_name": "Acme", "project_name": "Chat assistant", "user_id": null, "user_email": null,
   "api_key_id": null, "quantity": 1368.0},
  {"object": "organization.costs.result", "amount": {"value": "0E-6176", "currency": "usd"},
   "line_item": "gpt-5, output", "project_id": "proj_chat", "quantity": 0.0},
  {"object": "organization.costs.result", "amount": {"value": 0E-6176, "currency": "usd"},
   "line_item": "gpt-5, cached input", "project_id": "proj_chat", "quantity": 0.5},
  {"object": "organization.costs.result", "amount": {"value": 0E-99999999999999999999, "currency": "usd"},
   "line_item": "gpt-5, input", "project_id": "proj_chat", "quantity": 0.0},
  {"object": "organization.costs.result", "amount": {"value": "-0E+99999999999999999999", "currency": "usd"},
   "line_item": "gpt-5, input", "project_id": "proj_chat", "quantity": 0.0},
  {"object": "organization.costs.result", "amount": {"value": "1.250000000000000000000000000000000000000",
   "currency": "usd"}, "line_item": "Web search tool calls", "project_id": null, "quantity": 25.0}]}],
 "has_more": false, "next_page": null}"""


async def _live_sync(costs_body: str) -> tuple[object, object, int]:
    from grafient_tui.secret import Secret
    from grafient_tui.store.db import Database
    from grafient_tui.store.integrations import add_integration
    from grafient_tui.store.vault import Vault
    from grafient_tui.sync.engine import run_sync

    settings = Settings.from_env()
    settings.ensure_dirs()
    db, vault = Database(settings), Vault(settings)
    iid = int(add_integration(db, vault, label="OpenAI", provider="openai", api_key=Secret(KEY)).id)
    now = datetime.datetime(2026, 3, 12, 10, 30, tzinfo=datetime.UTC)
    with respx.mock(assert_all_called=False) as router:

        def costs(request: httpx.Request) -> httpx.Response:
            start, end = int(request.url.params["start_time"]), int(request.url.params["end_time"])
            return raw_json(costs_body) if start <= day_start(DAY) < end else httpx.Response(200, json=page([]))

        router.get(COSTS).mock(side_effect=costs)
        router.get(USAGE).respond(200, json=page([]))
        router.get(PROJECTS).respond(200, json={"object": "list", "data": PROJS, "has_more": False})
        # The engine's backfill: one window from the plan's first day to today, DAY inside it.
        result = await run_sync(db, vault, settings, iid, "backfill", now=now)
    return result, settings, iid


async def test_a_live_answer_with_long_decimals_and_a_zero_of_any_exponent_syncs_exactly() -> None:
    from tests import oracle

    result, settings, iid = await _live_sync(LIVE_COSTS)
    assert result.outcome == "success", result.error  # type: ignore[attr-defined]
    days, models, members = oracle.store_snapshot(settings.database_file, iid)  # type: ignore[attr-defined]
    # $0.0000342 = 3,420 micro-cents exactly; each zero is 0; $1.25 = 125,000,000
    assert [row[1] for row in days if row[0] == DAY] == [125_003_420]
    assert {(m[1], m[2]) for m in models if m[0] == DAY} == {("gpt-5", 3_420), ("Web search tool calls", 125_000_000)}
    assert {(m[1], m[2]) for m in members if m[0] == DAY} == {("Chat assistant", 3_420), ("No project", 125_000_000)}


@pytest.mark.parametrize("value", ['"1E+6176"', "1E+6176", "1E+99999999999999999999", '"9' + "9" * 30 + '"'])
async def test_a_non_zero_amount_beyond_any_bill_fails_the_window_in_one_sentence(value: str) -> None:
    """Refused on its exponent or its digits before any arithmetic, and nothing of the window is stored."""
    from tests import oracle

    body = LIVE_COSTS.replace('"0E-6176"', value, 1)
    result, settings, iid = await _live_sync(body)
    assert result.outcome == "failed"  # type: ignore[attr-defined]
    error = result.error  # type: ignore[attr-defined]
    assert "an amount value that is beyond any plausible bill" in error and SAVED in error, error
    days, _, _ = oracle.store_snapshot(settings.database_file, iid)  # type: ignore[attr-defined]
    assert [row for row in days if row[0] == DAY] == []


async def test_an_error_body_with_a_number_decimal_cannot_hold_is_still_one_sentence(
    mock: respx.MockRouter, sleep: RecordingSleep
) -> None:
    """The error body is read for its message; a number in it past Decimal's exponents must not escape."""
    body = '{"error": {"message": "Invalid start_time", "param": 1E+99999999999999999999}}'
    mock.get(COSTS).mock(return_value=httpx.Response(400, content=body.encode()))
    no_projects(mock)
    async with client(sleep) as c:
        with pytest.raises(RequestRejected) as raised:
            await lines(c)
    assert raised.value.status == 400 and "Invalid start_time" in raised.value.sentence

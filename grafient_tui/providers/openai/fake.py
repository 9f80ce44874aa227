"""An in-memory OpenAI organization, served as an httpx handler: the demo's organization and the tests'.

It answers the Admin API's costs, completions usage and projects endpoints as far as the docs and
public clients tell: Bearer auth, the 401 of a wrong key (quoting a masked piece of it, as OpenAI
does), the refusal naming `api.usage.read` for a key of the wrong kind, daily buckets grouped by
the requested fields, `limit` and opaque `next_page` cursors, and dollars as JSON numbers with as
many decimals as they have. Nothing here imports Textual or the tests.
"""

from __future__ import annotations

import base64
import datetime
import json
import random
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import httpx

DAY_SECONDS = 86_400
_EPOCH = datetime.date(1970, 1, 1)
# key_kind -> what the key may read; "admin" reads everything
KEY_KINDS = ("admin", "project", "restricted", "costs_only")
USAGE_COUNTS = (
    "num_model_requests",
    "input_tokens",
    "input_cached_tokens",
    "input_cache_write_tokens",
    "input_uncached_tokens",
    "output_tokens",
    "input_audio_tokens",
    "output_audio_tokens",
)
_COSTS = "/v1/organization/costs"
_USAGE = "/v1/organization/usage/completions"
_PROJECTS = "/v1/organization/projects"
_MISSING_SCOPE = (
    "You have insufficient permissions for this operation. Missing scopes: {scope}. Check that you "
    "have the correct role in your organization or project, and if you're using a restricted API "
    "key, that it has the necessary scopes."
)


def _error(status: int, message: str, code: str | None = None) -> httpx.Response:
    return httpx.Response(
        status, json={"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}
    )


def _day(seconds: int) -> datetime.date:
    return _EPOCH + datetime.timedelta(days=seconds // DAY_SECONDS)


def _seconds(day: datetime.date) -> int:
    return (day - _EPOCH).days * DAY_SECONDS


_NUMBER = re.compile(r'"\\u0000(-?[0-9.Ee+-]+)"')


def _dumps(value: Any) -> bytes:
    """JSON in which a Decimal is written as the number literal it is (all its decimals), as OpenAI
    writes `amount.value`; json has no hook for raw numbers, so they pass through a marked string."""

    def literal(obj: Any) -> str:
        if isinstance(obj, Decimal):
            return "\0" + format(obj, "f")
        raise TypeError(type(obj).__name__)

    text = json.dumps(value, default=literal, separators=(",", ":"))
    return _NUMBER.sub(r"\1", text).encode()


class FakeOpenAIOrg:
    """One OpenAI organization: its projects, and per UTC day the finest costs and usage results
    (`line_item` and `project_id`; `model` and `project_id`) in the documented result shapes."""

    def __init__(
        self,
        *,
        api_key: str,
        projects: list[dict[str, Any]] | None = None,
        costs: Mapping[datetime.date, list[dict[str, Any]]] | None = None,
        usage: Mapping[datetime.date, list[dict[str, Any]]] | None = None,
        key_kind: str = "admin",
        usage_failure: int | None = None,
        today: datetime.date | None = None,
        max_page: int | None = None,
    ) -> None:
        if key_kind not in KEY_KINDS:
            raise ValueError(f"key_kind must be one of {', '.join(KEY_KINDS)}")
        self.api_key = api_key
        self.projects: list[dict[str, Any]] = (
            projects
            if projects is not None
            else [{"id": "proj_default0000000000000", "name": "Default project", "status": "active"}]
        )
        self.costs: dict[datetime.date, list[dict[str, Any]]] = dict(costs or {})
        self.usage: dict[datetime.date, list[dict[str, Any]]] = dict(usage or {})
        self.key_kind = key_kind
        self.usage_failure = usage_failure  # an HTTP status the usage endpoint answers with, if set
        self.today = today  # the last day with buckets; None: the clock's UTC today
        self.max_page = max_page  # serve at most this many buckets a page, whatever `limit` asks
        self.calls: dict[str, int] = {}

    # ------------------------------------------------------------------ serving

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.calls[path] = self.calls.get(path, 0) + 1
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            sent = request.headers.get("authorization", "").removeprefix("Bearer ")
            return _error(
                401,
                f"Incorrect API key provided: {sent[:9]}****{sent[-4:]}. You can find your API key "
                "at https://platform.openai.com/account/api-keys.",
                "invalid_api_key",
            )
        if request.method != "GET":
            return _error(405, "Method not allowed")
        if path in (_COSTS, _USAGE):
            if self.key_kind == "project":
                return _error(403, _MISSING_SCOPE.format(scope="api.usage.read"))
            if self.key_kind == "restricted":
                return _error(401, _MISSING_SCOPE.format(scope="api.usage.read"))
            if path == _USAGE and self.usage_failure is not None:
                return _error(self.usage_failure, "The server had an error while processing your request.")
            return self._buckets(request, path)
        if path == _PROJECTS:
            if self.key_kind in ("project", "costs_only"):
                return _error(
                    401 if self.key_kind == "costs_only" else 403, _MISSING_SCOPE.format(scope="api.management.read")
                )
            return self._projects(request)
        return _error(404, f"Invalid URL (GET {path})")

    def _buckets(self, request: httpx.Request, path: str) -> httpx.Response:
        query = request.url.params
        try:
            start = int(query["start_time"])
            today = self.today or datetime.datetime.now(datetime.UTC).date()
            end = int(query.get("end_time", _seconds(today + datetime.timedelta(days=1))))
            limit = int(query.get("limit", 7))
            offset = _cursor(query.get("page"))
        except (KeyError, ValueError):
            return _error(400, "start_time is required; start_time, end_time, limit and page must be valid")
        if query.get("bucket_width", "1d") != "1d":
            return _error(400, "this organization serves bucket_width 1d only")
        most = 180 if path == _COSTS else 31
        if not 1 <= limit <= most:
            return _error(400, f"limit must be between 1 and {most}")
        group_by = query.get_list("group_by[]")
        fields = ("line_item", "project_id", "api_key_id") if path == _COSTS else ("model", "project_id")
        if any(field not in fields for field in group_by):
            return _error(400, "invalid group_by")
        first = _day(start)  # snapped to its UTC midnight
        stop = min(_day(end - 1), today)
        days = [first + datetime.timedelta(days=i) for i in range((stop - first).days + 1)]
        limit = min(limit, self.max_page or limit)
        page = days[offset : offset + limit]
        stored = self.costs if path == _COSTS else self.usage
        group = _costs_group if path == _COSTS else _usage_group
        data = [
            {
                "object": "bucket",
                "start_time": _seconds(day),
                "end_time": _seconds(day) + DAY_SECONDS,
                "results": group(stored.get(day, []), group_by),
            }
            for day in page
        ]
        more = offset + limit < len(days)
        return httpx.Response(
            200,
            content=_dumps(
                {
                    "object": "page",
                    "data": data,
                    "has_more": more,
                    "next_page": _token(offset + limit) if more else None,
                }
            ),
            headers={"content-type": "application/json"},
        )

    def _projects(self, request: httpx.Request) -> httpx.Response:
        query = request.url.params
        try:
            limit = int(query.get("limit", 20))
        except ValueError:
            return _error(400, "limit must be a number")
        if not 1 <= limit <= 100:
            return _error(400, "limit must be between 1 and 100")
        listed = [
            p
            for p in self.projects
            if query.get("include_archived") == "true" or p.get("status", "active") != "archived"
        ]
        after = query.get("after")
        start = 0
        if after is not None:
            ids = [p["id"] for p in listed]
            if after not in ids:
                return _error(400, "after must be a project id")
            start = ids.index(after) + 1
        page = listed[start : start + limit]
        body = {
            "object": "list",
            "data": [
                {
                    "object": "organization.project",
                    "created_at": 1_711_471_533,
                    "archived_at": None,
                    "status": "active",
                    **p,
                }
                for p in page
            ],
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
            "has_more": start + limit < len(listed),
        }
        return httpx.Response(200, json=body)


def _token(offset: int) -> str:
    return "page_" + base64.urlsafe_b64encode(f"bucket:{offset}".encode()).decode().rstrip("=")


def _cursor(token: str | None) -> int:
    if token is None:
        return 0
    if not token.startswith("page_"):
        raise ValueError("not a page cursor")
    raw = token[5:]
    decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    kind, _, offset = decoded.partition(":")
    if kind != "bucket":
        raise ValueError("not a page cursor")
    return int(offset)


def _costs_group(results: list[dict[str, Any]], group_by: list[str]) -> list[dict[str, Any]]:
    """The stored results summed by the requested fields; the others null, as OpenAI sends them."""
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for result in results:
        key = tuple(result.get(field) if field in group_by else None for field in ("line_item", "project_id"))
        amount = result.get("amount") or {}
        row = groups.get(key)
        if row is None:
            row = groups[key] = {
                "object": "organization.costs.result",
                "amount": {"value": Decimal(0), "currency": amount.get("currency", "usd")},
                "line_item": key[0],
                "project_id": key[1],
                "api_key_id": None,
            }
            if "line_item" in group_by:
                row["quantity"] = None
        value = amount.get("value")
        if value is not None:
            row["amount"]["value"] += Decimal(str(value))
        if "line_item" in group_by and result.get("quantity") is not None:
            row["quantity"] = (row["quantity"] or 0) + result["quantity"]
    if set(group_by) >= {"line_item", "project_id"}:
        return [dict(r) for r in results]  # the finest grouping: as stored, odd shapes included
    return list(groups.values())


def _usage_group(results: list[dict[str, Any]], group_by: list[str]) -> list[dict[str, Any]]:
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for result in results:
        key = tuple(result.get(field) if field in group_by else None for field in ("model", "project_id"))
        row = groups.get(key)
        if row is None:
            row = groups[key] = {
                "object": "organization.usage.completions.result",
                "model": key[0],
                "project_id": key[1],
                "user_id": None,
                "api_key_id": None,
                "batch": None,
                "service_tier": None,
                **{name: 0 for name in USAGE_COUNTS if name in result},
            }
        for name in USAGE_COUNTS:
            if isinstance(result.get(name), int):
                row[name] = row.get(name, 0) + result[name]
    if set(group_by) >= {"model", "project_id"}:
        return [dict(r) for r in results]
    return list(groups.values())


# --------------------------------------------------------------------------- the demo's organization

DEMO_PROJECTS = ("Chat assistant", "Batch evals", "Internal tools")
# model snapshot -> dollars per million tokens: uncached input, cached input, output
_PRICES = {
    "gpt-5-2025-08-07": (Decimal("1.25"), Decimal("0.125"), Decimal("10")),
    "gpt-5-mini-2025-08-07": (Decimal("0.25"), Decimal("0.025"), Decimal("2")),
    "o3-2025-04-16": (Decimal("2"), Decimal("0.5"), Decimal("8")),
}
_EMBEDDING = ("text-embedding-3-large", Decimal("0.13"))
_WEB_SEARCH = Decimal("0.01")  # per call
_MILLION = Decimal(1_000_000)
# project -> model -> (weekday requests, input tokens per request, cached share, output tokens per request)
_TRAFFIC = {
    "Chat assistant": {"gpt-5-2025-08-07": (5200, 5200, 0.45, 900), "gpt-5-mini-2025-08-07": (30000, 2600, 0.3, 260)},
    "Batch evals": {"gpt-5-mini-2025-08-07": (4000, 3000, 0.1, 400), "o3-2025-04-16": (150, 9000, 0.2, 4000)},
    "Internal tools": {"gpt-5-2025-08-07": (700, 3800, 0.35, 700), "o3-2025-04-16": (90, 7000, 0.25, 3000)},
    None: {"gpt-5-mini-2025-08-07": (900, 1200, 0.0, 200)},
}


def demo_account(api_key: str, today: datetime.date, seed: int) -> FakeOpenAIOrg:
    """A seeded organization with 180 days of history up to `today` (partial): an office-hours product
    whose weekends run at about a quarter of its weekdays, gpt-5 the bulk of the spend, gpt-5-mini the
    bulk of the requests, o3 now and then, a little embedding and web search, and one batch-eval day
    a month that roughly doubles the spend. About $20 to $300 a day."""
    rng = random.Random(seed)
    projects = [
        {
            "id": "proj_"
            + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789") for _ in range(24)),
            "name": name,
        }
        for name in DEMO_PROJECTS
    ]
    ids: dict[str | None, str | None] = {p["name"]: p["id"] for p in projects}
    ids[None] = None
    costs: dict[datetime.date, list[dict[str, Any]]] = {}
    usage: dict[datetime.date, list[dict[str, Any]]] = {}
    history = 180
    spike_day = rng.randrange(3, 26)  # the day of the month the batch evals run
    for offset in range(history):
        day = today - datetime.timedelta(days=history - 1 - offset)
        growth = 0.75 + 0.25 * offset / (history - 1)  # adoption grows over the half year
        rhythm = 0.25 if day.weekday() >= 5 else 1.0
        share = 0.4 if day == today else 1.0  # today so far
        day_costs: list[dict[str, Any]] = []
        day_usage: list[dict[str, Any]] = []
        for name, models in _TRAFFIC.items():
            project = ids[name]
            for model, (requests, per_input, cached_share, per_output) in models.items():
                factor = growth * rhythm * share * rng.uniform(0.8, 1.2)
                spike = name == "Batch evals" and day.day == spike_day
                if model.startswith("o3") and rng.random() < 0.6 and not spike:
                    continue  # occasional
                if spike:
                    factor *= 12 if model.startswith("gpt-5-mini") else 22
                n = max(1, round(requests * factor))
                input_tokens = round(n * per_input * rng.uniform(0.85, 1.15))
                cached = round(input_tokens * cached_share)
                output = round(n * per_output * rng.uniform(0.85, 1.15))
                day_usage.append(
                    {
                        "model": model,
                        "project_id": project,
                        "num_model_requests": n,
                        "input_tokens": input_tokens,
                        "input_cached_tokens": cached,
                        "input_cache_write_tokens": 0,
                        "output_tokens": output,
                    }
                )
                price_in, price_cached, price_out = _PRICES[model]
                for kind, tokens, price in (
                    ("input", input_tokens - cached, price_in),
                    ("cached input", cached, price_cached),
                    ("output", output, price_out),
                ):
                    if tokens:
                        day_costs.append(_cost(f"{model}, {kind}", project, tokens * price / _MILLION, tokens))
        embedded = round(rng.uniform(2e6, 6e6) * rhythm * share)
        day_costs.append(
            _cost(f"{_EMBEDDING[0]}, input", ids["Internal tools"], embedded * _EMBEDDING[1] / _MILLION, embedded)
        )
        searches = round(rng.uniform(150, 400) * rhythm * growth * share)
        day_costs.append(_cost("Web search tool calls", ids["Chat assistant"], searches * _WEB_SEARCH, searches))
        costs[day], usage[day] = day_costs, day_usage
    return FakeOpenAIOrg(api_key=api_key, projects=projects, costs=costs, usage=usage, today=today)


def _cost(line_item: str, project: str | None, dollars: Decimal, quantity: int) -> dict[str, Any]:
    return {
        "object": "organization.costs.result",
        "amount": {"value": dollars, "currency": "usd"},
        "line_item": line_item,
        "project_id": project,
        "api_key_id": None,
        "quantity": quantity,
    }

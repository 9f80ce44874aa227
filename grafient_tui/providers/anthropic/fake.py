"""An in-memory Claude Console organization, served as an httpx handler: the demo's, and the tests'.

It answers like the Admin API does as far as the docs tell (shared/anthropic-admin-api.md):
`x-api-key` and `anthropic-version` headers, the documented JSON error bodies (401
authentication_error for a wrong key, 403 permission_error for a key that is not an Admin key),
daily buckets for every day asked for (empty ones too), `group_by[]` aggregation, `limit` and an
opaque `next_page`, and the workspace list paged by `after_id`. Amounts are decimal strings of US
cents with fractions. Nothing here imports Textual or the tests.
"""

from __future__ import annotations

import base64
import datetime
import json
import random
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

API_VERSION = "2023-06-01"
MAX_BUCKETS = 31  # daily buckets a page (the older reference's bound)
DEFAULT_BUCKETS = 7
DEFAULT_WORKSPACES_PAGE = 20

# The fields `group_by[]=description` fills in a cost row; all null without it.
DESCRIPTION_FIELDS = (
    "cost_type",
    "description",
    "model",
    "token_type",
    "service_tier",
    "context_window",
    "inference_geo",
)
COST_GROUPS = ("description", "workspace_id")
USAGE_GROUPS = (
    "model",
    "workspace_id",
    "api_key_id",
    "account_id",
    "service_account_id",
    "service_tier",
    "context_window",
    "inference_geo",
)
TOKEN_FIELDS = ("uncached_input_tokens", "cache_read_input_tokens", "output_tokens")
CACHE_FIELDS = ("ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens")


def _error(status: int, kind: str, message: str) -> httpx.Response:
    return httpx.Response(
        status,
        json={
            "type": "error",
            "error": {"type": kind, "message": message},
            "request_id": "req_011CFakeRequest0000000000",
        },
        headers={"request-id": "req_011CFakeRequest0000000000"},
    )


def _bad_request(message: str) -> httpx.Response:
    return _error(400, "invalid_request_error", message)


def _day_of(value: str | None) -> datetime.date | None:
    if not value:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(datetime.UTC).date()  # buckets snap to the UTC day


def _stamp(day: datetime.date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def _cents(value: Decimal) -> str:
    """A decimal string of cents, as the API writes them: "1534.2215", "36"."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def cost_row(
    amount: str,
    *,
    workspace_id: str | None = None,
    cost_type: str | None = "tokens",
    description: str | None = None,
    model: str | None = None,
    token_type: str | None = None,
    service_tier: str | None = None,
    context_window: str | None = None,
    inference_geo: str | None = None,
    currency: str = "USD",
) -> dict[str, Any]:
    """One cost row in the documented shape (grouped by description and workspace_id)."""
    return {
        "amount": amount,
        "currency": currency,
        "cost_type": cost_type,
        "description": description,
        "model": model,
        "token_type": token_type,
        "service_tier": service_tier,
        "context_window": context_window,
        "inference_geo": inference_geo,
        "workspace_id": workspace_id,
    }


def token_row(
    model: str,
    *,
    workspace_id: str | None = None,
    uncached_input_tokens: int = 0,
    cache_5m: int = 0,
    cache_1h: int = 0,
    cache_read_input_tokens: int = 0,
    output_tokens: int = 0,
    web_search_requests: int = 0,
    service_tier: str | None = None,
) -> dict[str, Any]:
    """One usage-report row in the documented shape."""
    return {
        "model": model,
        "uncached_input_tokens": uncached_input_tokens,
        "cache_creation": {"ephemeral_5m_input_tokens": cache_5m, "ephemeral_1h_input_tokens": cache_1h},
        "cache_read_input_tokens": cache_read_input_tokens,
        "output_tokens": output_tokens,
        "server_tool_use": {"web_search_requests": web_search_requests},
        "workspace_id": workspace_id,
        "api_key_id": None,
        "account_id": None,
        "service_account_id": None,
        "service_tier": service_tier,
        "context_window": None,
        "inference_geo": None,
    }


class FakeAnthropicOrg:
    """One Claude Console organization: its workspaces, its daily cost rows and token rows.

    `costs` and `tokens` map a UTC day to its rows in the fully grouped shape (`cost_row`,
    `token_row`); the fake sums them for coarser groupings. `admin` says whether `api_key` is an
    Admin key (by default: whether it starts `sk-ant-admin`); an inference key gets 403.
    `usage_fails` makes the usage report answer `usage_error_status` (500 by default);
    `page_buckets` caps the buckets of a page below `limit`, to make a window page."""

    def __init__(
        self,
        *,
        api_key: str,
        org_id: str = "6f1c2a9e-3b7d-4e21-9c55-0a8b7d2e4f10",
        org_name: str = "Acme Labs",
        workspaces: list[dict[str, Any]] | None = None,
        costs: dict[datetime.date, list[dict[str, Any]]] | None = None,
        tokens: dict[datetime.date, list[dict[str, Any]]] | None = None,
        admin: bool | None = None,
        usage_fails: bool = False,
        usage_error_status: int = 500,
        page_buckets: int = MAX_BUCKETS,
    ) -> None:
        self.api_key = api_key
        self.org_id = org_id
        self.org_name = org_name
        self.workspaces: list[dict[str, Any]] = [dict(w) for w in (workspaces or [])]
        for w in self.workspaces:
            w.setdefault("type", "workspace")
            w.setdefault("created_at", "2025-01-06T10:00:00Z")
            w.setdefault("archived_at", None)
            w.setdefault("display_color", "#6C5BB9")
        self.costs = costs if costs is not None else {}
        self.tokens = tokens if tokens is not None else {}
        self.admin = api_key.startswith("sk-ant-admin") if admin is None else admin
        self.usage_fails = usage_fails
        self.usage_error_status = usage_error_status
        self.page_buckets = page_buckets  # the most buckets a page holds, whatever `limit` asks

    # ------------------------------------------------------------------ serving

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("x-api-key") != self.api_key:
            return _error(401, "authentication_error", "invalid x-api-key")
        if not request.headers.get("anthropic-version"):
            return _bad_request("anthropic-version: header is required")
        if not self.admin:
            return _error(403, "permission_error", "This endpoint requires an Admin API key.")
        if request.method != "GET":
            return _error(405, "invalid_request_error", "Method not allowed")
        path = request.url.path
        if path == "/v1/organizations/me":
            return httpx.Response(200, json={"id": self.org_id, "type": "organization", "name": self.org_name})
        if path == "/v1/organizations/workspaces":
            return self._workspace_list(request)
        if path == "/v1/organizations/cost_report":
            return self._report(request, "cost", self.costs, COST_GROUPS, self._group_costs)
        if path == "/v1/organizations/usage_report/messages":
            if self.usage_fails:
                kind = {
                    401: "authentication_error",
                    403: "permission_error",
                    429: "rate_limit_error",
                    504: "timeout_error",
                    529: "overloaded_error",
                }.get(self.usage_error_status, "api_error")
                return _error(self.usage_error_status, kind, "Internal server error")
            return self._report(request, "usage", self.tokens, USAGE_GROUPS, self._group_tokens)
        return _error(404, "not_found_error", "Not found")

    def _workspace_list(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        try:
            limit = int(params.get("limit", DEFAULT_WORKSPACES_PAGE))
        except ValueError:
            return _bad_request("limit: Input should be a valid integer")
        if not 1 <= limit <= 1000:
            return _bad_request("limit: Input should be between 1 and 1000")
        rows = [w for w in self.workspaces if params.get("include_archived") == "true" or w.get("archived_at") is None]
        start = 0
        after = params.get("after_id")
        if after is not None:
            ids = [w["id"] for w in rows]
            if after not in ids:
                return _bad_request("after_id: no such workspace")
            start = ids.index(after) + 1
        page = rows[start : start + limit]
        return httpx.Response(
            200,
            json={
                "data": page,
                "has_more": start + limit < len(rows),
                "first_id": page[0]["id"] if page else None,
                "last_id": page[-1]["id"] if page else None,
            },
        )

    def _report(
        self,
        request: httpx.Request,
        kind: str,
        rows_by_day: dict[datetime.date, list[dict[str, Any]]],
        allowed: tuple[str, ...],
        group: Callable[[list[dict[str, Any]], set[str]], list[dict[str, Any]]],
    ) -> httpx.Response:
        params = request.url.params
        first = _day_of(params.get("starting_at"))
        if first is None:
            return _bad_request("starting_at: a valid RFC 3339 date-time is required")
        if params.get("bucket_width", "1d") != "1d":
            return _bad_request("bucket_width: this fake serves 1d buckets only")
        try:
            limit = int(params.get("limit", DEFAULT_BUCKETS))
        except ValueError:
            return _bad_request("limit: Input should be a valid integer")
        if not 1 <= limit <= MAX_BUCKETS:
            return _bad_request(f"limit: Input should be between 1 and {MAX_BUCKETS}")
        end_text = params.get("ending_at")
        end = _day_of(end_text) if end_text else first + datetime.timedelta(days=limit)
        if end is None or end <= first:
            return _bad_request("ending_at: must be a valid date-time after starting_at")
        groups = set(params.get_list("group_by[]"))
        if not groups <= set(allowed):
            return _bad_request("group_by[]: unknown grouping")
        limit = min(limit, self.page_buckets)
        offset = 0
        token = params.get("page")
        if token is not None:
            opened = self._open_cursor(token, kind, first, end)
            if opened is None:
                return _bad_request("page: invalid page token")
            offset = opened
        days = (end - first).days
        data = []
        for i in range(offset, min(days, offset + limit)):
            day = first + datetime.timedelta(days=i)
            data.append(
                {
                    "starting_at": _stamp(day),
                    "ending_at": _stamp(day + datetime.timedelta(days=1)),
                    "results": group(rows_by_day.get(day, []), groups),
                }
            )
        more = offset + limit < days
        return httpx.Response(
            200,
            json={
                "data": data,
                "has_more": more,
                "next_page": self._cursor(kind, first, end, offset + limit) if more else None,
            },
        )

    @staticmethod
    def _cursor(kind: str, first: datetime.date, end: datetime.date, offset: int) -> str:
        raw = json.dumps([kind, first.isoformat(), end.isoformat(), offset]).encode()
        return "page_" + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    @staticmethod
    def _open_cursor(token: str, kind: str, first: datetime.date, end: datetime.date) -> int | None:
        if not token.startswith("page_"):
            return None
        body = token[5:]
        try:
            value = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except (ValueError, TypeError):
            return None
        if not (
            isinstance(value, list)
            and len(value) == 4
            and value[:3] == [kind, first.isoformat(), end.isoformat()]
            and isinstance(value[3], int)
            and value[3] >= 0
        ):
            return None
        return value[3]

    @staticmethod
    def _group_costs(rows: list[dict[str, Any]], groups: set[str]) -> list[dict[str, Any]]:
        """Rows summed per the requested grouping; fields not grouped by are null."""
        sums: dict[tuple[Any, ...], Decimal] = {}
        for row in rows:
            key = tuple(row.get(f) if "description" in groups else None for f in DESCRIPTION_FIELDS)
            key += (row.get("workspace_id") if "workspace_id" in groups else None, row.get("currency", "USD"))
            try:
                amount = Decimal(row["amount"])
            except (InvalidOperation, KeyError, TypeError):
                amount = Decimal(0)
            sums[key] = sums.get(key, Decimal(0)) + amount
        out = []
        for key, amount in sums.items():
            row = dict(zip(DESCRIPTION_FIELDS, key[:-2], strict=True))
            out.append({"amount": _cents(amount), "currency": key[-1], **row, "workspace_id": key[-2]})
        return out

    @staticmethod
    def _group_tokens(rows: list[dict[str, Any]], groups: set[str]) -> list[dict[str, Any]]:
        sums: dict[tuple[Any, ...], dict[str, Any]] = {}
        for row in rows:
            key = tuple(row.get(g) if g in groups else None for g in USAGE_GROUPS)
            s = sums.get(key)
            if s is None:
                s = sums[key] = {
                    **dict(zip(USAGE_GROUPS, key, strict=True)),
                    **dict.fromkeys(TOKEN_FIELDS, 0),
                    "cache_creation": dict.fromkeys(CACHE_FIELDS, 0),
                    "server_tool_use": {"web_search_requests": 0},
                }
            for f in TOKEN_FIELDS:
                s[f] += row.get(f) or 0
            for f in CACHE_FIELDS:
                s["cache_creation"][f] += (row.get("cache_creation") or {}).get(f) or 0
            s["server_tool_use"]["web_search_requests"] += (row.get("server_tool_use") or {}).get(
                "web_search_requests"
            ) or 0
        return list(sums.values())


# --------------------------------------------------------------------------- data

# USD per million tokens (Anthropic's public price list) by model and token type.
TOKEN_TYPES = (
    "uncached_input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation.ephemeral_5m_input_tokens",
    "cache_creation.ephemeral_1h_input_tokens",
)
PRICES = {
    "claude-sonnet-4-5": ("3", "15", "0.30", "3.75", "6"),
    "claude-opus-4-1": ("15", "75", "1.50", "18.75", "30"),
    "claude-haiku-4-5": ("1", "5", "0.10", "1.25", "2"),
}
MODEL_TITLES = {
    "claude-sonnet-4-5": "Claude Sonnet 4.5",
    "claude-opus-4-1": "Claude Opus 4.1",
    "claude-haiku-4-5": "Claude Haiku 4.5",
}
_LABELS = (
    "Input Tokens",
    "Output Tokens",
    "Input Tokens, Cache Read",
    "Input Tokens, Cache Write 5m",
    "Input Tokens, Cache Write 1h",
)
_FOUR_PLACES = Decimal("0.0001")


def priced_rows(
    model: str, tokens: tuple[int, int, int, int, int], *, workspace_id: str | None, tier: str = "standard"
) -> list[dict[str, Any]]:
    """The cost rows of `tokens` (input, output, cache read, cache write 5m, 1h) of one model:
    tokens × price per million, in cents rounded to 4 places (batch at half price)."""
    rows = []
    for token_type, label, price, count in zip(TOKEN_TYPES, _LABELS, PRICES[model], tokens, strict=True):
        if not count:
            continue
        cents = Decimal(count) * Decimal(price) / 10_000
        if tier == "batch":
            cents /= 2
        suffix = " (Batch)" if tier == "batch" else ""
        rows.append(
            cost_row(
                _cents(cents.quantize(_FOUR_PLACES)),
                workspace_id=workspace_id,
                description=f"{MODEL_TITLES[model]} Usage - {label}{suffix}",
                model=model,
                token_type=token_type,
                service_tier=tier,
                context_window="0-200k",
                inference_geo="global",
            )
        )
    return rows


def _split(
    rng: random.Random, usd: float, model: str, mix: tuple[float, float, float, float, float], batch: bool = False
) -> tuple[int, int, int, int, int]:
    """Token counts of the `mix` (shares of tokens) that cost about `usd`."""
    per_token = sum(share * float(price) for share, price in zip(mix, PRICES[model], strict=True)) / 1e6
    if batch:
        per_token /= 2
    total = usd / per_token
    return tuple(int(total * share * rng.uniform(0.9, 1.1)) for share in mix)  # type: ignore[return-value]


# Token mixes (input, output, cache read, cache write 5m, 1h) of three kinds of work.
_CHAT_MIX = (0.22, 0.08, 0.60, 0.08, 0.02)  # a support bot: a long cached system prompt
_AGENT_MIX = (0.30, 0.12, 0.48, 0.06, 0.04)  # research agents: long outputs, some 1h caching
_BATCH_MIX = (0.80, 0.20, 0.0, 0.0, 0.0)


def make_usage(
    *,
    seed: int,
    start: datetime.date,
    days: int,
    workspaces: Iterable[str | None],
    daily_usd: float | Callable[[datetime.date], float] = 60.0,
) -> tuple[dict[datetime.date, list[dict[str, Any]]], dict[datetime.date, list[dict[str, Any]]]]:
    """Deterministic cost rows and token rows for `days` days from `start`, spread over `workspaces`
    (None = the default workspace): Sonnet most days everywhere, Haiku in bulk (some of it batch),
    Opus now and then, and a few web searches and code execution runs. `daily_usd` is the day's
    rough token spend (a number or a function of the day)."""
    rng = random.Random(seed)
    spaces = list(workspaces)
    costs: dict[datetime.date, list[dict[str, Any]]] = {}
    tokens: dict[datetime.date, list[dict[str, Any]]] = {}
    for offset in range(days):
        day = start + datetime.timedelta(days=offset)
        budget = daily_usd(day) if callable(daily_usd) else daily_usd
        day_costs: list[dict[str, Any]] = []
        day_tokens: list[dict[str, Any]] = []
        for i, ws in enumerate(spaces):
            share = budget / len(spaces) * rng.uniform(0.7, 1.3)
            plan = [
                ("claude-sonnet-4-5", share * 0.7, _AGENT_MIX if i % 2 else _CHAT_MIX, "standard"),
                ("claude-haiku-4-5", share * 0.2, _CHAT_MIX, "standard"),
            ]
            if rng.random() < 0.4:
                plan.append(("claude-haiku-4-5", share * 0.1, _BATCH_MIX, "batch"))
            if rng.random() < 0.25:
                plan.append(("claude-opus-4-1", share * rng.uniform(0.2, 0.6), _AGENT_MIX, "standard"))
            for model, usd, mix, tier in plan:
                counts = _split(rng, usd, model, mix, batch=tier == "batch")
                day_costs += priced_rows(model, counts, workspace_id=ws, tier=tier)
                day_tokens.append(
                    token_row(
                        model,
                        workspace_id=ws,
                        uncached_input_tokens=counts[0],
                        output_tokens=counts[1],
                        cache_read_input_tokens=counts[2],
                        cache_5m=counts[3],
                        cache_1h=counts[4],
                        service_tier=tier,
                    )
                )
            if rng.random() < 0.3:
                searches = rng.randrange(10, 300)  # $10 per 1,000 searches: a cent each
                day_costs.append(
                    cost_row(
                        str(searches),
                        workspace_id=ws,
                        cost_type="web_search",
                        description="Web Search Usage",
                        inference_geo="global",
                    )
                )
            if rng.random() < 0.15:
                day_costs.append(
                    cost_row(
                        _cents(Decimal(rng.randrange(5, 60)) * Decimal("2.5")),
                        workspace_id=ws,
                        cost_type="code_execution",
                        description="Code Execution Usage",
                    )
                )
        costs[day] = day_costs
        tokens[day] = day_tokens
    return costs, tokens


DEMO_WORKSPACES = [
    {"id": "wrkspc_01JResearch7vQ2mXk", "name": "Research", "created_at": "2025-02-11T09:14:03Z"},
    {"id": "wrkspc_01JSupportBot4Hn8", "name": "Support bot", "created_at": "2025-03-02T16:40:51Z"},
]


DEMO_SPIKE_DAYS_AGO = 3
DEMO_SPIKE_USD = 160.0


def demo_account(api_key: str, today: datetime.date, seed: int) -> FakeAnthropicOrg:
    """A year of an organization's API spend up to `today` (partial): the Default workspace, Research
    and a Support bot. About $50 a day a year ago growing to about $95, a small weekend dip (the
    support bot runs every day), Sonnet 4.5 most of it, Haiku 4.5 in volume, Opus 4.1 now and then,
    and 3 days ago an Opus agent run in Research of about $160 more (the demo's anomaly)."""
    rng = random.Random(seed)
    start = today - datetime.timedelta(days=364)
    research, support = (w["id"] for w in DEMO_WORKSPACES)
    costs: dict[datetime.date, list[dict[str, Any]]] = {}
    tokens: dict[datetime.date, list[dict[str, Any]]] = {}
    for offset in range(365):
        day = start + datetime.timedelta(days=offset)
        weekend = day.weekday() >= 5
        growth = 0.55 + 0.45 * offset / 364
        scale = growth * (0.45 if day == today else 1.0) * rng.uniform(0.85, 1.15)
        # (workspace, model, USD at full growth, mix, tier)
        plan = [
            (support, "claude-haiku-4-5", 18.0 * (0.9 if weekend else 1.0), _CHAT_MIX, "standard"),
            (support, "claude-haiku-4-5", 4.0, _BATCH_MIX, "batch"),
            (support, "claude-sonnet-4-5", 22.0 * (0.9 if weekend else 1.0), _CHAT_MIX, "standard"),
            (research, "claude-sonnet-4-5", 32.0 * (0.7 if weekend else 1.0), _AGENT_MIX, "standard"),
            (None, "claude-sonnet-4-5", 14.0 * (0.6 if weekend else 1.0), _AGENT_MIX, "standard"),
            (None, "claude-haiku-4-5", 3.0, _CHAT_MIX, "standard"),
        ]
        if not weekend and rng.random() < 0.3:
            plan.append((research, "claude-opus-4-1", rng.uniform(6, 22), _AGENT_MIX, "standard"))
        day_costs: list[dict[str, Any]] = []
        by_key: dict[tuple[str | None, str], list[int]] = {}
        for ws, model, usd, mix, tier in plan:
            counts = _split(rng, usd * scale, model, mix, batch=tier == "batch")
            day_costs += priced_rows(model, counts, workspace_id=ws, tier=tier)
            sums = by_key.setdefault((ws, model), [0, 0, 0, 0, 0])
            for i, count in enumerate(counts):
                sums[i] += count
        if day == today - datetime.timedelta(days=DEMO_SPIKE_DAYS_AGO):
            # An agent run on Opus in Research: the demo's anomaly, named by one workspace and one model.
            # Its own generator, so every other day's figures stay as they were.
            counts = _split(random.Random(seed * 7919), DEMO_SPIKE_USD, "claude-opus-4-1", _AGENT_MIX, batch=False)
            day_costs += priced_rows("claude-opus-4-1", counts, workspace_id=research, tier="standard")
            sums = by_key.setdefault((research, "claude-opus-4-1"), [0, 0, 0, 0, 0])
            for i, count in enumerate(counts):
                sums[i] += count
        if rng.random() < 0.5:
            searches = int(rng.randrange(20, 250) * scale)
            day_costs.append(
                cost_row(
                    str(searches),
                    workspace_id=research,
                    cost_type="web_search",
                    description="Web Search Usage",
                    inference_geo="global",
                )
            )
        if rng.random() < 0.2:
            day_costs.append(
                cost_row(
                    _cents(Decimal(rng.randrange(8, 48)) * 5 / 2),
                    workspace_id=None,
                    cost_type="code_execution",
                    description="Code Execution Usage",
                )
            )
        costs[day] = day_costs
        tokens[day] = [
            token_row(
                model,
                workspace_id=ws,
                uncached_input_tokens=s[0],
                output_tokens=s[1],
                cache_read_input_tokens=s[2],
                cache_5m=s[3],
                cache_1h=s[4],
            )
            for (ws, model), s in by_key.items()
        ]
    return FakeAnthropicOrg(
        api_key=api_key,
        org_id=f"6f1c2a9e-demo-{seed:04d}-9c55-0a8b7d2e4f10",
        org_name="Northwind Labs",
        workspaces=DEMO_WORKSPACES,
        costs=costs,
        tokens=tokens,
    )

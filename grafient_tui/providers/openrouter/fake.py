"""An in-memory OpenRouter account, served as an httpx handler: the demo's account and the tests'.

It answers like OpenRouter does as far as its docs tell (shared/openrouter-api.md): Bearer auth,
requests under https://openrouter.ai/api/v1/…, a management key or an inference key (403 "Only
management keys can perform this operation" wherever activity, credits or workspaces are asked
for), /activity holding only the last 30 completed UTC days before the account's `today`, with a
`date` filter and `group_by=workspace`, and /workspaces paged by offset and limit. Money is sent
as JSON numbers of US dollars.
"""

from __future__ import annotations

import datetime
import json
import random
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import httpx

API_PREFIX = "/api/v1"
HISTORY_DAYS = 30
MAX_WORKSPACE_LIMIT = 100
DEFAULT_WORKSPACE_LIMIT = 50


def _error(status: int, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": status, "message": message}})


def _row_day(row: dict[str, Any]) -> datetime.date | None:
    value = row.get("date")
    try:
        return datetime.date.fromisoformat(value[:10]) if isinstance(value, str) else None
    except ValueError:
        return None


class FakeOpenRouterAccount:
    """One OpenRouter account seen through one key: its workspaces and activity rows.

    `rows` are activity rows as /activity?group_by=workspace sends them (a row without
    `workspace_id` is activity from before workspaces). `today` is the account's UTC today
    (None: the clock's); only the 30 days before it are ever served. `key_flags=False` leaves
    `is_management_key` and `is_provisioning_key` out of /key, as older answers may."""

    def __init__(
        self,
        *,
        api_key: str,
        rows: list[dict[str, Any]] | None = None,
        workspaces: list[dict[str, Any]] | None = None,
        management: bool = True,
        creator_user_id: str | None = "user_2xQm9Lr0",
        today: datetime.date | None = None,
        key_flags: bool = True,
        total_credits: float = 250.0,
    ) -> None:
        self.api_key = api_key
        self.rows: list[dict[str, Any]] = rows if rows is not None else []
        if workspaces is None:
            ids = sorted({r["workspace_id"] for r in self.rows if isinstance(r.get("workspace_id"), str)})
            workspaces = [
                workspace(wid, "Default workspace" if i == 0 else f"Workspace {i + 1}") for i, wid in enumerate(ids)
            ] or [workspace(_uuid(random.Random(0)), "Default workspace")]
        self.workspaces = workspaces
        self.management = management
        self.creator_user_id = creator_user_id
        self.today = today
        self.key_flags = key_flags
        self.total_credits = total_credits

    def utc_today(self) -> datetime.date:
        return self.today or datetime.datetime.now(datetime.UTC).date()

    def served_rows(self) -> list[dict[str, Any]]:
        """The rows /activity answers with: the 30 completed UTC days before today. A row whose date
        cannot be read is served as it is (a test's way to send a malformed row)."""
        today = self.utc_today()
        oldest = today - datetime.timedelta(days=HISTORY_DAYS)
        return [r for r in self.rows if (day := _row_day(r)) is None or oldest <= day < today]

    # ------------------------------------------------------------------ serving

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return _error(401, "Missing Authentication header")
        path = request.url.path
        if request.method != "GET" or not path.startswith(API_PREFIX + "/"):
            return _error(404, "Resource not found")
        path = path[len(API_PREFIX) :]
        if path == "/key":
            return self._key()
        if path not in ("/credits", "/activity", "/workspaces"):
            return _error(404, "Resource not found")
        if not self.management:
            return _error(403, "Only management keys can perform this operation")
        if path == "/credits":
            used = sum(
                (
                    Decimal(repr(r["usage"]))
                    for r in self.rows
                    if isinstance(r.get("usage"), (int, float)) and not isinstance(r["usage"], bool)
                ),
                Decimal(0),
            )
            return httpx.Response(200, json={"data": {"total_credits": self.total_credits, "total_usage": float(used)}})
        if path == "/activity":
            return self._activity(request.url.params)
        return self._workspaces(request.url.params)

    def _key(self) -> httpx.Response:
        data: dict[str, Any] = {
            # OpenRouter's label is a masked copy of the key; the client must never show it.
            "label": f"{self.api_key[:12]}...{self.api_key[-3:]}",
            "limit": None,
            "limit_remaining": None,
            "limit_reset": None,
            "usage": 0,
            "usage_daily": 0,
            "usage_weekly": 0,
            "usage_monthly": 0,
            "byok_usage": 0,
            "byok_usage_daily": 0,
            "byok_usage_weekly": 0,
            "byok_usage_monthly": 0,
            "include_byok_in_limit": False,
            "is_free_tier": False,
            "expires_at": None,
        }
        if self.key_flags:
            data["is_management_key"] = data["is_provisioning_key"] = self.management
        if self.creator_user_id is not None:
            data["creator_user_id"] = self.creator_user_id
        return httpx.Response(200, json={"data": data})

    def _activity(self, params: httpx.QueryParams) -> httpx.Response:
        rows = self.served_rows()
        date = params.get("date")
        if date is not None:
            today = self.utc_today()
            try:
                day = datetime.date.fromisoformat(date)
            except ValueError:
                return _error(400, "Invalid request parameters")
            if len(date) != 10 or not today - datetime.timedelta(days=HISTORY_DAYS) <= day < today:
                return _error(400, "Invalid request parameters")
            rows = [r for r in rows if _row_day(r) == day]
        workspace_id = params.get("workspace_id")
        if workspace_id is not None:
            if workspace_id not in {w.get("id") for w in self.workspaces}:
                return _error(404, "Resource not found")
            rows = [r for r in rows if r.get("workspace_id") == workspace_id]
        # api_key_hash and user_id would narrow further; rows here carry neither, so they are ignored.
        group_by = params.get("group_by")
        if group_by not in (None, "workspace"):
            return _error(400, "Invalid request parameters")
        if group_by is None:
            rows = _merged_across_workspaces(rows)
        body = json.dumps({"data": rows}, separators=(",", ":"))
        return httpx.Response(200, content=body.encode(), headers={"content-type": "application/json"})

    def _workspaces(self, params: httpx.QueryParams) -> httpx.Response:
        try:
            offset = int(params.get("offset", 0))
            limit = int(params.get("limit", DEFAULT_WORKSPACE_LIMIT))
        except ValueError:
            return _error(400, "Invalid request parameters")
        if offset < 0 or not 1 <= limit <= MAX_WORKSPACE_LIMIT:
            return _error(400, "Invalid request parameters")
        page = self.workspaces[offset : offset + limit]
        return httpx.Response(200, json={"data": page, "total_count": len(self.workspaces)})


def _merged_across_workspaces(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Without group_by, OpenRouter has one row per day, model and endpoint for the whole account."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = (row.get("date"), row.get("model"), row.get("endpoint_id"), row.get("provider_name"))
        out = merged.get(key)
        if out is None:
            merged[key] = {k: v for k, v in row.items() if k != "workspace_id"}
            continue
        for field in ("usage", "byok_usage_inference"):
            if isinstance(row.get(field), (int, float)) and isinstance(out.get(field), (int, float)):
                out[field] = float(Decimal(repr(out[field])) + Decimal(repr(row[field])))
        for field in ("requests", "prompt_tokens", "completion_tokens", "reasoning_tokens"):
            if isinstance(row.get(field), int) and isinstance(out.get(field), int):
                out[field] += row[field]
    return list(merged.values())


# --------------------------------------------------------------------------- data


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def workspace(wid: str, name: str) -> dict[str, Any]:
    """A workspace as /workspaces lists it."""
    slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-") or "workspace"
    return {
        "id": wid,
        "name": name,
        "slug": slug,
        "description": None,
        "created_at": "2025-09-01T12:00:00Z",
        "created_by": "user_2xQm9Lr0",
    }


# slug -> (permaslug, $ per million prompt tokens, $ per million completion tokens, reasons, providers)
MODELS: dict[str, tuple[str, float, float, bool, tuple[str, ...]]] = {
    "anthropic/claude-sonnet-4.5": (
        "anthropic/claude-4.5-sonnet-20250929",
        3.0,
        15.0,
        True,
        ("Anthropic", "Amazon Bedrock", "Google Vertex"),
    ),
    "openai/gpt-5": ("openai/gpt-5-2025-08-07", 1.25, 10.0, True, ("OpenAI", "Azure")),
    "google/gemini-2.5-flash": ("google/gemini-2.5-flash", 0.30, 2.50, True, ("Google AI Studio", "Google Vertex")),
    "deepseek/deepseek-chat-v3.1": ("deepseek/deepseek-chat-v3.1", 0.27, 1.10, False, ("DeepInfra", "Chutes")),
    "meta-llama/llama-3.3-70b-instruct": ("meta-llama/llama-3.3-70b-instruct", 0.13, 0.39, False, ("Groq", "Together")),
    "x-ai/grok-4-fast": ("x-ai/grok-4-fast", 0.20, 0.50, True, ("xAI",)),
}


def _endpoint(model: str, provider: str) -> str:
    # Stable per model and provider, like OpenRouter's endpoint ids.
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"openrouter:{model}:{provider}"))


def make_row(
    rng: random.Random,
    day: datetime.date,
    model: str,
    workspace_id: str | None,
    dollars: float,
    *,
    provider: str | None = None,
    byok: bool = False,
) -> dict[str, Any]:
    """One activity row worth about `dollars` of `model`, its tokens priced from the model's rates.

    `usage` has at most 8 decimals, as dollars to the micro-cent. A BYOK row bills the inference
    to the account's own key (`byok_usage_inference`); `usage` is then OpenRouter's 5 % fee or 0."""
    permaslug, per_in, per_out, reasons, providers = MODELS[model]
    share_in = rng.uniform(0.35, 0.85)
    prompt = max(1, round(dollars * share_in / per_in * 1e6))
    completion = max(1, round(dollars * (1 - share_in) / per_out * 1e6))
    cost = round(prompt * per_in / 1e6 + completion * per_out / 1e6, rng.choice((5, 6, 7, 8)))
    reasoning = round(completion * rng.uniform(0.2, 0.6)) if reasons and rng.random() < 0.7 else 0
    requests = max(1, round(prompt / rng.choice((2_500, 6_000, 14_000, 30_000))))
    row: dict[str, Any] = {"date": day.isoformat(), "model": model, "model_permaslug": permaslug}
    provider = provider or rng.choice(providers)
    row.update(endpoint_id=_endpoint(model, provider), provider_name=provider)
    if byok:
        row.update(usage=round(cost * 0.05, 8) if rng.random() < 0.6 else 0, byok_usage_inference=cost)
    else:
        row.update(usage=cost, byok_usage_inference=0)
    row.update(requests=requests, prompt_tokens=prompt, completion_tokens=completion, reasoning_tokens=reasoning)
    if workspace_id is not None:
        row["workspace_id"] = workspace_id
    return row


def make_rows(
    *, seed: int, start: datetime.date, days: int, workspace_ids: list[str], models: Iterable[str], per_day: int = 4
) -> list[dict[str, Any]]:
    """Deterministic rows in the documented shape for every day from `start`: `per_day` distinct
    (model, workspace, provider) rows a day, every fifth a BYOK one, every seventh day one row from
    before workspaces (no workspace_id)."""
    rng = random.Random(seed)
    models = list(models)
    combos = [(m, w, p) for m in models for w in workspace_ids for p in MODELS[m][4]]
    rows: list[dict[str, Any]] = []
    for offset in range(days):
        day = start + datetime.timedelta(days=offset)
        for i, (model, wid, provider) in enumerate(rng.sample(combos, min(per_day, len(combos)))):
            rows.append(
                make_row(rng, day, model, wid, rng.uniform(0.01, 6.0), provider=provider, byok=(offset + i) % 5 == 0)
            )
        if offset % 7 == 0:
            rows.append(make_row(rng, day, models[0], None, rng.uniform(0.01, 1.0), provider=MODELS[models[0]][4][0]))
    return rows


def demo_account(api_key: str, today: datetime.date, seed: int) -> FakeOpenRouterAccount:
    """A hobbyist's account for the demo: a default workspace and a "Prototypes" one, six models
    from six vendors, bursty spend (quiet days, a few heavy experiment days up to about $40),
    BYOK on some OpenAI days. Seeded and deterministic; only the 30 days before `today` are served."""
    rng = random.Random(seed)
    default_id, prototypes_id = _uuid(rng), _uuid(rng)
    models = list(MODELS)
    rows: list[dict[str, Any]] = []
    for back in range(HISTORY_DAYS + 5, -1, -1):  # a few days either side, which the fake never serves
        day = today - datetime.timedelta(days=back)
        mood = rng.random()
        if mood < 0.22:
            continue  # a quiet day: nothing at all
        if mood < 0.55:
            budget, picks = rng.uniform(0.02, 1.5), rng.randint(1, 2)
        elif mood < 0.9:
            budget, picks = rng.uniform(1.5, 9.0), rng.randint(2, 4)
        else:
            budget, picks = rng.uniform(15.0, 38.0), rng.randint(3, 6)  # an experiment day
        chosen = rng.sample(models, picks)
        weights = [rng.random() + 0.1 for _ in chosen]
        for model, weight in zip(chosen, weights, strict=True):
            dollars = budget * weight / sum(weights)
            wid = prototypes_id if rng.random() < 0.45 else default_id
            providers = MODELS[model][4]
            split = rng.sample(providers, min(len(providers), rng.choice((1, 1, 2))))
            rows.extend(make_row(rng, day, model, wid, dollars / len(split), provider=provider) for provider in split)
            if model == "openai/gpt-5" and rng.random() < 0.5:
                rows.append(
                    make_row(
                        rng, day, model, prototypes_id, dollars * rng.uniform(0.3, 1.2), provider="OpenAI", byok=True
                    )
                )
    # Duplicates (same day, model, endpoint and workspace) merge, as OpenRouter would sum them.
    return FakeOpenRouterAccount(
        api_key=api_key,
        rows=_one_row_per_endpoint(rows),
        workspaces=[workspace(default_id, "Default workspace"), workspace(prototypes_id, "Prototypes")],
        creator_user_id=f"user_{uuid.UUID(int=rng.getrandbits(128)).hex[:10]}",
        today=today,
    )


def _one_row_per_endpoint(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = (row["date"], row["model"], row["endpoint_id"], row.get("workspace_id"))
        out = merged.get(key)
        if out is None:
            merged[key] = row
            continue
        for field in ("usage", "byok_usage_inference"):
            out[field] = float(Decimal(repr(out[field])) + Decimal(repr(row[field])))
        for field in ("requests", "prompt_tokens", "completion_tokens", "reasoning_tokens"):
            out[field] += row[field]
    return list(merged.values())

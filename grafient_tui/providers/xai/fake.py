"""An in-memory xAI team, served as an httpx handler: the demo's team and the tests'.

It answers as shared/xai-management-api.md says xAI does: `Authorization: Bearer` with a management key
(an inference key, or any other, gets 401), `GET /auth/management-keys/validation` naming the key's
team, `POST /v1/billing/teams/{team}/usage` answering another team with 403 `{"code":7,"message":"team
mismatch"}` and a key without billing access with another 403 code 7. Usage comes back as dense daily
series per `groupBy` value (zeros included), US dollars as JSON numbers, the key's label as `name
(xai-...XXXX)`, `limitReached: true` (and only part of the series) past the team's cap, `{}` when there is
no usage at all, and false values left out as proto3 JSON does.
"""

from __future__ import annotations

import datetime
import json
import random
import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from grafient_tui.providers.wire import exact_json

USAGE = re.compile(r"/v1/billing/teams/([^/]+)/usage")


@dataclass(frozen=True)
class ApiKey:
    key_id: str  # the id xAI groups by ("" for usage without a key)
    name: str
    redacted: str  # the inference key's redacted form in the label: "xai-...3Xxp"

    @property
    def label(self) -> str:
        return f"{self.name} ({self.redacted})" if self.key_id else ""


@dataclass(frozen=True)
class Spend:
    """Dollars spent on one day under one model description with one key."""

    day: datetime.date
    description: str
    key: ApiKey
    usd: Decimal


def _error(status: int, code: int, message: str) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "message": message, "details": []})


@dataclass
class FakeXaiTeam:
    """One xAI team seen through one key. `kind` is "management" or "inference"; `billing` False answers
    usage with a 403 that is not a team mismatch; `scope` is what the validation says the key is scoped
    to; `cap` is the most series one answer holds before xAI sets `limitReached`."""

    api_key: str
    team_id: str
    spend: list[Spend] = field(default_factory=list)
    kind: str = "management"
    billing: bool = True
    scope: str = "SCOPE_TEAM"
    cap: int = 1000
    today: datetime.date | None = None
    calls: list[httpx.Request] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        if request.headers.get("authorization") != f"Bearer {self.api_key}" or self.kind != "management":
            return _error(401, 16, "Invalid API key or the key is not a management key")
        path = request.url.path
        if path == "/auth/management-keys/validation" and request.method == "GET":
            return httpx.Response(200, json={"scope": self.scope, "scopeId": self.team_id, "teamId": self.team_id})
        usage = USAGE.fullmatch(path)
        if usage is None or request.method != "POST":
            return _error(404, 5, "Not found")
        if usage.group(1).casefold() != self.team_id.casefold():
            return _error(403, 7, "team mismatch")
        if not self.billing:
            return _error(403, 7, "The management key does not have the permission billing:read")
        try:
            query = json.loads(request.content)["analyticsRequest"]
            first, end = (
                datetime.datetime.strptime(query["timeRange"][k], "%Y-%m-%d %H:%M:%S").date()
                for k in ("startTime", "endTime")
            )
            group_by = query["groupBy"]
            assert query["timeUnit"] == "TIME_UNIT_DAY" and query["timeRange"]["timezone"] == "Etc/GMT"
            assert query["values"] == [{"name": "usd", "aggregation": "AGGREGATION_SUM"}]
            assert group_by in (["description", "api_key_id"], ["description"]) and end > first
        except (ValueError, KeyError, TypeError, AssertionError):
            return _error(400, 3, "Invalid analytics request")
        return httpx.Response(
            200, content=exact_json(self._series(first, end, group_by)), headers={"content-type": "application/json"}
        )

    def _series(self, first: datetime.date, end: datetime.date, group_by: list[str]) -> dict[str, Any]:
        days = [first + datetime.timedelta(days=i) for i in range((end - first).days)]
        by_key = "api_key_id" in group_by
        sums: dict[tuple[str, ...], dict[datetime.date, Decimal]] = {}
        labels: dict[tuple[str, ...], list[str]] = {}
        for s in self.spend:
            if not first <= s.day < end:
                continue
            group = (s.description, s.key.key_id) if by_key else (s.description,)
            labels[group] = [s.description, s.key.label] if by_key else [s.description]
            per_day = sums.setdefault(group, {})
            per_day[s.day] = per_day.get(s.day, Decimal(0)) + s.usd
        if not sums:
            return {}
        series = [
            {
                "group": list(group),
                "groupLabels": labels[group],
                "dataPoints": [
                    {"timestamp": f"{day.isoformat()}T00:00:00Z", "values": [sums[group].get(day, 0)]} for day in days
                ],
            }
            for group in sorted(sums)
        ]
        out: dict[str, Any] = {"timeSeries": series[: self.cap]}
        if len(series) > self.cap:
            out["limitReached"] = True
        return out


# --------------------------------------------------------------------------- data

MODELS = {  # description label -> rough $ per busy day
    "Chat grok-4-0709": 6.0,
    "Chat grok-4-fast-reasoning": 1.8,
    "Chat grok-3-mini": 0.4,
    "Chat grok-code-fast-1": 2.6,
    "Image grok-2-image-1212": 0.9,
    "Live search": 0.3,
}


def make_key(rng: random.Random, name: str) -> ApiKey:
    tail = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789") for _ in range(4))
    return ApiKey(str(uuid.UUID(int=rng.getrandbits(128), version=4)), name, f"xai-...{tail}")


NO_KEY = ApiKey("", "", "")


def make_spend(
    *, seed: int, start: datetime.date, days: int, keys: list[ApiKey], models: list[str] | None = None, per_day: int = 4
) -> list[Spend]:
    """Deterministic spend for every day from `start`: `per_day` (model, key) entries a day, in dollars
    with up to 8 decimals (some tiny, written with an exponent), some exactly zero."""
    rng = random.Random(seed)
    models = models or list(MODELS)
    out: list[Spend] = []
    for offset in range(days):
        day = start + datetime.timedelta(days=offset)
        for _ in range(per_day):
            usd = Decimal(rng.randrange(0, 10**9)).scaleb(-rng.choice((8, 8, 10)))
            if rng.random() < 0.1:
                usd = Decimal(0)
            out.append(Spend(day, rng.choice(models), rng.choice(keys), usd))
    return out


DEMO_TEAM_ID = "65c1e471-205f-4566-9c5a-07198bcdf4ce"  # the team the demo's integration is added for


def demo_account(api_key: str, today: datetime.date, seed: int) -> FakeXaiTeam:
    """A product team's xAI usage for the demo: a production backend that grows steadily, an evaluation
    job that runs in bursts on Mondays and Thursdays, two "staging" keys (told apart by their ids), and
    some Console playground use without a key. Seeded and deterministic; 120 days of history."""
    rng = random.Random(seed)
    prod, evals = make_key(rng, "prod-backend"), make_key(rng, "eval-runner")
    staging = [make_key(rng, "staging"), make_key(rng, "staging")]
    spend: list[Spend] = []
    for back in range(120, -1, -1):
        day = today - datetime.timedelta(days=back)
        growth = 1 + (120 - back) / 90
        steady = ("Chat grok-4-fast-reasoning", "Chat grok-3-mini", "Live search")
        spend.extend(_spend(rng, day, model, prod, MODELS[model] * growth) for model in steady)
        if day.weekday() in (0, 3):  # the evaluation runs
            runs = ("Chat grok-4-0709", "Chat grok-code-fast-1")
            spend.extend(_spend(rng, day, model, evals, MODELS[model] * rng.uniform(3, 6)) for model in runs)
        if day.weekday() < 5:
            spend.append(_spend(rng, day, "Chat grok-code-fast-1", rng.choice(staging), rng.uniform(0.1, 1.5)))
            if rng.random() < 0.3:
                spend.append(_spend(rng, day, "Image grok-2-image-1212", NO_KEY, rng.uniform(0.05, 0.8)))
    return FakeXaiTeam(api_key=api_key, team_id=DEMO_TEAM_ID, spend=spend, today=today)


def _spend(rng: random.Random, day: datetime.date, model: str, key: ApiKey, about: float) -> Spend:
    usd = Decimal(round(about * rng.uniform(0.6, 1.4), 8)).quantize(Decimal("1E-8")).normalize()
    return Spend(day, model, key, usd)

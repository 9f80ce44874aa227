"""An in-memory Cursor Admin API team, served as an httpx handler: the demo's teams.

Demo mode serves it through `httpx.MockTransport`; the tests serve it (or a subclass of
theirs that counts calls) through respx or the same transport. It answers like Cursor
does as far as the docs and public clients tell: Basic auth, 401/403 bodies,
newest-first pages, the 30-day cap.
"""

from __future__ import annotations

import base64
import bisect
import datetime
import json
import math
import random
import time
import uuid
import zlib
from collections.abc import Callable
from typing import Any

import httpx

DAY_MS = 86_400_000
MAX_WINDOW_MS = 30 * DAY_MS - 1
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()


def _error(status: int, error: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error": error, "message": message})


def _event_ts(event: dict[str, Any]) -> int:
    try:
        return int(event["timestamp"])
    except (KeyError, TypeError, ValueError):
        return -1  # unreadable: outside every window, so never served


class FakeCursorTeam:
    """One Enterprise team (or not) with its members and usage events."""

    def __init__(
        self,
        *,
        api_key: str,
        events: list[dict[str, Any]] | None = None,
        members: list[dict[str, Any]] | None = None,
        enterprise: bool = True,
        cycle_start: datetime.date | None = None,
        limits: dict[str, float | None] | None = None,
        spend_page_size: int = 100,
    ) -> None:
        self.api_key = api_key
        self.events: list[dict[str, Any]] = events if events is not None else []
        if members is None:
            emails = sorted({e["userEmail"] for e in self.events if isinstance(e.get("userEmail"), str)})
            members = [
                {"name": email.split("@")[0].title(), "email": email, "role": "owner" if i == 0 else "member"}
                for i, email in enumerate(emails)
            ] or [{"name": "Alex", "email": "developer@company.com", "role": "owner"}]
        self.members = members
        self.enterprise = enterprise
        # /teams/spend: the billing cycle's first UTC day (None: the month of the newest event), each
        # member's effective limit in dollars (absent: none sent), and how many members a page holds.
        self.cycle_start = cycle_start
        self.limits = limits or {}
        self.spend_page_size = spend_page_size
        # Events sorted oldest first with their timestamps, re-sorted when the list grows.
        self._indexed_list: list[dict[str, Any]] | None = None
        self._indexed_len = -1
        self._ts: list[int] = []
        self._rows: list[dict[str, Any]] = []

    def invalidate(self) -> None:
        """Call after changing or removing events in place (appending is noticed on its own)."""
        self._indexed_list = None

    # ------------------------------------------------------------------ serving

    @property
    def expected_authorization(self) -> str:
        """What Cursor accepts: Basic base64("KEY:"); follows `api_key` when a test rotates it."""
        return "Basic " + base64.b64encode(f"{self.api_key}:".encode()).decode("ascii")

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.headers.get("authorization") != self.expected_authorization:
            return _error(401, "Unauthorized", "Invalid API key")
        if not self.enterprise:
            return _error(403, "Forbidden", "Enterprise access required")
        if path == "/teams/members" and request.method == "GET":
            return httpx.Response(200, json={"teamMembers": self.members})
        if path == "/teams/filtered-usage-events" and request.method == "POST":
            return self._usage_events(request)
        if path == "/teams/spend" and request.method == "POST":
            return self._spend(request)
        return _error(404, "Not Found", "Not found")

    def _usage_events(self, request: httpx.Request) -> httpx.Response:
        try:
            body = json.loads(request.content or b"{}")
        except ValueError:
            return _error(400, "Bad Request", "Invalid JSON body")
        if not isinstance(body, dict):
            return _error(400, "Bad Request", "Invalid JSON body")
        now = int(time.time() * 1000)
        try:
            end = _int(body.get("endDate"), now)
            start = _int(body.get("startDate"), end - MAX_WINDOW_MS)
            page = _int(body.get("page"), 1)
            size = _int(body.get("pageSize"), DEFAULT_PAGE_SIZE)
        except ValueError as exc:
            return _error(400, "Bad Request", str(exc))
        if end - start > MAX_WINDOW_MS:
            return _error(400, "Bad Request", "Date range cannot exceed 30 days")
        if size < 1 or size > MAX_PAGE_SIZE:
            return _error(400, "Bad Request", f"pageSize must be between 1 and {MAX_PAGE_SIZE}")
        if page < 1:
            return _error(400, "Bad Request", "page must be at least 1")

        self._index()
        lo = bisect.bisect_left(self._ts, start)
        hi = max(lo, bisect.bisect_right(self._ts, end))
        total = hi - lo
        pages = math.ceil(total / size)
        # Newest first: page 1 is the top `size` rows of [lo, hi).
        top = hi - (page - 1) * size
        bottom = max(lo, top - size)
        rows = [self._row_json(row) for row in reversed(self._rows[bottom:top])] if top > lo else []
        head = json.dumps(
            {
                "totalUsageEventsCount": total,
                "pagination": {
                    "numPages": pages,
                    "currentPage": page,
                    "pageSize": size,
                    "hasNextPage": page < pages,
                    "hasPreviousPage": page > 1,
                },
                "period": {"startDate": start, "endDate": end},
            },
            separators=(",", ":"),
        ).encode()
        content = head[:-1] + b',"usageEvents":[' + b",".join(rows) + b"]}"
        return httpx.Response(200, content=content, headers={"content-type": "application/json"})

    def current_cycle_start(self) -> datetime.date | None:
        if self.cycle_start is not None:
            return self.cycle_start
        self._index()
        if not self._ts or self._ts[-1] < 0:
            return None
        newest = datetime.datetime.fromtimestamp(self._ts[-1] / 1000, datetime.UTC).date()
        return newest.replace(day=1)

    def cycle_spend(self) -> dict[str, tuple[int, int]]:
        """email -> (overall, on-demand) spend in micro-cents since the cycle started, priced by
        Cursor's documented rules (chargedCents, else the token fallback)."""
        from grafient_tui.errors import EventFormatError
        from grafient_tui.providers.cursor.costs import parse_event

        start = self.current_cycle_start()
        start_ms = (start.toordinal() - _EPOCH_ORDINAL) * DAY_MS if start else 0
        self._index()
        spend: dict[str, list[int]] = {m["email"]: [0, 0] for m in self.members if isinstance(m.get("email"), str)}
        for row in self._rows[bisect.bisect_left(self._ts, start_ms) :]:
            try:
                event = parse_event(row)
            except EventFormatError:
                continue
            sums = spend.setdefault(event.user_email, [0, 0])
            sums[0] += event.cost_micro
            if event.chargeable:
                sums[1] += event.cost_micro
        return {email: (overall, on_demand) for email, (overall, on_demand) in spend.items()}

    def _spend(self, request: httpx.Request) -> httpx.Response:
        try:
            body = json.loads(request.content or b"{}")
            page = _int(body.get("page") if isinstance(body, dict) else None, 1)
        except ValueError:
            return _error(400, "Bad Request", "Invalid JSON body")
        if page < 1:
            return _error(400, "Bad Request", "page must be at least 1")
        size = max(1, self.spend_page_size)
        names = {m.get("email"): m for m in self.members}
        rows = []
        for email, (overall, on_demand) in sorted(self.cycle_spend().items(), key=lambda kv: (-kv[1][1], kv[0])):
            member = names.get(email, {})
            row = {
                "userId": member.get("id", f"user_{zlib.crc32(email.encode()):08x}"),
                "name": member.get("name", email),
                "email": email,
                "role": member.get("role", "member"),
                "spendCents": on_demand / 1_000_000,
                "overallSpendCents": overall / 1_000_000,
                "fastPremiumRequests": 0,
            }
            limit = self.limits.get(email)
            if limit is not None:
                row["effectivePerUserLimitDollars"] = limit
                row["hardLimitOverrideDollars"] = limit
            rows.append(row)
        pages = max(1, math.ceil(len(rows) / size))
        start = self.current_cycle_start()
        answer: dict[str, Any] = {
            "teamMemberSpend": rows[(page - 1) * size : page * size],
            "totalMembers": len(rows),
            "totalPages": pages,
        }
        if start is not None:
            answer["subscriptionCycleStart"] = (start.toordinal() - _EPOCH_ORDINAL) * DAY_MS
        return httpx.Response(200, json=answer)

    def _index(self) -> None:
        if self._indexed_list is self.events and self._indexed_len == len(self.events):
            return
        keyed = sorted(((_event_ts(e), i) for i, e in enumerate(self.events)))
        self._ts = [ts for ts, _ in keyed]
        self._rows = [self.events[i] for _, i in keyed]
        self._indexed_list = self.events
        self._indexed_len = len(self.events)

    def _row_json(self, row: dict[str, Any]) -> bytes:
        """One event as compact JSON (the tests' counting fake caches these)."""
        return json.dumps(row, separators=(",", ":")).encode()


def _int(value: object, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError("expected a number")
    try:
        number = float(value) if not isinstance(value, int) else value
    except ValueError:
        raise ValueError("expected a number") from None
    if isinstance(number, float):
        if not number.is_integer():
            raise ValueError("expected a whole number")
        number = int(number)
    return number


# --------------------------------------------------------------------------- data

_KINDS = (("Usage-based", 55), ("Included in Business", 35), ("Errored, Not Charged", 10))


def make_events(
    *,
    seed: int,
    start: datetime.date,
    days: int,
    per_day: int | Callable[[datetime.date], int],
    members: list[str],
    models: list[str],
    model_weights: list[float] | None = None,
    member_weights: list[float] | None = None,
) -> list[dict[str, Any]]:
    """Deterministic usage events in the documented shape, oldest first.

    `model_weights` and `member_weights` skew the mix (a real team leans on one or two models and
    has heavy and light users); without them every model and member is as likely.

    `per_day` is a count, or a function of the UTC day giving one. The mix: on-demand,
    plan-included and errored kinds; most events carry chargedCents, some only the
    token fields (totalCents, discountPercentOff, cursorTokenFee) the cost falls back
    to; some are not token-based and have no tokenUsage; every fourth day has an
    event at exactly midnight UTC. Cents have up to 5 decimals.
    """
    rng = random.Random(seed)
    kinds = [k for k, weight in _KINDS for _ in range(weight)]
    events: list[dict[str, Any]] = []
    for offset in range(days):
        day = start + datetime.timedelta(days=offset)
        day_ms = (day.toordinal() - _EPOCH_ORDINAL) * DAY_MS
        count = per_day(day) if callable(per_day) else per_day
        stamps = sorted(day_ms + rng.randrange(DAY_MS) for _ in range(count))
        if stamps and offset % 4 == 0:
            stamps[0] = day_ms
        events.extend(_make_event(rng, ts, kinds, members, models, model_weights, member_weights) for ts in stamps)
    return events


def _pick(rng: random.Random, items: list[str], weights: list[float] | None) -> str:
    # rng.choice when unweighted: the same events as before for every existing seed
    return rng.choice(items) if weights is None else rng.choices(items, weights)[0]


def _make_event(
    rng: random.Random,
    ts: int,
    kinds: list[str],
    members: list[str],
    models: list[str],
    model_weights: list[float] | None = None,
    member_weights: list[float] | None = None,
) -> dict[str, Any]:
    kind = rng.choice(kinds)
    token_based = rng.random() < 0.85
    event: dict[str, Any] = {
        "timestamp": str(ts),
        "userEmail": _pick(rng, members, member_weights),
        "model": _pick(rng, models, model_weights),
        "kind": kind,
        "maxMode": rng.random() < 0.3,
        "requestsCosts": rng.choice((1, 1, 2, 5, 10, 1.4, 0.5)),
        "isTokenBasedCall": token_based,
        "isChargeable": kind == "Usage-based",
        "isHeadless": rng.random() < 0.05,
    }
    if rng.random() < 0.6:
        event["conversationId"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    errored = kind.startswith("Errored")
    if token_based:
        usage = {
            "inputTokens": rng.randrange(20_000),
            "outputTokens": rng.randrange(4_000),
            "cacheWriteTokens": rng.randrange(15_000),
            "cacheReadTokens": rng.randrange(60_000),
            "totalCents": 0 if errored else round(rng.uniform(0.01, 90), rng.choice((0, 2, 3, 5))),
        }
        discounted = rng.random() < 0.2
        if discounted:
            usage["discountPercentOff"] = rng.choice((5, 10, 12.5))
        event["tokenUsage"] = usage
        fee = rng.random() < 0.5 and not errored
        if fee:
            event["cursorTokenFee"] = round(rng.uniform(0.1, 2), rng.choice((2, 5)))
        if rng.random() < 0.75:
            charged = usage["totalCents"] * (1 - usage.get("discountPercentOff", 0) / 100)
            charged += event.get("cursorTokenFee", 0)
            event["chargedCents"] = round(charged, 5)
    elif rng.random() < 0.9:
        event["chargedCents"] = 0 if errored else round(rng.uniform(0, 40), rng.choice((0, 1, 5)))
    return event

"""What the store must hold for a list of served events, computed independently of the app.

The rules are the documented ones (shared/cursor-admin-api.md), written here with Decimal in
a wide context: each event's cost kept to the micro-cent (1e-8 USD), half-even, and every sum
exact. `store_snapshot` reads the tables with plain sqlite3, so it works on a database that a
killed process left behind and never goes through the code under test.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from pathlib import Path

MICRO = Decimal(1_000_000)
STEP = Decimal("0.000001")


def number(value: object) -> Decimal:
    """The exact decimal a JSON number (or numeric string) was written as."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        return Decimal(value.strip())
    raise TypeError(f"{type(value).__name__} is not a number")


def event_cents(raw: dict) -> Decimal:
    """chargedCents; else tokenUsage.totalCents x (1 - discountPercentOff/100) + cursorTokenFee,
    each missing part 0. Like the app, the discount may also sit beside tokenUsage and the fee
    inside it (older shapes); the documented place wins when both are there."""
    with localcontext() as ctx:
        ctx.prec = 200
        if raw.get("chargedCents") is not None:
            value = number(raw["chargedCents"])
        elif _not_charged(raw):
            value = Decimal(0)
        else:
            usage = raw.get("tokenUsage") or {}
            total = usage.get("totalCents")
            discount = usage.get("discountPercentOff")
            if discount is None:
                discount = raw.get("discountPercentOff")
            fee = raw.get("cursorTokenFee")
            if fee is None:
                fee = usage.get("cursorTokenFee")
            value = Decimal(0)
            if total is not None:
                value = number(total) * (1 - (number(discount) if discount is not None else 0) / Decimal(100))
            if fee is not None:
                value += number(fee)
        return value.quantize(STEP, rounding=ROUND_HALF_EVEN)


def _kind(raw: dict) -> str:
    kind = raw.get("kind") if raw.get("kind") is not None else raw.get("kindLabel")
    return kind or ""


def _not_charged(raw: dict) -> bool:
    """shared/cursor-admin-api.md: a label containing "Not Charged" or "No Charge" (any case), an enum
    kind containing ERRORED or ABORTED, or isFreeBugbot true."""
    kind = _kind(raw)
    lowered = kind.lower()
    if "not charged" in lowered or "no charge" in lowered:
        return True
    if kind.startswith("USAGE_EVENT_KIND_") and ("ERRORED" in kind or "ABORTED" in kind):
        return True
    return str(raw.get("isFreeBugbot")).lower() in ("true", "1")


def micro(cents: Decimal) -> int:
    with localcontext() as ctx:
        ctx.prec = 200
        return int(cents * MICRO)


def event_timestamp(raw: dict) -> int:
    value = raw["timestamp"]
    if isinstance(value, str) and "T" in value:  # ISO 8601 with a zone
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return round((moment - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() * 1000)
    with localcontext() as ctx:
        ctx.prec = 200
        return int(number(value))


def event_day(raw: dict) -> date:
    return date(1970, 1, 1) + timedelta(days=event_timestamp(raw) // 86_400_000)


def _units_micro(raw: dict) -> int:
    units = raw.get("requestsCosts")
    if units is None:
        units = raw.get("requestCosts")
    if units is None:
        return 0
    with localcontext() as ctx:
        ctx.prec = 200
        return int(number(units).quantize(STEP, rounding=ROUND_HALF_EVEN) * MICRO)


def _tokens(raw: dict) -> tuple[int, int, int, int]:
    usage = raw.get("tokenUsage") or {}
    return tuple(
        int(number(usage.get(k) or 0))
        for k in ("inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens")  # type: ignore[return-value]
    )


def _chargeable(raw: dict) -> bool:
    flag = raw.get("isChargeable")
    if isinstance(flag, bool):
        return flag
    if flag is None:
        kind = _kind(raw)
        return kind == "USAGE_EVENT_KIND_USAGE_BASED" or "".join(ch for ch in kind.lower() if ch not in "- _") in (
            "usagebased",
            "ondemand",
        )
    return str(flag).strip().lower() in ("true", "1")


def expected_snapshot(events: list[dict], *, first: date, last: date, today: date) -> list[list[tuple]]:
    """[days, models, members] for the days first..last, in the shape of `store_snapshot`.

    Every day of the range has a row (a day without events is stored as zero, synced)."""
    days: dict[date, list] = {}
    models: dict[tuple[date, str], list] = defaultdict(lambda: [0, 0, None, None, None, None, None])
    members: dict[tuple[date, str], list] = defaultdict(lambda: [0, 0])
    for raw in events:
        day = event_day(raw)
        if not first <= day <= last:
            continue
        cost = micro(event_cents(raw))
        # An event without tokenUsage counts no tokens: a day's or a model's are those of the events
        # that have them, unknown (None) where none has
        tokens = _tokens(raw) if raw.get("tokenUsage") is not None else None
        d = days.setdefault(day, [0, 0, 0, 0, 0, None, None, None, None, None, None])
        d[0] += cost
        d[1 if _chargeable(raw) else 2] += cost
        d[3] += 1
        d[4] += _units_micro(raw)
        model = raw.get("model") or "unknown"
        m = models[(day, model)]
        m[0] += cost
        m[1] += 1
        for i, t in enumerate(tokens or ()):
            d[5 + i] = (d[5 + i] or 0) + t
            m[2 + i] = (m[2 + i] or 0) + t
        email = raw.get("userEmail") or raw.get("serviceAccountName") or "unattributed"
        u = members[(day, email)]
        u[0] += cost
        u[1] += 1
    day_rows = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        day_rows.append((day, *days.get(day, [0] * 9 + [None, None]), day < today))
    model_rows = sorted((day, model, *m) for (day, model), m in models.items())
    member_rows = sorted((day, email, *u) for (day, email), u in members.items())
    return [day_rows, model_rows, member_rows]


def expected_model_on_demand(events: list[dict]) -> dict[tuple[date, str], int]:
    """Each (day, model)'s on-demand part in micro-cents: the chargeable events' cost, 0 for a model
    whose events of the day were all included in the plan."""
    out: dict[tuple[date, str], int] = defaultdict(int)
    for raw in events:
        key = (event_day(raw), raw.get("model") or "unknown")
        out[key] += micro(event_cents(raw)) if _chargeable(raw) else 0
    return dict(out)


def store_snapshot(database: Path, integration_id: int = 1) -> list[list[tuple]]:
    """[days, models, members] of one integration as stored: every column but ids and synced_at."""
    con = sqlite3.connect(database)
    try:
        days = [
            (date.fromisoformat(r[0]), *r[1:-1], bool(r[-1]))
            for r in con.execute(
                "SELECT day, cost_micro, on_demand_micro, included_micro, requests, request_units_micro, "
                "input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, byok_micro, "
                "complete "
                "FROM dailycost WHERE integration_id = ? ORDER BY day",
                (integration_id,),
            )
        ]
        models = sorted(
            (date.fromisoformat(r[0]), *r[1:])
            for r in con.execute(
                "SELECT day, model, cost_micro, requests, input_tokens, output_tokens, cache_read_tokens, "
                "cache_write_tokens, reasoning_tokens FROM dailymodelcost WHERE integration_id = ?",
                (integration_id,),
            )
        )
        members = sorted(
            (date.fromisoformat(r[0]), *r[1:])
            for r in con.execute(
                "SELECT day, email, cost_micro, requests FROM dailymembercost WHERE integration_id = ?",
                (integration_id,),
            )
        )
    finally:
        con.close()
    return [days, models, members]


def snapshot_via_store(db, integration_id: int = 1) -> list[list[tuple]]:
    """`store_snapshot`'s shape, read through the store's own engine: works on SQLite and PostgreSQL
    alike (plain SELECTs of the tables, no query of the app's)."""
    from sqlalchemy import text

    with db.engine.connect() as con:

        def rows(sql: str) -> list[tuple]:
            return [tuple(r) for r in con.execute(text(sql), {"id": integration_id})]

        days = [
            (*r[:-1], bool(r[-1]))
            for r in rows(
                "SELECT day, cost_micro, on_demand_micro, included_micro, requests, request_units_micro, "
                "input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, byok_micro, "
                "complete FROM dailycost WHERE integration_id = :id ORDER BY day"
            )
        ]
        models = sorted(
            rows(
                "SELECT day, model, cost_micro, requests, input_tokens, output_tokens, cache_read_tokens, "
                "cache_write_tokens, reasoning_tokens FROM dailymodelcost WHERE integration_id = :id"
            )
        )
        members = sorted(
            rows("SELECT day, email, cost_micro, requests FROM dailymembercost WHERE integration_id = :id")
        )
    return [
        [(_as_date(r[0]), *r[1:]) for r in days],
        [(_as_date(r[0]), *r[1:]) for r in models],
        [(_as_date(r[0]), *r[1:]) for r in members],
    ]


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def restrict(snapshot: list[list[tuple]], days: set[date]) -> list[list[tuple]]:
    """The rows of a snapshot that belong to `days`."""
    return [[row for row in table if row[0] in days] for table in snapshot]


def all_rows(database: Path) -> dict[str, list[tuple]]:
    """Every row of every table, bytes and all: for "nothing changed" checks."""
    con = sqlite3.connect(database)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {t: sorted(con.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}
    finally:
        con.close()


def integrity(database: Path) -> str:
    con = sqlite3.connect(database)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


def utc_ms(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp() * 1000)

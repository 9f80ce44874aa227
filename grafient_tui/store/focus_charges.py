"""The FOCUS export's charges: each stored UTC day of an integration split into rows of one model
(or one actor), with the day's billed amount and usage value shared out exactly.

The store keeps a day's cost three ways, each summing to the day: per day (with a covered
provider's on-demand part, what invoices charge), per day x model (with that on-demand part too,
since migration 0012) and per day x actor (member, workspace, project). It does not keep day x
model x actor. So a row is a day x model, naming the actor only when the day has one actor (then
every model of the day is its); a day with one model and several actors is a row per actor instead.
A day's billed amount goes to its rows exactly where it can (billed = usage value, or nothing
billed, or one row, or each model's own on-demand part as stored), else in proportion to their usage
value, its micro-cents adding up to the day's (`billed_exact` False says so): a covered provider's
day stored before the part was kept per model (NULL), or a model's day shared among its actors.
A day never synced has no row: it is not a $0 day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from grafient_tui import providers
from grafient_tui.budgets.periods import cycle_bounds, month_bounds
from grafient_tui.errors import GrafientError
from grafient_tui.figures import FocusCharge, IntegrationInfo
from grafient_tui.store.read import Reader, day, flag, integer

# The account settings that name the provider's billing account (GitHub's organization or enterprise,
# xAI's team), in the order they are looked for.
ACCOUNT_SETTINGS = ("org", "enterprise", "team_id")


@dataclass(frozen=True)
class _Part:
    name: str  # a model or an actor, as stored
    cost_micro: int
    requests: int | None
    on_demand_micro: int | None = None  # a model's on-demand part; None: not kept (an actor, an old row)


@dataclass(frozen=True)
class _Row:
    model: str | None
    actor: str | None
    cost_micro: int
    requests: int | None
    on_demand_micro: int | None = None  # the row's own on-demand part, where the store keeps it


def account_id(integration: IntegrationInfo) -> str:
    """The provider's billing account as Grafient knows it, else the integration's own id."""
    for name in ACCOUNT_SETTINGS:
        value = (integration.account or {}).get(name)
        if value:
            return value
    return f"grafient-integration-{integration.integration_id}"


def focus_charges(read: Reader, integration: IntegrationInfo, since: date, until: date) -> list[FocusCharge]:
    """The integration's charges for the stored days of [since, until], by day, then as stored."""
    iid = integration.integration_id
    try:
        caps = providers.capabilities(integration.provider)
        covered, kind, whole = caps.covered_by is not None, caps.actor_kind, caps.whole_actor
    except GrafientError:  # a provider this version does not know: all of its cost billed, as reports show it
        covered, kind, whole = False, "member", None
    models = _parts(read, "model", "dailymodelcost", iid, since, until, on_demand="on_demand_micro")
    actors = _parts(read, "email", "dailymembercost", iid, since, until)
    out: list[FocusCharge] = []
    for stored_day, complete, cost, on_demand in read.rows(
        "SELECT day, complete, cost_micro, on_demand_micro FROM dailycost "
        "WHERE integration_id = ? AND day >= ? AND day <= ? ORDER BY day",
        iid,
        since,
        until,
    ):
        when = day(stored_day)
        usage = int(cost)
        billed = (integer(on_demand) or 0) if covered else usage
        day_actors = [a for a in actors.get(when, []) if a.name != whole]
        rows = _rows(usage, models.get(when, []), day_actors)
        bounds = cycle_bounds(integration.cycle_start, when) if integration.cycle_start else month_bounds(when)
        own = _own_shares(billed, rows) if covered else None
        shares, exact = (own, True) if own is not None else _shares(billed, [r.cost_micro for r in rows], usage)
        for row, share in zip(rows, shares, strict=True):
            out.append(
                FocusCharge(
                    integration_id=iid,
                    label=integration.label,
                    provider=integration.provider,
                    account_id=account_id(integration),
                    day=when,
                    complete=flag(complete),
                    billing_start=bounds.start,
                    billing_end=bounds.end,
                    model=row.model,
                    actor=row.actor,
                    actor_kind=kind,
                    usage_value_micro=row.cost_micro,
                    billed_micro=share,
                    billed_exact=exact,
                    requests=row.requests,
                    estimated=integration.basis.estimated,
                )
            )
    return out


def _parts(
    read: Reader, column: str, table: str, iid: int, since: date, until: date, *, on_demand: str = "NULL"
) -> dict[date, list[_Part]]:
    """`column`, `table` and `on_demand` are our own names, never outside text."""
    out: dict[date, list[_Part]] = {}
    for stored_day, name, cost, requests, own in read.rows(
        f"SELECT day, {column}, cost_micro, requests, {on_demand} FROM {table} "
        "WHERE integration_id = ? AND day >= ? AND day <= ?",
        iid,
        since,
        until,
    ):
        out.setdefault(day(stored_day), []).append(_Part(str(name), int(cost or 0), integer(requests), integer(own)))
    # Dearest first, then by name (compared here, never by the database's collation)
    return {when: sorted(parts, key=lambda p: (-p.cost_micro, p.name)) for when, parts in out.items()}


def _rows(usage: int, models: list[_Part], actors: list[_Part]) -> list[_Row]:
    """A day's rows: one per model, or one per actor when a single model holds the whole day."""
    one_model = len(models) == 1 and models[0].cost_micro == usage
    if one_model and len(actors) > 1 and sum(a.cost_micro for a in actors) == usage:
        return [_Row(models[0].name, a.name, a.cost_micro, a.requests) for a in actors]
    only = actors[0].name if len(actors) == 1 and actors[0].cost_micro == usage else None
    rows = [_Row(m.name, only, m.cost_micro, m.requests, m.on_demand_micro) for m in models]
    rest = usage - sum(m.cost_micro for m in models)
    if rest:  # a cost no model row holds is still the day's: a row without a model
        rows.append(_Row(None, only, rest, None))
    return rows


def _own_shares(billed: int, rows: list[_Row]) -> list[int] | None:
    """Each row's billed amount as stored per model (a covered provider's on-demand part), when every
    model row has one and they add up to the day's (a row without a model takes what is left, within
    its usage value); None otherwise (rows stored before the part was kept, a row per actor)."""
    modelled = [r for r in rows if r.model is not None]
    # a model's part shared among its actors' rows (one model, several actors) is not known per row
    if not modelled or len({r.model for r in modelled}) < len(modelled):
        return None
    left = billed
    shares: list[int] = []
    for r in rows:
        if r.model is None:
            if not 0 <= left <= r.cost_micro:
                return None
            shares.append(left)
            left = 0
        elif r.on_demand_micro is None:
            return None
        else:
            shares.append(r.on_demand_micro)
            left -= r.on_demand_micro
    return shares if left == 0 else None


def _shares(billed: int, costs: list[int], usage: int) -> tuple[list[int], bool]:
    """`billed` shared among rows of these usage values: (each row's share, exact). Exact when every
    dollar is billed, none is, or there is one row; else in proportion to usage value, the
    remainders going to the largest fractions, so the shares add up to `billed` to the micro-cent."""
    if not costs:
        return [], True
    if billed == usage:
        return list(costs), True
    if billed == 0:
        return [0] * len(costs), True
    if len(costs) == 1:
        return [billed], True
    total = sum(costs)
    if total <= 0 or any(c < 0 for c in costs):  # no proportion to follow: the dearest row carries it
        return [billed] + [0] * (len(costs) - 1), False
    floors = [billed * c // total for c in costs]
    left = billed - sum(floors)
    order = sorted(range(len(costs)), key=lambda i: (-(billed * costs[i] % total), i))
    for i in order[:left]:
        floors[i] += 1
    return floors, False

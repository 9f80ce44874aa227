"""Reads for reports and screens. Every figure comes from the stored daily rows.

Money stays integer micro-cents here; grafient_tui.money converts it, only for output.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, func
from sqlmodel import select

from grafient_tui.store.db import Database
from grafient_tui.store.models import DailyCost, DailyMemberCost, DailyModelCost, Integration


def days_between(since: date, until: date) -> list[date]:
    return [since + timedelta(days=i) for i in range((until - since).days + 1)]


# None in a figure below is unknown or not applicable (see store/models.py), never 0.


@dataclass(frozen=True)
class DayRow:
    day: date
    synced: bool  # False: never fetched (not the same as "no usage")
    complete: bool
    cost_micro: int = 0
    on_demand_micro: int | None = 0
    included_micro: int | None = 0
    requests: int | None = 0
    request_units_micro: int = 0
    input_tokens: int | None = 0
    output_tokens: int | None = 0
    cache_read_tokens: int | None = 0
    cache_write_tokens: int | None = 0
    top_model: str | None = None
    reasoning_tokens: int | None = None
    byok_micro: int | None = None
    credits_micro: int | None = None  # units billed instead of money (ElevenLabs' credits, millionths)
    characters: int | None = None


@dataclass(frozen=True)
class ModelRow:
    model: str
    cost_micro: int
    requests: int | None
    input_tokens: int | None = 0
    output_tokens: int | None = 0
    cache_read_tokens: int | None = 0
    cache_write_tokens: int | None = 0
    reasoning_tokens: int | None = None
    credits_micro: int | None = None
    characters: int | None = None


@dataclass(frozen=True)
class MemberRow:
    email: str  # the actor: a member's email, a workspace's or a project's name
    cost_micro: int
    requests: int | None


def known_sum(column: Any) -> Any:
    """SUM over a group that is NULL (unknown) when any row of the group is: a total that leaves
    rows out is not a total."""
    return case((func.count(column) == func.count(), func.sum(column)), else_=None)


def _int_or_none(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[arg-type]


def daily_costs(db: Database, integration_id: int, since: date, until: date) -> list[DayRow]:
    """One row per UTC day of [since, until], including days never synced."""
    with db.session() as session:
        stored = {
            row.day: row
            for row in session.exec(
                select(DailyCost).where(
                    DailyCost.integration_id == integration_id, DailyCost.day >= since, DailyCost.day <= until
                )
            )
        }
        top: dict[date, tuple[int, str]] = {}
        for day, model, cost in session.exec(
            select(DailyModelCost.day, DailyModelCost.model, DailyModelCost.cost_micro).where(
                DailyModelCost.integration_id == integration_id,
                DailyModelCost.day >= since,
                DailyModelCost.day <= until,
            )
        ):
            if day not in top or (cost, model) > top[day]:
                top[day] = (cost, model)
    rows = []
    for day in days_between(since, until):
        stored_row = stored.get(day)
        if stored_row is None:
            rows.append(DayRow(day=day, synced=False, complete=False))
            continue
        rows.append(
            DayRow(
                day=day,
                synced=True,
                complete=stored_row.complete,
                cost_micro=stored_row.cost_micro,
                on_demand_micro=stored_row.on_demand_micro,
                included_micro=stored_row.included_micro,
                requests=stored_row.requests,
                request_units_micro=stored_row.request_units_micro,
                input_tokens=stored_row.input_tokens,
                output_tokens=stored_row.output_tokens,
                cache_read_tokens=stored_row.cache_read_tokens,
                cache_write_tokens=stored_row.cache_write_tokens,
                top_model=top[day][1] if day in top else None,
                reasoning_tokens=stored_row.reasoning_tokens,
                byok_micro=stored_row.byok_micro,
                credits_micro=stored_row.credits_micro,
                characters=stored_row.characters,
            )
        )
    return rows


def models_by_day(db: Database, integration_id: int, since: date, until: date) -> dict[date, list[ModelRow]]:
    out: dict[date, list[ModelRow]] = {}
    with db.session() as session:
        for row in session.exec(
            select(DailyModelCost).where(
                DailyModelCost.integration_id == integration_id,
                DailyModelCost.day >= since,
                DailyModelCost.day <= until,
            )
        ):
            out.setdefault(row.day, []).append(
                ModelRow(
                    row.model,
                    row.cost_micro,
                    row.requests,
                    row.input_tokens,
                    row.output_tokens,
                    row.cache_read_tokens,
                    row.cache_write_tokens,
                    row.reasoning_tokens,
                    row.credits_micro,
                    row.characters,
                )
            )
    for rows in out.values():
        rows.sort(key=lambda r: (-r.cost_micro, r.model))
    return out


def model_breakdown(db: Database, integration_ids: int | Iterable[int], since: date, until: date) -> list[ModelRow]:
    """Totals per model over the range, most expensive first."""
    ids = _ids(integration_ids)
    t = DailyModelCost
    with db.session() as session:
        result = session.exec(
            select(
                t.model,
                func.sum(t.cost_micro),
                known_sum(t.requests),
                known_sum(t.input_tokens),
                known_sum(t.output_tokens),
                known_sum(t.cache_read_tokens),
                known_sum(t.cache_write_tokens),
                known_sum(t.reasoning_tokens),
                func.sum(t.credits_micro),  # units: NULL only where no row has any
                func.sum(t.characters),
            )
            .where(t.integration_id.in_(ids), t.day >= since, t.day <= until)
            .group_by(t.model)
        ).all()
    rows = [ModelRow(m, int(c or 0), *(_int_or_none(v) for v in rest)) for m, c, *rest in result]
    return sorted(rows, key=lambda r: (-r.cost_micro, r.model))


def member_breakdown(db: Database, integration_ids: int | Iterable[int], since: date, until: date) -> list[MemberRow]:
    """Totals per member email over the range, most expensive first."""
    ids = _ids(integration_ids)
    t = DailyMemberCost
    with db.session() as session:
        result = session.exec(
            select(t.email, func.sum(t.cost_micro), known_sum(t.requests))
            .where(t.integration_id.in_(ids), t.day >= since, t.day <= until)
            .group_by(t.email)
        ).all()
    rows = [MemberRow(e, int(c or 0), _int_or_none(r)) for e, c, r in result]
    return sorted(rows, key=lambda r: (-r.cost_micro, r.email))


@dataclass(frozen=True)
class Summary:
    """The headline figures for the UTC days [since, until], and what they cover.

    With several integrations, a day counts as synced (or complete) only when it is for every one
    of them: a total over teams is only as complete as its least complete team.
    """

    since: date
    until: date
    days: int
    synced_days: int
    complete_days: int
    today_partial: bool  # today is in the range and counted so far
    total_micro: int
    on_demand_micro: int | None  # None: no integration here has an on-demand split
    included_micro: int | None
    requests: int | None  # over the days whose count is known; None when none is
    daily_average_micro: int | None  # over complete synced days; None when there are none
    top_model: str | None
    top_model_micro: int
    change_pct: float | None
    change_note: str | None  # why there is no change figure, in a few words
    requests_partial: bool = False  # some synced days have no request count (a provider gives none)
    byok_micro: int | None = None  # bring-your-own-key spend billed by other providers, beside the total

    @property
    def fully_synced(self) -> bool:
        return self.synced_days == self.days

    def coverage(self) -> str | None:
        """`31 of 90 days synced` when the range is not fully synced, else None."""
        return None if self.fully_synced else f"{self.synced_days} of {self.days} days synced"


@dataclass(frozen=True)
class _DayState:
    synced: bool  # every integration has the day
    complete: bool
    cost_micro: int
    some: bool = False  # at least one integration has it


_NOT_SYNCED = _DayState(False, False, 0)


def _day_states(
    db: Database, ids: list[int], since: date, until: date, today: date | None = None
) -> dict[date, _DayState]:
    """day -> whether every integration in ids has it synced and complete, and their cost.

    Today is only expected from providers that report it (OpenRouter reports completed days only)."""
    t = DailyCost
    with db.session() as session:
        result = session.exec(
            select(
                t.day,
                func.count(t.id),
                func.sum(case((t.complete == True, 1), else_=0)),  # noqa: E712
                func.sum(t.cost_micro),
            )
            .where(t.integration_id.in_(ids), t.day >= since, t.day <= until)
            .group_by(t.day)
        ).all()
        states = {}
        want = len(set(ids))
        for day, n, done, cost in result:
            states[day] = _DayState(int(n) == want, int(done or 0) == want, int(cost or 0), int(n) > 0)
        if today is not None and since <= today <= until:
            want_today = want - _without_today(session, ids)
            n = next((int(n) for day, n, _, _ in result if day == today), 0)
            cost = states[today].cost_micro if today in states else 0
            states[today] = _DayState(n >= want_today, False, cost, n > 0)
    return states


def _capabilities(session, ids: list[int]) -> list:
    """The capabilities of the providers these integrations sync from (one per integration; a
    provider this version does not know is left out)."""
    from grafient_tui import providers
    from grafient_tui.errors import GrafientError

    out = []
    for provider in session.exec(select(Integration.provider).where(Integration.id.in_(ids))):
        try:
            out.append(providers.get(provider).capabilities)
        except GrafientError:
            pass
    return out


def _without_today(session, ids: list[int]) -> int:
    """How many of these integrations sync from a provider that never reports today."""
    return sum(1 for caps in _capabilities(session, ids) if not caps.has_today)


def period_summary(
    db: Database, integration_ids: int | Iterable[int], *, days: int, until: date, today: date | None = None
) -> Summary:
    """The period of `days` UTC days ending `until`. `today` (default: `until`) marks the day that is
    not over yet: it is counted so far, never averaged, and left out of the change.

    The change compares the period's finished days with the same days one period earlier, so a
    partial today never tilts it, and is given only when both sides are synced and complete."""
    ids = _ids(integration_ids)
    today = until if today is None else today
    since = until - timedelta(days=days - 1)
    finished = [d for d in days_between(since, until) if d < today]
    previous = [d - timedelta(days=days) for d in finished]
    states = _day_states(db, ids, since - timedelta(days=days), until, today)
    t = DailyCost
    with db.session() as session:
        total, on_demand, included, requests, unknown_requests, byok, rows = session.exec(
            select(
                func.sum(t.cost_micro),
                func.sum(t.on_demand_micro),
                func.sum(t.included_micro),
                func.sum(t.requests),
                func.sum(case((t.requests.is_(None), 1), else_=0)),
                func.sum(t.byok_micro),
                func.count(),
            ).where(t.integration_id.in_(ids), t.day >= since, t.day <= until)
        ).one()
    if not rows:  # nothing stored yet: zero where these providers count the figure, else unknown
        with db.session() as session:
            caps = _capabilities(session, ids)
        on_demand = included = 0 if any(c.has_on_demand for c in caps) or not caps else None
        requests = 0 if any(c.has_requests for c in caps) or not caps else None
    in_range = [states.get(d, _NOT_SYNCED) for d in days_between(since, until)]
    complete = [s for s in in_range if s.complete]
    change_pct, change_note = _change(states, finished, previous)
    models = model_breakdown(db, ids, since, until)
    return Summary(
        since=since,
        until=until,
        days=days,
        synced_days=sum(1 for s in in_range if s.synced),
        complete_days=len(complete),
        # counted in the total as soon as any team has it, so marked as soon as any team has it
        today_partial=since <= today <= until and states.get(today, _NOT_SYNCED).some,
        total_micro=int(total or 0),
        on_demand_micro=_int_or_none(on_demand),
        included_micro=_int_or_none(included),
        requests=_int_or_none(requests),
        requests_partial=bool(unknown_requests) and requests is not None,
        byok_micro=_int_or_none(byok),
        daily_average_micro=_round_div(sum(s.cost_micro for s in complete), len(complete)) if complete else None,
        top_model=models[0].model if models and models[0].cost_micro > 0 else None,
        top_model_micro=models[0].cost_micro if models else 0,
        change_pct=change_pct,
        change_note=change_note,
    )


def _change(
    states: dict[date, _DayState], current: list[date], previous: list[date]
) -> tuple[float | None, str | None]:
    """The change in percent, or None and the reason in a few words."""
    if not current:
        return None, "no finished day in this period yet"
    for name, days in (("this period", current), ("previous period", previous)):
        synced = sum(1 for d in days if states.get(d, _NOT_SYNCED).synced)
        if synced < len(days):
            return None, f"{name} {synced}/{len(days)} days synced"
        final = sum(1 for d in days if states[d].complete)
        if final < len(days):
            return None, f"{name} {final}/{len(days)} days final"
    current_micro = sum(states[d].cost_micro for d in current)
    previous_micro = sum(states[d].cost_micro for d in previous)
    if previous_micro == 0:
        return None, "no spend in the previous period"
    return (current_micro - previous_micro) * 100.0 / previous_micro, None


def _round_div(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half-even, exactly."""
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2):
        quotient += 1
    return quotient


def _ids(integration_ids: int | Iterable[int]) -> list[int]:
    return [integration_ids] if isinstance(integration_ids, int) else list(integration_ids)

"""Reads for reports and screens, into the read model (grafient_tui.figures). Every figure comes
from the stored daily rows, aggregated in SQL where SQL can (store/read.py: plain DB-API reads, the
same SQL on SQLite and PostgreSQL).

Each query takes a ReadSource: a Reader, read in its transaction (a report or a screen reads all its
figures in one), or a Database, which lends one for the query. Money stays integer micro-cents here;
grafient_tui.money converts it, only for output. Text is ordered in Python, never by the database's
collation, so both databases order alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from grafient_tui.errors import NotFound, StoreError
from grafient_tui.estimates import basis_for
from grafient_tui.figures import (
    DayFigures,
    IntegrationInfo,
    MemberFigures,
    MemberLimit,
    ModelFigures,
    Summary,
    SyncStatus,
)
from grafient_tui.secret import KEY_IN_ARGV, looks_like_key
from grafient_tui.store.accounts import stored_account
from grafient_tui.store.labels import MAX_ID, label_key
from grafient_tui.store.read import Reader, ReadSource, day, flag, integer, marks, maybe_day, moment
from grafient_tui.untrusted import cap, storable

if TYPE_CHECKING:
    from grafient_tui.providers.base import Capabilities


def days_between(since: date, until: date) -> list[date]:
    return [since + timedelta(days=i) for i in range((until - since).days + 1)]


def known_sum(column: str) -> str:
    """SUM over a group that is NULL (unknown) when any row of the group is: a total that leaves
    rows out is not a total."""
    return f"CASE WHEN COUNT({column}) = COUNT(*) THEN SUM({column}) END"


# --------------------------------------------------------------------------- integrations

_INTEGRATION_COLUMNS = (
    "id, label, provider, key_hint, created_at, team_members, history_from, cycle_start, account, cost_basis"
)


def _info(row: tuple[Any, ...]) -> IntegrationInfo:
    iid, label, provider, key_hint, created, members, history_from, cycle_start, account, cost_basis = row
    created_at = moment(created)
    assert created_at is not None  # NOT NULL in the schema
    try:
        settings: dict[str, str] | None = stored_account(int(iid), str(provider), account)
    except StoreError:  # a damaged row: shown as unreadable; its sync fails with the sentence
        settings = None
    return IntegrationInfo(
        integration_id=int(iid),
        label=str(label),
        provider=str(provider),
        key_hint=str(key_hint),
        created=created_at,
        team_members=integer(members),
        history_from=maybe_day(history_from),
        cycle_start=maybe_day(cycle_start),
        account=settings,
        basis=basis_for(str(provider), cost_basis),
    )


def integrations(source: ReadSource, ref: str | int | None = None) -> list[IntegrationInfo]:
    """The one integration `ref` names (NotFound with its sentence when none does), or all of them by id."""
    with source.reader() as read:
        if ref is not None:
            return [integration_info(read, ref)]
        return [_info(row) for row in read.rows(f"SELECT {_INTEGRATION_COLUMNS} FROM integration ORDER BY id")]


def not_found_sentence(ref: str | int) -> str:
    return f"no integration with id or label {str(ref).strip()!r} (see `grafient list`)."


def integration_info(source: ReadSource, ref: str | int) -> IntegrationInfo:
    """By id (digits), else by label: exact, then as labels compare (store/labels.label_key)."""
    text = str(ref).strip()
    not_found = NotFound(not_found_sentence(text))
    if not text.isascii() or not text.isdigit():
        try:  # argv can carry bytes that are not UTF-8 (lone surrogates); no label is made of them
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise not_found from None
    select = f"SELECT {_INTEGRATION_COLUMNS} FROM integration"
    with source.reader() as read:
        row = None
        # An id is ASCII digits within SQLite's integer range ("²" is a digit to Python, not an id).
        if text.isascii() and text.isdigit() and int(text) <= MAX_ID:
            row = read.one(f"{select} WHERE id = ?", int(text))
        if row is None:
            row = read.one(f"{select} WHERE label = ?", text)
        if row is None:
            row = read.one(f"{select} WHERE label_key = ?", label_key(text))
    if row is None:
        if looks_like_key(text):  # never echo a key someone typed where an id or label goes
            raise NotFound(f"{KEY_IN_ARGV}.")
        raise not_found
    return _info(row)


def sync_state(source: ReadSource, integration_id: int) -> SyncStatus:
    """The integration's sync state from its sync log (sync/engine.sync_status corrects a run still
    marked running that no process holds)."""
    with source.reader() as read:
        last = read.one(
            "SELECT outcome, error FROM syncrun WHERE integration_id = ? ORDER BY id DESC LIMIT 1", integration_id
        )
        last_ok = read.one(
            "SELECT finished_at FROM syncrun WHERE integration_id = ? AND outcome = ? ORDER BY id DESC LIMIT 1",
            integration_id,
            "success",
        )
    if last is None:
        return SyncStatus(status="never synced", last_sync=None, error=None)
    outcome, error = last
    try:
        last_good = moment(last_ok[0]) if last_ok else None
    except (TypeError, ValueError):  # not a time: written by someone else (or a newer Grafient)
        last_good = None
    status = KNOWN_OUTCOMES.get(outcome) if type(outcome) is str else None
    if status is None:
        return SyncStatus(status="unknown", last_sync=last_good, error=UNKNOWN_OUTCOME)
    shown = cap(storable(error), MAX_STORED_ERROR) if type(error) is str else None
    return SyncStatus(status=status, last_sync=last_good, error=shown)


# A sync run's outcome as stored -> its status. The sync log is written by whoever can write the
# database (a teammate, an older or newer Grafient): any other value is "unknown", with a sentence.
KNOWN_OUTCOMES = {
    "success": "ok",
    "running": "syncing",
    "failed": "failed",
    "interrupted": "interrupted",
    "skipped": "skipped",
}
UNKNOWN_OUTCOME = "the sync log's last entry has an outcome this Grafient does not know; sync again to replace it"
MAX_STORED_ERROR = 500  # characters of a stored error shown (the engine writes one sentence)


def member_limits(source: ReadSource, integration_id: int) -> list[MemberLimit]:
    """The members' cycle spend and limits as last read from the provider (empty when it gives none)."""
    with source.reader() as read:
        rows = read.rows(
            "SELECT member, name, spend_micro, on_demand_micro, limit_micro FROM membercyclespend "
            "WHERE integration_id = ?",
            integration_id,
        )
    limits = [
        MemberLimit(
            member=member,
            name=name,
            spend_micro=integer(spend),
            on_demand_micro=integer(on_demand),
            limit_micro=integer(limit),
        )
        for member, name, spend, on_demand, limit in rows
    ]
    return sorted(limits, key=lambda m: m.member)


# --------------------------------------------------------------------------- days, models, members

_DAY_COLUMNS = (
    "day, complete, cost_micro, on_demand_micro, included_micro, requests, request_units_micro, input_tokens, "
    "output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, byok_micro, credits_micro, characters"
)


def daily_costs(source: ReadSource, integration_id: int, since: date, until: date) -> list[DayFigures]:
    """One row per UTC day of [since, until], including days never synced."""
    with source.reader() as read:
        rows = read.rows(
            f"SELECT {_DAY_COLUMNS} FROM dailycost WHERE integration_id = ? AND day >= ? AND day <= ?",
            integration_id,
            since,
            until,
        )
        # Each day's most expensive model, as models_by_day orders them: the dearest, and of equally dear
        # ones the first by name (compared here, not by the database's collation).
        top: dict[date, str] = {}
        for stored_day, model in read.rows(
            "SELECT m.day, m.model FROM dailymodelcost AS m JOIN (SELECT day, MAX(cost_micro) AS top "
            "FROM dailymodelcost WHERE integration_id = ? AND day >= ? AND day <= ? GROUP BY day) AS t "
            "ON t.day = m.day AND t.top = m.cost_micro WHERE m.integration_id = ? AND m.day >= ? AND m.day <= ?",
            integration_id,
            since,
            until,
            integration_id,
            since,
            until,
        ):
            key = day(stored_day)
            top[key] = min(top.get(key, model), model)
    stored = {day(row[0]): row for row in rows}
    out = []
    for when in days_between(since, until):
        row = stored.get(when)
        if row is None:
            out.append(DayFigures(day=when, synced=False, complete=False))
            continue
        (
            _,
            complete,
            cost,
            on_demand,
            included,
            requests,
            units,
            inputs,
            outputs,
            cache_read,
            cache_write,
            reasoning,
            byok,
            credits,
            characters,
        ) = row
        out.append(
            DayFigures(
                day=when,
                synced=True,
                complete=flag(complete),
                cost_micro=int(cost),
                on_demand_micro=integer(on_demand),
                included_micro=integer(included),
                requests=integer(requests),
                request_units_micro=int(units),
                input_tokens=integer(inputs),
                output_tokens=integer(outputs),
                cache_read_tokens=integer(cache_read),
                cache_write_tokens=integer(cache_write),
                top_model=top.get(when),
                reasoning_tokens=integer(reasoning),
                byok_micro=integer(byok),
                credits_micro=integer(credits),
                characters=integer(characters),
            )
        )
    return out


def _model(row: tuple[Any, ...]) -> ModelFigures:
    model, cost, requests, inputs, outputs, cache_read, cache_write, reasoning, credits, characters = row
    return ModelFigures(
        model=str(model),
        cost_micro=int(cost or 0),
        requests=integer(requests),
        input_tokens=integer(inputs),
        output_tokens=integer(outputs),
        cache_read_tokens=integer(cache_read),
        cache_write_tokens=integer(cache_write),
        reasoning_tokens=integer(reasoning),
        credits_micro=integer(credits),
        characters=integer(characters),
    )


def _most_expensive_first(rows: Iterable[ModelFigures]) -> list[ModelFigures]:
    return sorted(rows, key=lambda r: (-r.cost_micro, r.model))


def models_by_day(source: ReadSource, integration_id: int, since: date, until: date) -> dict[date, list[ModelFigures]]:
    """Each day's models, most expensive first."""
    out: dict[date, list[ModelFigures]] = {}
    with source.reader() as read:
        for row in read.rows(
            "SELECT day, model, cost_micro, requests, input_tokens, output_tokens, cache_read_tokens, "
            "cache_write_tokens, reasoning_tokens, credits_micro, characters FROM dailymodelcost "
            "WHERE integration_id = ? AND day >= ? AND day <= ?",
            integration_id,
            since,
            until,
        ):
            out.setdefault(day(row[0]), []).append(_model(row[1:]))
    return {when: _most_expensive_first(rows) for when, rows in out.items()}


def model_breakdown(
    source: ReadSource, integration_ids: int | Iterable[int], since: date, until: date
) -> list[ModelFigures]:
    """Totals per model over the range, most expensive first."""
    ids = _ids(integration_ids)
    with source.reader() as read:
        rows = read.rows(
            f"SELECT model, SUM(cost_micro), {known_sum('requests')}, {known_sum('input_tokens')}, "
            f"{known_sum('output_tokens')}, {known_sum('cache_read_tokens')}, {known_sum('cache_write_tokens')}, "
            # credits and characters: NULL only where no row has any (a model without characters adds none)
            f"{known_sum('reasoning_tokens')}, SUM(credits_micro), SUM(characters) FROM dailymodelcost "
            f"WHERE integration_id IN ({marks(len(ids))}) AND day >= ? AND day <= ? GROUP BY model",
            *ids,
            since,
            until,
        )
    return _most_expensive_first(_model(row) for row in rows)


def model_costs(source: ReadSource, integration_ids: int | Iterable[int], since: date, until: date) -> dict[str, int]:
    """Each model's cost over the range (what a summary's top model needs, without the counts)."""
    ids = _ids(integration_ids)
    with source.reader() as read:
        rows = read.rows(
            f"SELECT model, SUM(cost_micro) FROM dailymodelcost "
            f"WHERE integration_id IN ({marks(len(ids))}) AND day >= ? AND day <= ? GROUP BY model",
            *ids,
            since,
            until,
        )
    return {str(model): int(cost or 0) for model, cost in rows}


def summed(costs: Iterable[dict[str, int]]) -> dict[str, int]:
    """Several integrations' model_costs as one (what model_costs gives for all of them together)."""
    total: dict[str, int] = {}
    for each in costs:
        for model, cost in each.items():
            total[model] = total.get(model, 0) + cost
    return total


def member_breakdown(
    source: ReadSource, integration_ids: int | Iterable[int], since: date, until: date
) -> list[MemberFigures]:
    """Totals per actor (member email, workspace, project) over the range, most expensive first."""
    ids = _ids(integration_ids)
    with source.reader() as read:
        rows = read.rows(
            f"SELECT email, SUM(cost_micro), {known_sum('requests')} FROM dailymembercost "
            f"WHERE integration_id IN ({marks(len(ids))}) AND day >= ? AND day <= ? GROUP BY email",
            *ids,
            since,
            until,
        )
    members = [
        MemberFigures(actor=str(actor), cost_micro=int(cost or 0), requests=integer(requests))
        for actor, cost, requests in rows
    ]
    return sorted(members, key=lambda r: (-r.cost_micro, r.actor))


# --------------------------------------------------------------------------- the period's summary


@dataclass(frozen=True, kw_only=True)
class _DayState:
    synced: bool  # every integration has the day
    complete: bool
    cost_micro: int
    some: bool = False  # at least one integration has it


_NOT_SYNCED = _DayState(synced=False, complete=False, cost_micro=0)


def _providers(read: Reader, ids: list[int]) -> list[str]:
    """The provider of each of these integrations (one entry per integration)."""
    return [str(p) for (p,) in read.rows(f"SELECT provider FROM integration WHERE id IN ({marks(len(ids))})", *ids)]


def _capabilities(names: list[str]) -> list[Capabilities]:
    """The capabilities of these providers (a provider this version does not know is left out)."""
    from grafient_tui import providers
    from grafient_tui.errors import GrafientError

    out: list[Capabilities] = []
    for name in names:
        try:
            out.append(providers.capabilities(name))
        except GrafientError:
            pass
    return out


def _day_states(
    read: Reader, ids: list[int], since: date, until: date, today: date, provider_names: list[str]
) -> dict[date, _DayState]:
    """day -> whether every integration in ids has it synced and complete, and their cost.

    Today is only expected from providers that report it (OpenRouter reports completed days only)."""
    result = [
        (day(stored_day), int(n), int(done or 0), int(cost or 0))
        for stored_day, n, done, cost in read.rows(
            "SELECT day, COUNT(*), SUM(CASE WHEN complete THEN 1 ELSE 0 END), SUM(cost_micro) FROM dailycost "
            f"WHERE integration_id IN ({marks(len(ids))}) AND day >= ? AND day <= ? GROUP BY day",
            *ids,
            since,
            until,
        )
    ]
    want = len(set(ids))
    states = {
        when: _DayState(synced=n == want, complete=done == want, cost_micro=cost, some=n > 0)
        for when, n, done, cost in result
    }
    if since <= today <= until:
        without_today = sum(1 for caps in _capabilities(provider_names) if not caps.has_today)
        n = next((n for when, n, _, _ in result if when == today), 0)
        cost = states[today].cost_micro if today in states else 0
        states[today] = _DayState(synced=n >= want - without_today, complete=False, cost_micro=cost, some=n > 0)
    return states


def period_summary(
    source: ReadSource,
    integration_ids: int | Iterable[int],
    *,
    days: int,
    until: date,
    today: date | None = None,
    costs: dict[str, int] | None = None,
) -> Summary:
    """The period of `days` UTC days ending `until`. `today` (default: `until`) marks the day that is
    not over yet: it is counted so far, never averaged, and left out of the change. `costs`: the
    period's model_costs of these integrations, when the caller has them already.

    The change compares the period's finished days with the same days one period earlier, so a
    partial today never tilts it, and is given only when both sides are synced and complete."""
    ids = _ids(integration_ids)
    today = until if today is None else today
    since = until - timedelta(days=days - 1)
    finished = [d for d in days_between(since, until) if d < today]
    previous = [d - timedelta(days=days) for d in finished]
    with source.reader() as read:
        provider_names = _providers(read, ids)
        states = _day_states(read, ids, since - timedelta(days=days), until, today, provider_names)
        sums = read.one(
            "SELECT SUM(cost_micro), SUM(on_demand_micro), SUM(included_micro), SUM(requests), "
            "SUM(CASE WHEN requests IS NULL THEN 1 ELSE 0 END), SUM(byok_micro), COUNT(*) FROM dailycost "
            f"WHERE integration_id IN ({marks(len(ids))}) AND day >= ? AND day <= ?",
            *ids,
            since,
            until,
        )
        if costs is None:
            costs = model_costs(read, ids, since, until)
    assert sums is not None  # an aggregate without GROUP BY always has its one row
    total, on_demand, included, requests, unknown_requests, byok, rows = sums
    if not rows:  # nothing stored yet: zero where these providers count the figure, else unknown
        caps = _capabilities(provider_names)
        split = any(c.has_on_demand for c in caps) or not caps
        counted = any(c.has_requests for c in caps) or not caps
        on_demand = included = 0 if split else None
        requests = 0 if counted else None
    top = min(costs.items(), key=lambda item: (-item[1], item[0]), default=None)  # as model_breakdown orders
    in_range = [states.get(d, _NOT_SYNCED) for d in days_between(since, until)]
    complete = [s for s in in_range if s.complete]
    change_pct, change_note = _change(states, finished, previous)
    return Summary(
        since=since,
        until=until,
        days=days,
        synced_days=sum(1 for s in in_range if s.synced),
        complete_days=len(complete),
        # counted in the total as soon as any team has it, so marked as soon as any team has it
        today_partial=since <= today <= until and states.get(today, _NOT_SYNCED).some,
        total_micro=int(total or 0),
        on_demand_micro=integer(on_demand),
        included_micro=integer(included),
        requests=integer(requests),
        requests_partial=bool(unknown_requests) and requests is not None,
        byok_micro=integer(byok),
        daily_average_micro=_round_div(sum(s.cost_micro for s in complete), len(complete)) if complete else None,
        top_model=top[0] if top and top[1] > 0 else None,
        top_model_micro=top[1] if top else 0,
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

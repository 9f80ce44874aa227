"""Reads for reports and screens, into the read model (grafient_tui.figures). Every figure comes
from the stored daily rows, aggregated in SQL where SQL can (store/read.py: plain DB-API reads, the
same SQL on SQLite and PostgreSQL).

Each query takes a ReadSource: a Reader, read in its transaction (a report or a screen reads all its
figures in one), or a Database, which lends one for the query. Money stays integer micro-cents here;
grafient_tui.money converts it, only for output. Text is ordered in Python, never by the database's
collation, so both databases order alike.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from grafient_tui.budgets.forecast import FORECAST_WINDOW_DAYS, forecast
from grafient_tui.errors import NotFound, StoreError
from grafient_tui.estimates import basis_for
from grafient_tui.figures import (
    DayFigures,
    Forecast,
    IntegrationInfo,
    MemberFigures,
    MemberLimit,
    ModelAcross,
    ModelFigures,
    Summary,
    SyncStatus,
)
from grafient_tui.model_keys import by_key, model_key
from grafient_tui.secret import KEY_IN_ARGV, looks_like_key
from grafient_tui.store.accounts import stored_account
from grafient_tui.store.labels import MAX_ID, label_key
from grafient_tui.store.read import (
    MODELS_WITH_DAYS,
    Reader,
    ReadSource,
    day,
    flag,
    integer,
    marks,
    maybe_day,
    model_figures,
    moment,
    reported_sum,
    reports_selected,
)
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


def daily_costs(
    source: ReadSource, integration_id: int, since: date, until: date, today: date | None = None
) -> list[DayFigures]:
    """One row per UTC day of [since, until], including days never synced, each saying why (`gap`:
    a day its provider has not reported yet is not a day never synced). `today` defaults to `until`."""
    today = until if today is None else today
    with source.reader() as read:
        part = next(iter(integration_parts(read, [integration_id])), None)
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
    units_known = _has_request_units(source, integration_id)
    out = []
    for when in days_between(since, until):
        row = stored.get(when)
        if row is None or (part is not None and not part.kept(when)):
            out.append(DayFigures(day=when, synced=False, complete=False, gap=_gap(part, when, today)))
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
                request_units_micro=int(units) if units_known else None,
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


def _gap(part: IntegrationPart | None, when: date, today: date) -> str:
    """Why a day is not stored: its provider cannot have it yet (or any more), or it was never synced."""
    if part is not None and part.before_history(when):
        from grafient_tui import providers

        return f"before {providers.title(part.provider)}'s history (from {part.history_from})"
    if part is None or part.can_have(when, today):
        return "never synced"
    if when >= today:
        return "not reported yet"
    return f"older than {part.history_words(today)}"


def _has_request_units(source: ReadSource, integration_id: int) -> bool:
    """Whether the integration's provider gives request units (Cursor); elsewhere they are unknown, not 0."""
    from grafient_tui import providers
    from grafient_tui.errors import GrafientError

    with source.reader() as read:
        row = read.one("SELECT provider FROM integration WHERE id = ?", integration_id)
    try:
        return row is not None and providers.capabilities(str(row[0])).has_request_units
    except GrafientError:  # a provider this version does not know: what it stored is shown
        return True


def _most_expensive_first(rows: Iterable[ModelFigures]) -> list[ModelFigures]:
    return sorted(rows, key=lambda r: (-r.cost_micro, r.model))


def models_by_day(source: ReadSource, integration_id: int, since: date, until: date) -> dict[date, list[ModelFigures]]:
    """Each day's models, most expensive first."""
    out: dict[date, list[ModelFigures]] = {}
    with source.reader() as read:
        for row in read.rows(
            "SELECT day, model, cost_micro, requests, input_tokens, output_tokens, cache_read_tokens, "
            "cache_write_tokens, reasoning_tokens, credits_micro, characters, on_demand_micro FROM dailymodelcost "
            "WHERE integration_id = ? AND day >= ? AND day <= ?",
            integration_id,
            since,
            until,
        ):
            out.setdefault(day(row[0]), []).append(model_figures(row[1:]))
    return {when: _most_expensive_first(rows) for when, rows in out.items()}


def model_breakdown(
    source: ReadSource, integration_ids: int | Iterable[int], since: date, until: date
) -> list[ModelFigures]:
    """Totals per model over the range, most expensive first."""
    ids = _ids(integration_ids)
    with source.reader() as read:
        rows = read.rows(
            f"SELECT m.model, SUM(m.cost_micro), {reported_sum('requests')}, {reported_sum('input_tokens')}, "
            f"{reported_sum('output_tokens')}, {reported_sum('cache_read_tokens')}, "
            f"{reported_sum('cache_write_tokens')}, {reported_sum('reasoning_tokens')}, "
            # credits and characters: NULL only where no row has any (a model without characters adds none)
            f"SUM(m.credits_micro), SUM(m.characters), {known_sum('m.on_demand_micro')}, {reports_selected()} "
            f"FROM {MODELS_WITH_DAYS} "
            f"WHERE m.integration_id IN ({marks(len(ids))}) AND m.day >= ? AND m.day <= ? GROUP BY m.model",
            *ids,
            since,
            until,
        )
    return _most_expensive_first(model_figures(row) for row in rows)


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


def models_across(
    source: ReadSource, integration_ids: int | Iterable[int], since: date, until: date
) -> list[ModelAcross]:
    """Totals per model key over several integrations (one model under Cursor's, Anthropic's and
    OpenRouter's names is one row), most expensive first, each naming the raw names and providers.

    Billed per model: a covered provider's on-demand part (`billed_micro`), unknown when any of its
    days was stored before the part was kept per model (NULL: a period mixing such days and newer
    ones is unknown, never a partial sum); every other provider's cost.

    A count sums the parts that report it (a raw name whose lines never count tokens adds nothing, as
    its own row says n/a); none reporting it: not reported (the ModelAcross's flag), None."""
    ids = _ids(integration_ids)
    with source.reader() as read:
        rows = read.rows(
            f"SELECT i.provider, m.model, SUM(m.cost_micro), {reported_sum('requests')}, "
            f"{reported_sum('input_tokens')}, {reported_sum('output_tokens')}, {known_sum('m.on_demand_micro')}, "
            f"{reports_selected()} FROM {MODELS_WITH_DAYS} JOIN integration AS i ON i.id = m.integration_id "
            f"WHERE m.integration_id IN ({marks(len(ids))}) AND m.day >= ? AND m.day <= ? GROUP BY i.provider, m.model",
            *ids,
            since,
            until,
        )
    groups: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        groups.setdefault(model_key(str(row[1])), []).append(row)

    def known(values: list[Any]) -> int | None:
        return None if any(v is None for v in values) else sum(int(v) for v in values)

    def reported(group: list[tuple[Any, ...]], value: int, reports: int) -> int | None:
        parts = [r[value] for r in group if flag(r[reports])]
        return known(parts) if parts else None

    out = [
        ModelAcross(
            key=key,
            names=tuple(sorted({str(r[1]) for r in group})),
            providers=tuple(sorted({str(r[0]) for r in group})),
            cost_micro=sum(int(r[2] or 0) for r in group),
            requests=reported(group, 3, 7),
            input_tokens=reported(group, 4, 8),
            output_tokens=reported(group, 5, 8),
            billed_micro=known([model_billed(str(r[0]), int(r[2] or 0), integer(r[6])) for r in group]),
            reports_requests=any(flag(r[7]) for r in group),
            reports_tokens=any(flag(r[8]) for r in group),
        )
        for key, group in groups.items()
    ]
    return sorted(out, key=lambda m: (-m.cost_micro, m.key))


def model_billed(provider: str, cost_micro: int, on_demand_micro: int | None) -> int | None:
    """What invoices charge for a model's cost of `provider` over a range: its on-demand part where a
    plan or credits cover the rest (None: a day of it stored before that part was kept per model),
    else all of it. A provider this version does not know: unknown, no claim about its bill."""
    from grafient_tui import providers
    from grafient_tui.errors import GrafientError

    try:
        covered = providers.capabilities(provider).covered_by is not None
    except GrafientError:
        return None
    return on_demand_micro if covered else cost_micro


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
class IntegrationPart:
    """One integration of a summary, and what it can have: its provider reports today or not, keeps so
    many days, or nothing before an edge it answered with."""

    integration_id: int
    label: str
    provider: str
    caps: Capabilities | None  # None: a provider this version does not know (it can have every day)
    history_limit: date | None  # the provider keeps nothing older (learnt from a refused window)
    # The earliest day the provider ever returned usage for, and the earliest day a sync stored. A day
    # between them was read and came back empty, which no provider can tell from a day it does not keep
    # (a Gemini export's days before it was enabled): "nothing kept", never a $0 day, for every provider
    # (as the chart and the anomalies say). A day never read stays "never synced".
    history_from: date | None = None
    fetched_from: date | None = None

    def earliest(self, today: date) -> date | None:
        """The first day it can have, or None when the plan alone decides."""
        keeps = self.caps.keeps_days if self.caps else None
        edges = [e for e in (self.history_limit, today - timedelta(days=keeps) if keeps else None) if e]
        return max(edges) if edges else None

    def before_history(self, when: date) -> bool:
        """A day a sync read before the earliest day the provider returned usage for."""
        if self.history_from is None or self.fetched_from is None:
            return False
        return self.fetched_from <= when < self.history_from

    def kept(self, when: date) -> bool:
        """A stored day that counts: not one read before the provider's first usage."""
        return not self.before_history(when)

    def history_from_words(self) -> str:
        """`Google Gemini has no usage before 2026-11-01`."""
        from grafient_tui import providers

        return f"{providers.title(self.provider)} has no usage before {self.history_from}"

    def can_have(self, when: date, today: date) -> bool:
        if when > today or (when == today and self.caps is not None and not self.caps.has_today):
            return False
        if self.before_history(when):
            return False
        earliest = self.earliest(today)
        return earliest is None or when >= earliest

    @property
    def billed_is_on_demand(self) -> bool:
        return bool(self.caps and self.caps.covered_by)

    @property
    def split(self) -> bool:
        return self.caps is None or self.caps.has_on_demand

    def history_words(self, today: date) -> str:
        """`OpenRouter keeps 30 days`, or `keeps nothing before 2026-01-05`."""
        from grafient_tui import providers

        keeps = self.caps.keeps_days if self.caps else None
        earliest = self.earliest(today)
        if keeps and earliest == today - timedelta(days=keeps):
            return f"{providers.title(self.provider)} keeps {keeps} days"
        return f"{providers.title(self.provider)} keeps nothing before {earliest}"


@dataclass(frozen=True, kw_only=True)
class _Day:
    synced: bool
    complete: bool
    cost_micro: int


def integration_parts(read: Reader, ids: list[int]) -> list[IntegrationPart]:
    """Each of these integrations with what it can have (IntegrationPart), by id."""
    from grafient_tui import providers
    from grafient_tui.errors import GrafientError

    out = []
    fetched = {
        int(iid): maybe_day(first)
        for iid, first in read.rows(
            f"SELECT integration_id, MIN(day) FROM dailycost WHERE integration_id IN ({marks(len(ids))}) "
            "GROUP BY integration_id",
            *ids,
        )
    }
    for iid, label, provider, limit, history_from in read.rows(
        f"SELECT id, label, provider, history_limit, history_from FROM integration WHERE id IN ({marks(len(ids))}) "
        "ORDER BY id",
        *ids,
    ):
        try:
            caps: Capabilities | None = providers.capabilities(str(provider))
        except GrafientError:
            caps = None
        out.append(
            IntegrationPart(
                integration_id=int(iid),
                label=str(label),
                provider=str(provider),
                caps=caps,
                history_limit=maybe_day(limit),
                history_from=maybe_day(history_from),
                fetched_from=fetched.get(int(iid)),
            )
        )
    return out


def _stored_days(read: Reader, parts: list[IntegrationPart], since: date, until: date) -> dict[int, dict[date, _Day]]:
    """Each integration's stored days of [since, until]: synced, complete, and the cost; none before
    the earliest day its provider returned usage for (IntegrationPart.kept)."""
    ids = [p.integration_id for p in parts]
    by_id = {p.integration_id: p for p in parts}
    out: dict[int, dict[date, _Day]] = {iid: {} for iid in ids}
    for iid, stored_day, complete, cost in read.rows(
        "SELECT integration_id, day, complete, cost_micro FROM dailycost "
        f"WHERE integration_id IN ({marks(len(ids))}) AND day >= ? AND day <= ?",
        *ids,
        since,
        until,
    ):
        when = day(stored_day)
        if by_id[int(iid)].kept(when):
            out.setdefault(int(iid), {})[when] = _Day(synced=True, complete=flag(complete), cost_micro=int(cost))
    return out


def period_summary(
    source: ReadSource,
    integration_ids: int | Iterable[int],
    *,
    days: int,
    until: date,
    today: date | None = None,
    costs: dict[str, int] | None = None,
    plan: str | None = None,
    previous: tuple[date, date] | None = None,
    forecast_until: date | None = None,
) -> Summary:
    """The period of `days` UTC days ending `until`. `today` (default: `until`) marks the day that is
    not over yet: it is counted so far, never averaged, and left out of the change. `costs`: the
    period's model_costs of these integrations, when the caller has them already. `plan`: the plan
    syncs follow, to say when a change is missing because it keeps too little history.

    Each integration is judged against what it can have (see IntegrationPart): a day counts as synced when
    every integration that can have it has it. The daily average is the sum of each integration's
    average over its own complete days; the change compares the period's finished days with the
    same days one period earlier over the integrations that can have both periods (naming those it
    leaves out), and is given only when those have both synced and complete.

    `previous` (first, last): the span the change compares with, when not the `days` just before (a
    calendar month's month before: spans.py); a span not over yet compares its finished days with
    as many days from the start of `previous`. `forecast_until`: the last day of a month so far,
    whose spend at its end is forecast as budgets forecast it."""
    ids = _ids(integration_ids)
    today = until if today is None else today
    since = until - timedelta(days=days - 1)
    in_range = days_between(since, until)
    current = [d for d in in_range if d < today]
    if previous is None:
        earlier = [d - timedelta(days=days) for d in current]
    elif until < today:  # a whole period against the whole one before it
        earlier = days_between(*previous)
    else:
        earlier = [d for d in (previous[0] + (d - since) for d in current) if d <= previous[1]]
    first = min([since, *earlier, today - timedelta(days=FORECAST_WINDOW_DAYS)])
    with source.reader() as read:
        parts = integration_parts(read, ids)
        stored = _stored_days(read, parts, first, until)
        sums = {
            int(row[0]): row[1:]
            for row in read.rows(
                "SELECT integration_id, SUM(cost_micro), SUM(on_demand_micro), SUM(included_micro), SUM(requests), "
                "SUM(CASE WHEN requests IS NULL THEN 1 ELSE 0 END), SUM(byok_micro), COUNT(*) FROM dailycost "
                f"WHERE integration_id IN ({marks(len(ids))}) AND day >= ? AND day <= ? GROUP BY integration_id",
                *ids,
                since,
                until,
            )
        }
        if costs is None:
            costs = model_costs(read, ids, since, until)
    # An integration counts only over the days it has synced: one with no synced day of the period is
    # left out of every sum (and named); with none left, every amount is unknown, never $0.
    with_days = [p for p in parts if any(since <= d <= until for d in stored.get(p.integration_id, {}))]
    totals = _Totals.of(with_days, sums) if with_days else _Totals.unknown(parts)
    expected = [d for d in in_range if any(p.can_have(d, today) for p in parts)] if parts else in_range
    # No integration: no day is synced (not every day of the period, as "all of none have it" would say).
    synced = [d for d in expected if parts and _all_have(parts, stored, d, today, complete=False)]
    complete = [d for d in expected if parts and _all_have(parts, stored, d, today, complete=True)]
    # One model under several names (a dated alias, another provider's spelling) is one model here.
    top = min(by_key(costs).items(), key=lambda item: (-item[1], item[0]), default=None)
    change = _change(parts, stored, current, earlier, today, plan)
    month_end = _forecast(parts, stored, since, today, forecast_until) if forecast_until else None
    return Summary(
        since=since,
        until=until,
        days=days,
        synced_days=len(synced),
        complete_days=len(complete),
        # counted in the total as soon as any team has it, so marked as soon as any team has it
        today_partial=since <= today <= until and any(today in stored.get(p.integration_id, {}) for p in parts),
        total_micro=totals.cost,
        on_demand_micro=totals.on_demand,
        included_micro=totals.included,
        requests=totals.requests,
        requests_partial=totals.requests_partial,
        byok_micro=totals.byok,
        daily_average_micro=_average(parts, stored, in_range, today),
        top_model=top[0] if top and top[1] > 0 else None,
        top_model_micro=top[1] if top else 0,
        change_pct=change.pct,
        change_note=change.note,
        billed_micro=totals.billed,
        split_labels=totals.split_labels,
        expected_days=len(expected),
        limits=_limits(parts, since, until, today),
        plan_limited=change.plan_limited,
        left_out=change.left_out,
        forecast_micro=month_end.micro if month_end else None,
        forecast_note=month_end.note if month_end else None,
        unsynced=tuple(p.label for p in parts if p not in with_days),
    )


def _forecast(
    parts: list[IntegrationPart], stored: dict[int, dict[date, _Day]], since: date, today: date, end: date
) -> Forecast:
    """A month so far at its end, as a budget's forecast works it out (budgets/forecast.py): spend
    through yesterday + the average complete day of the 14 before today x the days left."""
    yesterday = today - timedelta(days=1)

    def spent(first: date, last: date) -> int:
        return sum(
            day.cost_micro for p in parts for d, day in stored.get(p.integration_id, {}).items() if first <= d <= last
        )

    window = days_between(today - timedelta(days=FORECAST_WINDOW_DAYS), yesterday)
    complete = [
        sum(stored[p.integration_id][d].cost_micro for p in parts if d in stored.get(p.integration_id, {}))
        for d in window
        if parts and _all_have(parts, stored, d, today, complete=True) and any(p.can_have(d, today) for p in parts)
    ]
    return forecast(
        spent_through_yesterday=spent(since, yesterday),
        spent=spent(since, today),
        complete_day_costs=complete,
        days_left=(end - today).days + 1,
    )


@dataclass(frozen=True, kw_only=True)
class _Totals:
    cost: int | None  # None: no integration has a synced day of the range
    billed: int | None
    on_demand: int | None
    included: int | None
    split_labels: tuple[str, ...]
    requests: int | None
    requests_partial: bool
    byok: int | None

    @staticmethod
    def unknown(parts: list[IntegrationPart]) -> _Totals:
        """No integration has a synced day: every amount and count unknown (the split still says whose it
        would be)."""
        return _Totals(
            cost=None,
            billed=None,
            on_demand=None,
            included=None,
            split_labels=tuple(part.label for part in parts if part.split),
            requests=None,
            requests_partial=False,
            byok=None,
        )

    @staticmethod
    def of(parts: list[IntegrationPart], sums: dict[int, tuple[Any, ...]]) -> _Totals:
        """The range's sums over every integration: its billed part by its provider's rule, the
        on-demand / included split of those that have one, and a request count where one is given."""
        cost = billed = on_demand = included = requests = byok = 0
        unknown_requests = rows = 0
        split_labels = []
        counted = byok_known = False
        for part in parts:
            i_cost, i_on_demand, i_included, i_requests, i_unknown, i_byok, i_rows = sums.get(
                part.integration_id, (0, None, None, None, 0, None, 0)
            )
            cost += int(i_cost or 0)
            billed += int(i_on_demand or 0) if part.billed_is_on_demand else int(i_cost or 0)
            if part.split:
                split_labels.append(part.label)
                on_demand += int(i_on_demand or 0)
                included += int(i_included or 0)
            rows += int(i_rows or 0)
            unknown_requests += int(i_unknown or 0)
            if i_requests is not None or (not i_rows and (part.caps is None or part.caps.has_requests)):
                counted = True
                requests += int(i_requests or 0)
            if i_byok is not None:
                byok_known = True
                byok += int(i_byok)
        return _Totals(
            cost=cost,
            billed=billed,
            on_demand=on_demand if split_labels or not parts else None,
            included=included if split_labels or not parts else None,
            split_labels=tuple(split_labels),
            requests=requests if counted or not parts else None,
            requests_partial=bool(unknown_requests) and counted,
            byok=byok if byok_known else None,
        )


def _all_have(
    parts: list[IntegrationPart], stored: dict[int, dict[date, _Day]], when: date, today: date, *, complete: bool
) -> bool:
    """Every integration that can have the day has it (synced, or complete); True for none."""
    for part in parts:
        if not part.can_have(when, today):
            continue
        got = stored.get(part.integration_id, {}).get(when)
        if got is None or (complete and not got.complete):
            return False
    return True


def _average(
    parts: list[IntegrationPart], stored: dict[int, dict[date, _Day]], in_range: list[date], today: date
) -> int | None:
    """The sum of each integration's average over its own complete days of the range, rounded once;
    None when one that can have a day of the range has no complete one (its part would be a guess)."""
    total = Fraction(0)
    known = False
    for part in parts:
        mine = stored.get(part.integration_id, {})
        costs = [mine[d].cost_micro for d in in_range if d in mine and mine[d].complete]
        if not costs:
            if any(part.can_have(d, today) and d < today for d in in_range):
                return None
            continue
        total += Fraction(sum(costs), len(costs))
        known = True
    if not known:
        return None
    return _round_div(total.numerator, total.denominator)


def _limits(parts: list[IntegrationPart], since: date, until: date, today: date) -> tuple[str, ...]:
    """What the integrations cannot have in [since, until], in words: `OpenRouter keeps 30 days`,
    `today not reported yet` (`Router: today not reported yet` among several)."""
    out: list[str] = []
    for part in parts:
        earliest = part.earliest(today)
        if earliest is not None and earliest > since:
            words = part.history_words(today)
            if words not in out:
                out.append(words)
        if any(part.before_history(d) for d in days_between(since, min(until, today))):
            words = part.history_from_words()
            if words not in out:
                out.append(words)
    if since <= today <= until:
        out.extend(
            "today not reported yet" if len(parts) == 1 else f"{part.label}: today not reported yet"
            for part in parts
            if part.caps is not None and not part.caps.has_today
        )
    return tuple(out)


@dataclass(frozen=True, kw_only=True)
class _Change:
    pct: float | None
    note: str | None  # why there is none, or what it leaves out
    plan_limited: bool = False
    left_out: tuple[str, ...] = ()  # the labels of the integrations left out


def _change(
    parts: list[IntegrationPart],
    stored: dict[int, dict[date, _Day]],
    current: list[date],
    previous: list[date],
    today: date,
    plan: str | None,
) -> _Change:
    """The change in percent over the integrations that can have both periods, and a few words: why
    there is none, or which integrations it leaves out and why."""
    if not current:
        return _Change(pct=None, note="no finished day in this period yet")
    both = current + previous
    counted = [p for p in parts if all(p.can_have(d, today) for d in both)] if parts else []
    left_out = [f"{p.label} left out: {_keeps(p, today, both)}" for p in parts if p not in counted]
    scope = "; ".join(left_out) or None
    labels = tuple(p.label for p in parts if p not in counted)
    if parts and not counted:
        return _Change(pct=None, note=scope, left_out=labels)
    for name, period in (("this period", current), ("previous period", previous)):
        synced = sum(1 for d in period if _all_have(counted, stored, d, today, complete=False))
        if synced < len(period):
            short = _plan_short(counted, stored, period, today, plan)
            note = f"{name} {synced}/{len(period)} days synced"
            if short:
                note += f": {short}"
            return _Change(pct=None, note=note, plan_limited=bool(short))
        final = sum(1 for d in period if _all_have(counted, stored, d, today, complete=True))
        if final < len(period):
            return _Change(pct=None, note=f"{name} {final}/{len(period)} days final")
    current_micro = sum(stored[p.integration_id][d].cost_micro for p in counted for d in current)
    previous_micro = sum(stored[p.integration_id][d].cost_micro for p in counted for d in previous)
    if previous_micro == 0:
        return _Change(pct=None, note="no spend in the previous period")
    return _Change(pct=(current_micro - previous_micro) * 100.0 / previous_micro, note=scope, left_out=labels)


def _keeps(part: IntegrationPart, today: date, days: Collection[date] = ()) -> str:
    """`keeps 30 days` (`OpenRouter keeps 30 days` when the label is not the provider's name); `has no
    usage before 2026-11-01` when some of `days` were read before its first usage."""
    from grafient_tui import providers

    before = any(part.before_history(d) for d in days)
    words = part.history_from_words() if before else part.history_words(today)
    title = providers.title(part.provider)
    return words[len(title) + 1 :] if part.label.casefold() == title.casefold() else words


def plan_days(caps: Capabilities | None, plan: str) -> int:
    """The days a plan lets a sync keep of a provider, read without loading it: the free plan's 30,
    else the provider's deepest history (what its Limits.history_for says; a test holds them equal)."""
    from grafient_tui.config import DEFAULT_PLAN, PLANS

    if plan == DEFAULT_PLAN or caps is None or caps.keeps_days is None:
        return PLANS.get(plan, PLANS[DEFAULT_PLAN])
    return caps.keeps_days


def _plan_short(
    parts: list[IntegrationPart], stored: dict[int, dict[date, _Day]], period: list[date], today: date, plan: str | None
) -> str | None:
    """`the free plan keeps 30 days` when a missing day is older than the plan lets a sync fetch."""
    if plan is None:
        return None
    for part in parts:
        keeps = plan_days(part.caps, plan)
        deepest = part.caps.keeps_days if part.caps else None
        if deepest is not None and keeps >= deepest:
            continue  # no plan keeps more of this provider
        start = today - timedelta(days=keeps)
        mine = stored.get(part.integration_id, {})
        if any(d < start and d not in mine for d in period):
            return f"the {plan} plan keeps {keeps} days"
    return None


def _round_div(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half-even, exactly."""
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2):
        quotient += 1
    return quotient


def _ids(integration_ids: int | Iterable[int]) -> list[int]:
    return [integration_ids] if isinstance(integration_ids, int) else list(integration_ids)

"""The first rows of a detail table in every order it offers, and every row's totals, from the database.

An integration may hold 150,000 members or models over a period (a provider may send 50,000 a window):
the app draws a few hundred and sums the rest in one row (grafient_tui/tops.py), so these ask the
database for exactly that: the groups are summed once and ranked in every order by a window function
(ROW_NUMBER() per order), and only the rows among the first of some order come back, never every
group one by one. Plain reads (store/read.py), the same SQL on SQLite and PostgreSQL.

The orders are the ones the screens promise, and the same on both databases: text by code point
(SQLite's BINARY, PostgreSQL's "C" collation: UTF-8 byte order is code point order), names with case
ignored for ASCII letters only (SQLite's lower() lowers those alone; PostgreSQL's does so under "C"),
ties by cost (the biggest first), then by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from grafient_tui.figures import MemberFigures, ModelFigures
from grafient_tui.store.read import (
    MODELS_WITH_DAYS,
    Reader,
    ReadSource,
    integer,
    marks,
    model_figures,
    reported_sum,
    reports_selected,
)
from grafient_tui.tops import (
    MEMBER_SORTS,
    MODEL_MEASURES,
    MODEL_ORDERS,
    MODEL_SORT_KEYS,
    REPORTED_BY,
    UNITS,
    MemberTotals,
    ModelTotals,
)

NAME_BATCH = 500  # names per IN (...) when asking which of a list have spend
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _ids(integration_ids: int | Iterable[int]) -> list[int]:
    return [integration_ids] if isinstance(integration_ids, int) else list(integration_ids)


def _code_points(read: Reader, column: str) -> str:
    return f'{column} COLLATE "C"' if read.postgres else f"{column} COLLATE BINARY"


def _ascii_lower(read: Reader, column: str) -> str:
    return f'lower({column} COLLATE "C")' if read.postgres else f"lower({column})"


def _known_sum(column: str) -> str:
    """SUM over a group that is NULL (unknown) when any row of the group is."""
    return f"CASE WHEN COUNT({column}) = COUNT(*) THEN SUM({column}) END"


def _count(value: Any) -> int:
    return int(value or 0)


def _first_rows(
    read: Reader, groups: str, params: list[object], columns: list[str], orders: Mapping[Any, str], limit: int
) -> dict[Any, list[tuple[Any, ...]]]:
    """The first `limit` rows of `columns` of the subquery `groups` in each of `orders` (each an ORDER
    BY list over the groups' columns), in one query: only the rows among the first of some order come
    back, each with its rank in every order."""
    labels = list(orders)
    ranks = ", ".join(f"ROW_NUMBER() OVER (ORDER BY {orders[label]}) AS rank_{i}" for i, label in enumerate(labels))
    wanted = " OR ".join(f"rank_{i} <= ?" for i in range(len(labels)))
    sql = f"SELECT * FROM (SELECT {', '.join(columns)}, {ranks} FROM ({groups}) AS g) AS ranked WHERE {wanted}"
    width = len(columns)
    pages: dict[Any, list[tuple[int, tuple[Any, ...]]]] = {label: [] for label in labels}
    for row in read.rows(sql, *params, *([limit] * len(labels))):
        values = row[:width]
        for label, rank in zip(labels, row[width:], strict=True):
            if int(rank) <= limit:
                pages[label].append((int(rank), values))
    return {label: [values for _, values in sorted(page, key=lambda p: p[0])] for label, page in pages.items()}


# --------------------------------------------------------------------------- members


def _member_groups(ids: list[int]) -> str:
    return (
        f"SELECT email, SUM(cost_micro) AS cost, {_known_sum('requests')} AS requests FROM dailymembercost "
        f"WHERE integration_id IN ({marks(len(ids))}) AND day >= ? AND day <= ? GROUP BY email"
    )


def member_totals(source: ReadSource, integration_ids: int | Iterable[int], since: date, until: date) -> MemberTotals:
    """How many members the range has and their totals, without reading them one by one."""
    ids = _ids(integration_ids)
    with source.reader() as read:
        row = read.one(
            "SELECT COUNT(*), SUM(cost), SUM(requests), SUM(CASE WHEN requests IS NULL THEN 1 ELSE 0 END) "
            f"FROM ({_member_groups(ids)}) AS g",
            *ids,
            since,
            until,
        )
    count, cost, known, unknown = row or (0, 0, 0, 0)
    return MemberTotals(
        members=_count(count), cost_micro=_count(cost), known_requests=_count(known), unknown_requests=_count(unknown)
    )


def _member_order(read: Reader, sort: str) -> str:
    name = _code_points(read, "email")
    if sort == "name":
        return f"{_ascii_lower(read, 'email')}, {name}"
    if sort == "requests":
        return f"(requests IS NULL), requests DESC, cost DESC, {name}"
    if sort == "cost":
        return f"cost DESC, {name}"
    raise ValueError(f"no member sort {sort!r}")


def member_pages(
    source: ReadSource,
    integration_ids: int | Iterable[int],
    since: date,
    until: date,
    sorts: Iterable[str] = MEMBER_SORTS,
    *,
    limit: int,
) -> dict[str, list[MemberFigures]]:
    """The first `limit` members of the range in each sort order: cost (the biggest first), name (case
    ignored for ASCII letters, then by code point) or requests (the most first, unknown last)."""
    ids = _ids(integration_ids)
    with source.reader() as read:
        orders = {sort: _member_order(read, sort) for sort in sorts}
        pages = _first_rows(
            read, _member_groups(ids), [*ids, since, until], ["email", "cost", "requests"], orders, limit
        )
    return {
        sort: [MemberFigures(actor=str(e), cost_micro=_count(c), requests=integer(r)) for e, c, r in rows]
        for sort, rows in pages.items()
    }


def members_among(
    source: ReadSource, integration_ids: int | Iterable[int], since: date, until: date, names: Iterable[str]
) -> set[str]:
    """Which of `names` have spend in the range, case ignored as the screens ignore it (casefolded;
    the database is asked with ASCII letters lowered, the same on both)."""
    ids = _ids(integration_ids)
    wanted = {name.casefold() for name in names}
    asked = sorted({name.translate(_ASCII_LOWER) for name in names} | {name.translate(_ASCII_LOWER) for name in wanted})
    found: set[str] = set()
    with source.reader() as read:
        lowered = _ascii_lower(read, "email")
        for start in range(0, len(asked), NAME_BATCH):
            batch = asked[start : start + NAME_BATCH]
            rows = read.rows(
                f"SELECT DISTINCT email FROM dailymembercost WHERE integration_id IN ({marks(len(ids))}) "
                f"AND day >= ? AND day <= ? AND {lowered} IN ({marks(len(batch))})",
                *ids,
                since,
                until,
                *batch,
            )
            found.update(str(email).casefold() for (email,) in rows if str(email).casefold() in wanted)
    return found


# --------------------------------------------------------------------------- models


def _model_groups(ids: list[int]) -> str:
    figures = ", ".join(
        f"{'SUM(m.' + m + ')' if m in UNITS else reported_sum(m)} AS {m}"
        for m in MODEL_MEASURES  # our own column names, never text from outside
    )
    # the billed part (unknown where a day of it was stored before it was kept per model), and whether
    # the model reports its requests and tokens at all (a NULL it does not report is not an unknown)
    return (
        f"SELECT m.model AS model, SUM(m.cost_micro) AS cost, {figures}, {_known_sum('m.on_demand_micro')} "
        f"AS on_demand, {reports_selected()} FROM {MODELS_WITH_DAYS} "
        f"WHERE m.integration_id IN ({marks(len(ids))}) AND m.day >= ? AND m.day <= ? GROUP BY m.model"
    )


MODEL_COLUMNS = ["model", "cost", *MODEL_MEASURES, "on_demand", "reports_requests", "reports_tokens"]


def _unknown(measure: str) -> str:
    """A model whose `measure` is unknown: NULL, and (for a count some models do not report) reported."""
    flag = REPORTED_BY.get(measure)
    return f"{measure} IS NULL" + (f" AND {flag} = 1" if flag else "")


def model_totals(source: ReadSource, integration_ids: int | Iterable[int], since: date, until: date) -> ModelTotals:
    """How many models the range has and their totals, without reading them one by one."""
    ids = _ids(integration_ids)
    sums = ", ".join(f"SUM({m}), SUM(CASE WHEN {_unknown(m)} THEN 1 ELSE 0 END)" for m in MODEL_MEASURES)
    flags = "SUM(CASE WHEN reports_requests = 0 THEN 1 ELSE 0 END), SUM(CASE WHEN reports_tokens = 0 THEN 1 ELSE 0 END)"
    billed = "SUM(on_demand), SUM(CASE WHEN on_demand IS NULL THEN 1 ELSE 0 END)"
    with source.reader() as read:
        row = read.one(
            f"SELECT COUNT(*), SUM(cost), {sums}, {flags}, {billed} FROM ({_model_groups(ids)}) AS g",
            *ids,
            since,
            until,
        )
    count, cost, *figures = row or (0, 0, *([0] * (2 * len(MODEL_MEASURES) + 4)))
    known = {m: _count(figures[2 * i]) for i, m in enumerate(MODEL_MEASURES)}
    unknown = {m: _count(figures[2 * i + 1]) for i, m in enumerate(MODEL_MEASURES)}
    no_requests, no_tokens, on_demand, unknown_on_demand = figures[2 * len(MODEL_MEASURES) :]
    return ModelTotals(
        models=_count(count),
        cost_micro=_count(cost),
        known=known,
        unknown=unknown,
        unreported={"reports_requests": _count(no_requests), "reports_tokens": _count(no_tokens)},
        on_demand_micro=_count(on_demand),
        unknown_on_demand=_count(unknown_on_demand),
    )


def _model_order(read: Reader, key: str, descending: bool) -> str:
    name = _code_points(read, "model")
    if key == "model":
        return f"{name} DESC" if descending else name
    if key not in MODEL_SORT_KEYS:
        raise ValueError(f"no model sort {key!r}")
    value = {  # NULL if either
        "cost_micro": "cost",
        "on_demand_micro": "on_demand",
        "cache": "(cache_read_tokens + cache_write_tokens)",
    }.get(key, key)
    if descending:
        return f"({value} IS NULL), {value} DESC, cost DESC, {name}"
    return f"({value} IS NULL) DESC, {value}, cost DESC, {name}"


def model_pages(
    source: ReadSource,
    integration_ids: int | Iterable[int],
    since: date,
    until: date,
    orders: Iterable[tuple[str, bool]] = MODEL_ORDERS,
    *,
    limit: int,
) -> dict[tuple[str, bool], list[ModelFigures]]:
    """The first `limit` models of the range in each order (key in MODEL_SORT_KEYS, descending): an
    unknown figure sorts below every known one (last when descending, first when not); ties go by
    cost, the biggest first, then by name (by code point)."""
    ids = _ids(integration_ids)
    with source.reader() as read:
        wanted = {(key, descending): _model_order(read, key, descending) for key, descending in orders}
        pages = _first_rows(read, _model_groups(ids), [*ids, since, until], MODEL_COLUMNS, wanted, limit)
    return {order: [model_figures(row) for row in rows] for order, rows in pages.items()}

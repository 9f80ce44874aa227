"""The first rows of a detail table in the order asked for, and every row's totals, from the database.

An integration may hold 150,000 members or models over a period (a provider may send 50,000 a window):
the app draws a few hundred and sums the rest in one row (grafient_tui/tops.py), so these ask the
database for exactly that: the groups are summed, sorted and cut there, and never read one by one.
The orders match what the screens promise: ties by cost (the biggest first), then by name by code
point on both SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Subquery, case, func, or_
from sqlmodel import select

from grafient_tui.store.db import Database
from grafient_tui.store.models import DailyMemberCost, DailyModelCost
from grafient_tui.store.queries import MemberRow, ModelRow, known_sum

MEMBER_SORTS = ("cost", "name", "requests")
# A model's figures besides its cost, in ModelRow's order; "cache" is read + write (unknown if either is).
# A count is unknown for a group when any of its rows' is; credits and characters (UNITS) are what the
# rows that have them add up to, unknown only when none has any (speech to text makes no characters).
MODEL_MEASURES = (
    "requests",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "credits_micro",
    "characters",
)
UNITS = frozenset({"credits_micro", "characters"})
MODEL_SORT_KEYS = (
    "cost_micro",
    "requests",
    "input_tokens",
    "output_tokens",
    "cache",
    "credits_micro",
    "characters",
    "model",
)
NAME_BATCH = 500  # names per IN (...) when asking which of a list have spend


def _ids(integration_ids: int | Iterable[int]) -> list[int]:
    return [integration_ids] if isinstance(integration_ids, int) else list(integration_ids)


def _by_code_point(db: Database, column: Any) -> Any:
    return column.collate("C" if db.is_postgres else "BINARY")


def _count(value: Any) -> int:
    return int(value or 0)


def _maybe(value: Any) -> int | None:
    return None if value is None else int(value)


@dataclass(frozen=True)
class MemberTotals:
    """Every member (workspace, project) of a range together, summed by the database."""

    members: int
    cost_micro: int
    known_requests: int  # the requests of the members whose count is known
    unknown_requests: int  # how many members have an unknown count


def _member_groups(ids: list[int], since: date, until: date) -> Subquery:
    t = DailyMemberCost
    return (
        select(
            t.email.label("email"),  # type: ignore[attr-defined]
            func.sum(t.cost_micro).label("cost"),
            known_sum(t.requests).label("requests"),
        )
        .where(t.integration_id.in_(ids), t.day >= since, t.day <= until)  # type: ignore[attr-defined]
        .group_by(t.email)
        .subquery()
    )


def member_totals(db: Database, integration_ids: int | Iterable[int], since: date, until: date) -> MemberTotals:
    """How many members the range has and their totals, without reading them one by one."""
    groups = _member_groups(_ids(integration_ids), since, until)
    with db.session() as session:
        count, cost, known, unknown = session.exec(
            select(
                func.count(),
                func.sum(groups.c.cost),
                func.sum(groups.c.requests),
                func.sum(case((groups.c.requests.is_(None), 1), else_=0)),
            ).select_from(groups)
        ).one()
    return MemberTotals(_count(count), _count(cost), _count(known), _count(unknown))


def _member_order(db: Database, groups: Subquery, sort: str) -> list[Any]:
    name = _by_code_point(db, groups.c.email)
    if sort == "name":
        return [func.lower(groups.c.email), name]
    if sort == "requests":
        return [groups.c.requests.is_(None), groups.c.requests.desc(), groups.c.cost.desc(), name]
    if sort == "cost":
        return [groups.c.cost.desc(), name]
    raise ValueError(f"no member sort {sort!r}")


def member_pages(
    db: Database,
    integration_ids: int | Iterable[int],
    since: date,
    until: date,
    sorts: Iterable[str] = MEMBER_SORTS,
    *,
    limit: int,
) -> dict[str, list[MemberRow]]:
    """The first `limit` members of the range in each sort order: cost (the biggest first), name (case
    ignored, then by code point) or requests (the most first, unknown last)."""
    groups = _member_groups(_ids(integration_ids), since, until)
    orders = {sort: _member_order(db, groups, sort) for sort in sorts}
    columns = [groups.c.email, groups.c.cost, groups.c.requests]
    pages = _first_rows(db, columns, orders, limit)
    return {sort: [MemberRow(str(e), _count(c), _maybe(r)) for e, c, r in rows] for sort, rows in pages.items()}


def _first_rows(db: Database, columns: list[Any], orders: Mapping[Any, list[Any]], limit: int) -> dict[Any, list[Any]]:
    """The first `limit` rows of `columns` in each of `orders`, in one query: the groups are summed once
    and ranked in every order by the database (a window function per order), and only the rows that
    are among the first of some order come back."""
    labels = list(orders)
    ranks = [func.row_number().over(order_by=orders[label]).label(f"rank_{i}") for i, label in enumerate(labels)]
    ranked = select(*columns, *ranks).subquery()
    rank_columns = [ranked.c[f"rank_{i}"] for i in range(len(labels))]
    query = select(*(ranked.c[c.name] for c in columns), *rank_columns).where(
        or_(*(rank <= limit for rank in rank_columns))
    )
    width = len(columns)
    pages: dict[Any, list[tuple[int, tuple[Any, ...]]]] = {label: [] for label in labels}
    with db.session() as session:
        for row in session.exec(query):
            values = tuple(row[:width])
            for label, rank in zip(labels, row[width:], strict=True):
                if rank <= limit:
                    pages[label].append((rank, values))
    return {label: [values for _, values in sorted(page, key=lambda p: p[0])] for label, page in pages.items()}


def members_among(
    db: Database, integration_ids: int | Iterable[int], since: date, until: date, names: Iterable[str]
) -> set[str]:
    """Which of `names` have spend in the range, case ignored as the screens ignore it (casefolded)."""
    t = DailyMemberCost
    wanted = {name.casefold() for name in names}
    asked = sorted({name.lower() for name in wanted})
    found: set[str] = set()
    with db.session() as session:
        for start in range(0, len(asked), NAME_BATCH):
            stored = session.exec(
                select(t.email)
                .where(
                    t.integration_id.in_(_ids(integration_ids)),  # type: ignore[attr-defined]
                    t.day >= since,
                    t.day <= until,
                    func.lower(t.email).in_(asked[start : start + NAME_BATCH]),
                )
                .distinct()
            )
            found.update(email.casefold() for email in stored if email.casefold() in wanted)
    return found


@dataclass(frozen=True)
class ModelTotals:
    """Every model of a range together, summed by the database."""

    models: int
    cost_micro: int
    known: dict[str, int]  # per measure (MODEL_MEASURES): the sum over the models that know it
    unknown: dict[str, int]  # per measure: how many models have it unknown (for UNITS: have none)


def _model_groups(ids: list[int], since: date, until: date) -> Subquery:
    t = DailyModelCost
    return (
        select(
            t.model.label("model"),  # type: ignore[attr-defined]
            func.sum(t.cost_micro).label("cost"),
            *(
                (func.sum if measure in UNITS else known_sum)(getattr(t, measure)).label(measure)
                for measure in MODEL_MEASURES
            ),
        )
        .where(t.integration_id.in_(ids), t.day >= since, t.day <= until)  # type: ignore[attr-defined]
        .group_by(t.model)
        .subquery()
    )


def model_totals(db: Database, integration_ids: int | Iterable[int], since: date, until: date) -> ModelTotals:
    """How many models the range has and their totals, without reading them one by one."""
    groups = _model_groups(_ids(integration_ids), since, until)
    columns: list[Any] = [func.count(), func.sum(groups.c.cost)]
    for measure in MODEL_MEASURES:
        column = groups.c[measure]
        columns += [func.sum(column), func.sum(case((column.is_(None), 1), else_=0))]
    with db.session() as session:
        count, cost, *sums = session.exec(select(*columns).select_from(groups)).one()
    known = {m: _count(sums[2 * i]) for i, m in enumerate(MODEL_MEASURES)}
    unknown = {m: _count(sums[2 * i + 1]) for i, m in enumerate(MODEL_MEASURES)}
    return ModelTotals(_count(count), _count(cost), known, unknown)


def _model_order(db: Database, groups: Subquery, key: str, descending: bool) -> list[Any]:
    name = _by_code_point(db, groups.c.model)
    if key == "model":
        return [name.desc() if descending else name]
    if key not in MODEL_SORT_KEYS:
        raise ValueError(f"no model sort {key!r}")
    value: ColumnElement[Any]
    if key == "cost_micro":
        value = groups.c.cost
    elif key == "cache":
        value = groups.c.cache_read_tokens + groups.c.cache_write_tokens  # NULL if either is
    else:
        value = groups.c[key]
    unknown = value.is_(None)
    if descending:
        return [unknown, value.desc(), groups.c.cost.desc(), name]
    return [unknown.desc(), value, groups.c.cost.desc(), name]


MODEL_ORDERS = tuple((key, descending) for key in MODEL_SORT_KEYS for descending in (True, False))


def model_pages(
    db: Database,
    integration_ids: int | Iterable[int],
    since: date,
    until: date,
    orders: Iterable[tuple[str, bool]] = MODEL_ORDERS,
    *,
    limit: int,
) -> dict[tuple[str, bool], list[ModelRow]]:
    """The first `limit` models of the range in each order (key in MODEL_SORT_KEYS, descending): an
    unknown figure sorts below every known one (last when descending, first when not); ties go by
    cost, the biggest first, then by name (by code point)."""
    groups = _model_groups(_ids(integration_ids), since, until)
    wanted = {(key, descending): _model_order(db, groups, key, descending) for key, descending in orders}
    columns: list[Any] = [groups.c.model, groups.c.cost, *(groups.c[m] for m in MODEL_MEASURES)]
    pages = _first_rows(db, columns, wanted, limit)
    return {
        order: [ModelRow(str(row[0]), _count(row[1]), *(_maybe(v) for v in row[2:])) for row in rows]
        for order, rows in pages.items()
    }

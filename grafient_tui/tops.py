"""The rows a detail table lists: the top MAX_TABLE_ROWS in the order asked for, and the rest summed
exactly in one "N others" row. No Textual, no database: the app builds these in a thread worker, so
the event loop only ever draws a few hundred rows, whatever an integration holds (a provider may send
50,000 members a window: 150,000 over a period, which drawn one by one stalled the app for 26 s).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from grafient_tui.store.queries import MemberRow, ModelRow

MAX_TABLE_ROWS = 200  # rows a detail table lists before the rest are summed in one row
MEMBER_SORTS = ("cost", "name", "requests")


def known_total(values: Iterable[int | None]) -> int | None:
    """The sum, or None (unknown) when any value is: a total that leaves rows out is not a total."""
    total = 0
    for value in values:
        if value is None:
            return None
        total += value
    return total


@dataclass(frozen=True)
class MemberTable:
    """The members as a table shows them, for one sort."""

    rows: tuple[MemberRow, ...]  # at most MAX_TABLE_ROWS
    others: MemberRow | None  # the rest summed ("1,234 others"); None when nothing was left out
    others_count: int
    total_micro: int  # every member's, listed or not
    total_requests: int | None


def _member_order(sort: str) -> tuple[Callable[[MemberRow], Any], bool]:
    if sort == "name":
        return (lambda r: (r.email.casefold(), r.email)), False
    if sort == "requests":
        return (lambda r: (r.requests is not None, r.requests or 0, -r.cost_micro)), True
    return (lambda r: (r.cost_micro, r.email)), True


def member_table(rows: Sequence[MemberRow], sort: str = "cost", limit: int = MAX_TABLE_ROWS) -> MemberTable:
    """The top `limit` members in `sort` order (cost, name or requests) and the rest summed exactly."""
    key, biggest_first = _member_order(sort)
    if len(rows) <= limit:
        top = sorted(rows, key=key, reverse=biggest_first)
    else:
        top = (heapq.nlargest if biggest_first else heapq.nsmallest)(limit, rows, key=key)
    total_micro = sum(r.cost_micro for r in rows)
    total_requests = known_total(r.requests for r in rows)
    left = len(rows) - len(top)
    others = None
    if left:
        listed = {id(r) for r in top}
        rest = [r for r in rows if id(r) not in listed]
        others = MemberRow(f"{left:,} others", sum(r.cost_micro for r in rest), known_total(r.requests for r in rest))
    return MemberTable(tuple(top), others, left, total_micro, total_requests)


def member_tables(rows: Sequence[MemberRow], limit: int = MAX_TABLE_ROWS) -> dict[str, MemberTable]:
    """One MemberTable per sort the Members tab cycles through."""
    return {sort: member_table(rows, sort, limit) for sort in MEMBER_SORTS}


@dataclass(frozen=True)
class ModelTable:
    rows: tuple[ModelRow, ...]
    others: ModelRow | None
    others_count: int


def model_table(
    rows: Sequence[ModelRow], key: Callable[[ModelRow], Any], *, descending: bool, limit: int = MAX_TABLE_ROWS
) -> ModelTable:
    """The top `limit` models by `key` and the rest summed exactly (unknown stays unknown)."""
    if len(rows) <= limit:
        return ModelTable(tuple(sorted(rows, key=key, reverse=descending)), None, 0)
    top = (heapq.nlargest if descending else heapq.nsmallest)(limit, rows, key=key)
    listed = {id(r) for r in top}
    rest = [r for r in rows if id(r) not in listed]
    others = ModelRow(
        f"{len(rest):,} others",
        sum(r.cost_micro for r in rest),
        known_total(r.requests for r in rest),
        known_total(r.input_tokens for r in rest),
        known_total(r.output_tokens for r in rest),
        known_total(r.cache_read_tokens for r in rest),
        known_total(r.cache_write_tokens for r in rest),
        known_total(r.reasoning_tokens for r in rest),
    )
    return ModelTable(tuple(top), others, len(rest))

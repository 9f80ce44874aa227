"""The rows a detail table lists: the top MAX_TABLE_ROWS in the order asked for, and the rest summed
exactly in one "N others" row. No Textual: the app builds these in a thread worker from what the
database sorted, cut and summed (store/top_rows.py), so the event loop only ever draws a few hundred
rows, whatever an integration holds (a provider may send 50,000 members a window: 150,000 over a
period, which drawn one by one stalled the app for 26 s).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grafient_tui.store.queries import MemberRow, ModelRow
from grafient_tui.store.top_rows import MODEL_MEASURES, UNITS, MemberTotals, ModelTotals

MAX_TABLE_ROWS = 200  # rows a detail table lists before the rest are summed in one row


@dataclass(frozen=True)
class MemberTable:
    """The members as a table shows them, for one sort."""

    rows: tuple[MemberRow, ...]  # at most MAX_TABLE_ROWS
    others: MemberRow | None  # the rest summed ("1,234 others"); None when nothing was left out
    others_count: int
    total_micro: int  # every member's, listed or not
    total_requests: int | None


def member_table_of(top: Sequence[MemberRow], totals: MemberTotals) -> MemberTable:
    """The table of `top` (the first rows in some order, from the database) and every member's totals:
    the rest summed exactly from the totals, unknown where any of the rest is unknown."""
    left = totals.members - len(top)
    total_requests = None if totals.unknown_requests else totals.known_requests
    others = None
    if left > 0:
        unknown_left = totals.unknown_requests - sum(1 for r in top if r.requests is None)
        known_left = totals.known_requests - sum(r.requests for r in top if r.requests is not None)
        others = MemberRow(
            f"{left:,} others",
            totals.cost_micro - sum(r.cost_micro for r in top),
            None if unknown_left else known_left,
        )
    return MemberTable(tuple(top), others, max(left, 0), totals.cost_micro, total_requests)


@dataclass(frozen=True)
class ModelTable:
    """The models as a table shows them, for one order."""

    rows: tuple[ModelRow, ...]  # at most MAX_TABLE_ROWS
    others: ModelRow | None  # the rest summed ("1,234 others"); None when nothing was left out
    others_count: int
    total: ModelRow  # every model's figures together, each unknown where any model's is


def model_table_of(top: Sequence[ModelRow], totals: ModelTotals) -> ModelTable:
    """The table of `top` (the first models in some order, from the database) and every model's
    totals: the rest summed exactly from the totals, a count unknown where any of the rest is, credits
    and characters unknown where none of the rest has any (store/top_rows.UNITS)."""
    left = totals.models - len(top)
    others = None
    if left > 0:
        rest: list[int | None] = []
        for measure in MODEL_MEASURES:
            listed = [getattr(r, measure) for r in top]
            unknown_left = totals.unknown[measure] - sum(1 for v in listed if v is None)
            known_left = totals.known[measure] - sum(v for v in listed if v is not None)
            if measure in UNITS:
                rest.append(None if unknown_left == left else known_left)
            else:
                rest.append(None if unknown_left else known_left)
        others = ModelRow(f"{left:,} others", totals.cost_micro - sum(r.cost_micro for r in top), *rest)
    total = ModelRow("Total", totals.cost_micro, *(_total(totals, m) for m in MODEL_MEASURES))
    return ModelTable(tuple(top), others, max(left, 0), total)


def _total(totals: ModelTotals, measure: str) -> int | None:
    if measure in UNITS:
        return None if totals.unknown[measure] == totals.models else totals.known[measure]
    return None if totals.unknown[measure] else totals.known[measure]

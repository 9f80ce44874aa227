"""A window's cost lines summed per day, model and member, as they stream in.

Memory grows with days x models x members, never with the number of lines: each line is added to
the sums it belongs to (store/sums.py names them and says how an unknown is summed) and dropped.
"""

from __future__ import annotations

from datetime import date

from grafient_tui.errors import BadResponse
from grafient_tui.providers.base import Capabilities, CostLine
from grafient_tui.store.sums import (
    REQUESTS,
    TOKENS,
    DaySums,
    MemberSums,
    ModelSums,
    WindowSums,
    known_plus,
    reported_plus,
    units_plus,
)
from grafient_tui.untrusted import stored_name

MAX_ROWS_PER_WINDOW = 200_000  # day x model plus day x member sums held for one window (tens of MB)


class WindowTotals(WindowSums):
    """The sums of one window's cost lines, [first, last] (or any day, when not given)."""

    __slots__ = ("first", "last", "outside")

    def __init__(
        self, first: date | None = None, last: date | None = None, *, capabilities: Capabilities | None = None
    ) -> None:
        super().__init__(capabilities=capabilities)
        # Lines for days outside [first, last] belong to another window: dropped as they come,
        # so a hostile answer full of them costs no memory (and can never be counted twice).
        self.first, self.last, self.outside = first, last, 0

    def add(self, lines: list[CostLine]) -> None:
        days, models, members = self.days, self.models, self.members
        first, last = self.first, self.last
        split = self.capabilities.has_on_demand
        for e in lines:
            day = e.day
            if (first is not None and day < first) or (last is not None and day > last):
                self.outside += 1
                continue
            cost = e.cost_micro
            d = days.get(day)
            if d is None:
                d = days[day] = _no_day(split)
            _add_usage(d, e)
            d.request_units_micro += e.request_units_micro
            d.byok_micro = known_plus(d.byok_micro, e.byok_micro)
            key = (day, stored_name(e.model))
            m = models.get(key)
            if m is None:
                # every count unknown until a line reports it; the on-demand part starts as the day's
                m = models[key] = ModelSums(cost_micro=0, on_demand_micro=0 if split else None)
            _add_usage(m, e)
            if split:
                if e.on_demand:
                    d.on_demand_micro = known_plus(d.on_demand_micro, cost)
                    m.on_demand_micro = known_plus(m.on_demand_micro, cost)
                else:
                    d.included_micro = known_plus(d.included_micro, cost)
            key = (day, stored_name(e.actor))
            u = members.get(key)
            if u is None:
                u = members[key] = MemberSums(cost_micro=0)
            u.cost_micro += cost
            if e.reports_requests:
                u.requests = reported_plus(u.requests, e.requests, first=not u.reported & REQUESTS)
                u.reported |= REQUESTS

    def check_size(self, source: str) -> None:
        """Memory stays bounded: past MAX_ROWS_PER_WINDOW day x model and day x member sums, the
        window is refused (no real team comes near it)."""
        if len(self.models) + len(self.members) > MAX_ROWS_PER_WINDOW:
            raise BadResponse(
                f"{source} sent more than {MAX_ROWS_PER_WINDOW:,} day-by-model and day-by-member totals for "
                "one window; stopped reading, nothing from this window was saved"
            )


def _no_day(split: bool) -> DaySums:
    """A day's sums before its first line: what each rule starts from (0 where one unknown line makes
    the sum unknown, None where the first known or reporting line starts it), so a line simply adds."""
    return DaySums(
        cost_micro=0,
        on_demand_micro=0 if split else None,
        included_micro=0 if split else None,
        request_units_micro=0,
        byok_micro=0,
    )


def _add_usage(sums: DaySums | ModelSums, e: CostLine) -> None:
    """What a day and a model's share of it both sum: money, requests, tokens, credits, characters.
    A line that does not report requests or tokens leaves them as they are (store/sums.py)."""
    sums.cost_micro += e.cost_micro
    if e.reports_requests:
        sums.requests = reported_plus(sums.requests, e.requests, first=not sums.reported & REQUESTS)
        sums.reported |= REQUESTS
    if e.reports_tokens:
        first = not sums.reported & TOKENS
        sums.input_tokens = reported_plus(sums.input_tokens, e.input_tokens, first=first)
        sums.output_tokens = reported_plus(sums.output_tokens, e.output_tokens, first=first)
        sums.cache_read_tokens = reported_plus(sums.cache_read_tokens, e.cache_read_tokens, first=first)
        sums.cache_write_tokens = reported_plus(sums.cache_write_tokens, e.cache_write_tokens, first=first)
        sums.reasoning_tokens = reported_plus(sums.reasoning_tokens, e.reasoning_tokens, first=first)
        sums.reported |= TOKENS
    sums.credits_micro = units_plus(sums.credits_micro, e.credits_micro)
    sums.characters = units_plus(sums.characters, e.characters)

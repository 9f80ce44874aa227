"""A window's cost lines summed per day, model and member, as they stream in.

Memory grows with days x models x members, never with the number of lines: each line is added to
the sums it belongs to (store/sums.py names them and says how an unknown is summed) and dropped.
"""

from __future__ import annotations

from datetime import date

from grafient_tui.providers.base import Capabilities, CostLine
from grafient_tui.providers.http import BadResponse
from grafient_tui.store.sums import DaySums, MemberSums, ModelSums, WindowSums, known_plus, units_plus
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
            requests = e.requests
            d = days.get(day)
            if d is None:  # the first line sets what is known; later ones add to it (unknown stays unknown)
                days[day] = DaySums(
                    cost_micro=cost,
                    on_demand_micro=(cost if e.on_demand else 0) if split else None,
                    included_micro=(0 if e.on_demand else cost) if split else None,
                    requests=requests,
                    request_units_micro=e.request_units_micro,
                    input_tokens=e.input_tokens,
                    output_tokens=e.output_tokens,
                    cache_read_tokens=e.cache_read_tokens,
                    cache_write_tokens=e.cache_write_tokens,
                    reasoning_tokens=e.reasoning_tokens,
                    byok_micro=e.byok_micro,
                    credits_micro=e.credits_micro,
                    characters=e.characters,
                )
            else:
                d.cost_micro += cost
                if split:
                    if e.on_demand:
                        d.on_demand_micro = known_plus(d.on_demand_micro, cost)
                    else:
                        d.included_micro = known_plus(d.included_micro, cost)
                d.requests = known_plus(d.requests, requests)
                d.request_units_micro += e.request_units_micro
                d.input_tokens = known_plus(d.input_tokens, e.input_tokens)
                d.output_tokens = known_plus(d.output_tokens, e.output_tokens)
                d.cache_read_tokens = known_plus(d.cache_read_tokens, e.cache_read_tokens)
                d.cache_write_tokens = known_plus(d.cache_write_tokens, e.cache_write_tokens)
                d.reasoning_tokens = known_plus(d.reasoning_tokens, e.reasoning_tokens)
                d.byok_micro = known_plus(d.byok_micro, e.byok_micro)
                d.credits_micro = units_plus(d.credits_micro, e.credits_micro)
                d.characters = units_plus(d.characters, e.characters)
            key = (day, stored_name(e.model))
            m = models.get(key)
            if m is None:
                models[key] = ModelSums(
                    cost_micro=cost,
                    requests=requests,
                    input_tokens=e.input_tokens,
                    output_tokens=e.output_tokens,
                    cache_read_tokens=e.cache_read_tokens,
                    cache_write_tokens=e.cache_write_tokens,
                    reasoning_tokens=e.reasoning_tokens,
                    credits_micro=e.credits_micro,
                    characters=e.characters,
                )
            else:
                m.cost_micro += cost
                m.requests = known_plus(m.requests, requests)
                m.input_tokens = known_plus(m.input_tokens, e.input_tokens)
                m.output_tokens = known_plus(m.output_tokens, e.output_tokens)
                m.cache_read_tokens = known_plus(m.cache_read_tokens, e.cache_read_tokens)
                m.cache_write_tokens = known_plus(m.cache_write_tokens, e.cache_write_tokens)
                m.reasoning_tokens = known_plus(m.reasoning_tokens, e.reasoning_tokens)
                m.credits_micro = units_plus(m.credits_micro, e.credits_micro)
                m.characters = units_plus(m.characters, e.characters)
            key = (day, stored_name(e.actor))
            u = members.get(key)
            if u is None:
                members[key] = MemberSums(cost_micro=cost, requests=requests)
            else:
                u.cost_micro += cost
                u.requests = known_plus(u.requests, requests)

    def check_size(self, source: str) -> None:
        """Memory stays bounded: past MAX_ROWS_PER_WINDOW day x model and day x member sums, the
        window is refused (no real team comes near it)."""
        if len(self.models) + len(self.members) > MAX_ROWS_PER_WINDOW:
            raise BadResponse(
                f"{source} sent more than {MAX_ROWS_PER_WINDOW:,} day-by-model and day-by-member totals for "
                "one window; stopped reading, nothing from this window was saved"
            )

"""Displayed parts that add up to their displayed total: round the total once, then hand its cents
to the parts by the largest remainder (Hamilton's method), so a legend, a split or a table's rows
never read $6,373.40 under a $6,373.39 total. Exact sums stay exact (JSON, CSV); only what is
shown rounded goes through here. Pure integers in micro-cents.
"""

from __future__ import annotations

from collections.abc import Sequence

CENT_MICRO = 1_000_000  # one cent in micro-cents (10⁻⁸ USD)


def _round_half_even(micro: int, unit: int) -> int:
    quotient, remainder = divmod(micro, unit)
    twice = 2 * remainder
    if twice > unit or (twice == unit and quotient % 2):
        quotient += 1
    return quotient * unit


def adding_up(parts: Sequence[int], unit: int = CENT_MICRO, *, total: int | None = None) -> list[int]:
    """Each part rounded to whole `unit`s so that they sum to the sum rounded once (half to even):
    every part first rounded down, then the units left over go one each to the parts with the
    largest remainders (of equal remainders, the larger part, then the first). A negative part (a
    credit) is rounded down and up the same way (floor division): each part still moves less than a unit.

    `total`: the shown sum to hand out instead, when it was rounded already as a part of a larger
    whole (a table's column, whose total is a part of the grand total); it must be one `can_share`
    accepts, so that each part still moves less than a unit."""
    if total is None:
        total = _round_half_even(sum(parts), unit)
    assert can_share(parts, total, unit), "a total these parts can be rounded to"
    floors = [part // unit * unit for part in parts]
    left = (total - sum(floors)) // unit
    order = sorted(range(len(parts)), key=lambda i: (-(parts[i] - floors[i]), -parts[i], i))
    for i in order[: max(left, 0)]:
        floors[i] += unit
    return floors


def can_share(parts: Sequence[int], total: int, unit: int = CENT_MICRO) -> bool:
    """`total` is whole units, and the parts can be rounded to sum to it, each up or down (never a
    whole unit moved): between the sum of the parts rounded down and the sum of them rounded up."""
    floors = sum(part // unit * unit for part in parts)
    ups = sum(1 for part in parts if part % unit)
    return total % unit == 0 and floors <= total <= floors + ups * unit


__all__ = ["CENT_MICRO", "adding_up", "can_share"]

"""Cursor's /teams/spend, read: the billing cycle's start and each member's spend and limit.

Tolerant of the shapes seen (../shared/cursor-admin-api.md): `overallSpendCents` is the cycle's
total and `spendCents` its on-demand part; without `overallSpendCents`, `spendCents` is the total
(its older meaning) and the on-demand part is unknown. The limit is `effectivePerUserLimitDollars`
(the one Cursor enforces); the other limit fields say nothing about which applies, so they are not
guessed from. A field that is missing, null or unreadable is unknown (None), never 0, and costs
only that figure: the rest of the member, and the other members, are kept.
Pure: no network, no Textual.
"""

from __future__ import annotations

import datetime
from typing import Any

from grafient_tui.providers.base import MemberSpend
from grafient_tui.providers.cursor.costs import _timestamp, to_micro
from grafient_tui.providers.http import ProviderError

UNKNOWN_MEMBER = "unknown member"
CENTS_PER_DOLLAR = 100


_MAX_MICRO = 10**17  # a billion dollars: past that a figure is no real member's, and would not fit the store


def _money(value: Any, scale: int = 1) -> int | None:
    """Cents (scale 1) or dollars (scale 100) in micro-cents; None when missing, unreadable or implausible."""
    if value is None:
        return None
    try:
        micro = to_micro(value)
    except ProviderError:
        return None
    if micro is None or abs(micro * scale) > _MAX_MICRO:
        return None
    return micro * scale


def _text(value: Any) -> str | None:
    if type(value) is str and value.strip():
        return value.strip()
    if type(value) is int:  # ids are sometimes integers
        return str(value)
    return None


def cycle_start(value: Any) -> datetime.date | None:
    """The UTC day of `subscriptionCycleStart` (epoch ms as a number or a string, or ISO 8601)."""
    if value is None:
        return None
    try:
        ms = _timestamp(value)
    except ProviderError:
        return None
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC).date()


def parse_member(raw: Any) -> MemberSpend | None:
    """One entry of `teamMemberSpend`; None for an entry that is not an object."""
    if type(raw) is not dict:
        return None
    name = _text(raw.get("name"))
    member = _text(raw.get("email")) or name or _text(raw.get("userId")) or _text(raw.get("id")) or UNKNOWN_MEMBER
    spend = _money(raw.get("spendCents"))
    overall = _money(raw.get("overallSpendCents"))
    if overall is not None:
        total, on_demand = overall, spend
    else:
        total, on_demand = spend, None
    return MemberSpend(
        member=member,
        name=name,
        spend_micro=total,
        on_demand_micro=on_demand,
        limit_micro=_money(raw.get("effectivePerUserLimitDollars"), CENTS_PER_DOLLAR),
    )


def total_pages(data: dict) -> int | None:
    pages = data.get("totalPages")
    return pages if type(pages) is int else None

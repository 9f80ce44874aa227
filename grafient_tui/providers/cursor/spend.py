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

from grafient_tui.errors import ProviderError
from grafient_tui.money import MAX_MEMBER_MICRO, BadAmount, to_micro
from grafient_tui.providers.base import MemberSpend
from grafient_tui.providers.cursor.costs import _timestamp
from grafient_tui.providers.jsonstream import JsonObject
from grafient_tui.untrusted import stored_name

UNKNOWN_MEMBER = "unknown member"


def _money(value: Any, unit: str = "cents") -> int | None:
    """Cents or dollars ("usd") in micro-cents, through the one money parser; None when missing,
    unreadable or implausible (a member's figure past a billion dollars is no real one)."""
    if value is None:
        return None
    try:
        return to_micro(value, unit, limit=MAX_MEMBER_MICRO)
    except BadAmount:
        return None


def _text(value: Any) -> str | None:
    if type(value) is str and value.strip():
        return stored_name(value.strip())  # cut as it arrives (255 characters and a visible mark)
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
    total: int | None
    if overall is not None:
        total, on_demand = overall, spend
    else:
        total, on_demand = spend, None
    return MemberSpend(
        member=member,
        name=name,
        spend_micro=total,
        on_demand_micro=on_demand,
        limit_micro=_money(raw.get("effectivePerUserLimitDollars"), "usd"),
    )


def total_pages(data: JsonObject) -> int | None:
    pages = data.get("totalPages")
    return pages if type(pages) is int else None

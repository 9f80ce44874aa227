"""A budget amount as typed (`500`, `1250.50`, `$500`), read exactly into micro-cents."""

from __future__ import annotations

import re
from decimal import Decimal

from grafient_tui.errors import ConfigError
from grafient_tui.money import MICRO_PER_USD

MAX_USD = 1_000_000_000  # far above any AI bill; keeps every sum inside a 64-bit integer
_AMOUNT = re.compile(r"\$?(?P<whole>[0-9]+)(?:\.(?P<cents>[0-9]{1,2}))?")
_NUMBERISH = re.compile(r"[-+]?\$?[0-9.,_]*[0-9][0-9.,_eE+-]*")


def _shown(text: str) -> str:
    from grafient_tui.untrusted import visible

    text = visible(text)
    return repr(text if len(text) <= 32 else text[:31] + "…")


def parse_amount(text: str) -> int:
    """The amount in integer micro-cents; ConfigError (one sentence) for anything else.

    Refused: negative amounts and zero (a share of $0 means nothing; remove the budget instead),
    anything but plain digits with an optional `.` and one or two decimals (USD bills in cents, so a
    third decimal is a typo, and rounding it quietly would store an amount nobody typed; exponents,
    NaN, Infinity and thousands separators are not amounts people type), and amounts over $1e9."""
    from grafient_tui.secret import KEY_IN_ARGV, looks_like_key

    raw = text.strip()
    if looks_like_key(raw):
        raise ConfigError(f"the amount must be in US dollars, like 500 or 1250.50: {KEY_IN_ARGV}.")
    match = _AMOUNT.fullmatch(raw)
    if match is None:
        if raw.startswith("-") and _NUMBERISH.fullmatch(raw):
            raise ConfigError(f"a budget cannot be negative ({_shown(raw)}).")
        if _NUMBERISH.fullmatch(raw) and re.fullmatch(r"\$?[0-9]+\.[0-9]{3,}", raw):
            raise ConfigError(f"a budget is in dollars and cents, at most two decimals ({_shown(raw)}).")
        raise ConfigError(f"the amount must be in US dollars, like 500 or 1250.50, not {_shown(raw)}.")
    amount = Decimal(match.group("whole") + "." + (match.group("cents") or "0"))
    if amount == 0:
        raise ConfigError("a budget must be more than $0 (to drop one, use `grafient budget remove`).")
    if amount > MAX_USD:
        raise ConfigError(f"a budget can be at most ${MAX_USD:,}.")
    return int(amount * MICRO_PER_USD)

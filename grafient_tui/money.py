"""Money: exact integer micro-cents in, every conversion and display format out.

The store keeps every amount as an integer number of micro-cents (1 USD = 100 cents =
100 * 1_000_000 micro-cents), so sums are exact. This is the one place that turns them into
dollars, for each kind of output. Only `decimal` is imported: the screens and the CLI's
quick paths import this without pulling in the database layer.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Context, Decimal, Inexact, InvalidOperation

MICRO_PER_CENT = 1_000_000
MICRO_PER_USD = 100 * MICRO_PER_CENT
CENT = Decimal("0.01")


def usd(micro: int) -> Decimal:
    """Exact dollars (a Decimal with eight places)."""
    return Decimal(micro).scaleb(-8)


def usd_float(micro: int) -> float:
    """Dollars for JSON: the nearest float to the exact value (Decimal -> float rounds correctly)."""
    return float(usd(micro))


def usd_exact(micro: int) -> str:
    """The exact decimal string for CSV: `12.34567891`, never an exponent or a float artefact."""
    return format(usd(micro), "f")


def usd_cents(micro: int) -> Decimal:
    """Dollars rounded to the cent, half to even: for figures that are already a division (averages)."""
    return usd(micro).quantize(CENT, ROUND_HALF_EVEN)


def cents(micro: int) -> int:
    """The amount rounded to the cent (half to even), still in micro-cents: what format_usd shows."""
    return int(usd_cents(micro) * MICRO_PER_USD)


def format_usd(micro: int, *, cents: bool = True) -> str:
    """`$1,234.56` for display (`$1,235` without cents); rounded half to even. Negative money (a
    credit, a refund) is `−$2.46`, the minus sign before the dollar, as the providers' pages write it;
    an amount that rounds to zero has no sign."""
    value = usd(abs(micro))
    text = f"${value:,.2f}" if cents else f"${value:,.0f}"
    return MINUS + text if micro < 0 and any(c in "123456789" for c in text) else text


MINUS = "\u2212"  # − (U+2212), the minus sign of negative money on screen and in tables


def chart_dollars(micro: int) -> float:
    """A float for a chart's shape (sparklines, bars): never summed, never shown as a figure."""
    return micro / MICRO_PER_USD


def plausible(value: Decimal, max_digits: int = 24) -> bool:
    """A finite Decimal whose integer part has at most `max_digits` digits. Checked on the exponent
    alone, before any arithmetic: int(), abs() or a comparison on a hostile `1e999999999` would take
    minutes or overflow the decimal context."""
    return value.is_finite() and value.adjusted() < max_digits


def decimal_text(text: str, max_length: int = 64, *, exponent: bool = False) -> Decimal | None:
    """The Decimal a plain decimal string spells (`12`, `-0.5`, `1534.2215`; ASCII digits only, no
    `_`, no spaces inside; with `exponent`, also a short JSON-style exponent such as `1.5E-7`), or None."""
    text = text.strip()
    pattern = r"-?[0-9]+(?:\.[0-9]+)?" + (r"(?:[eE][+-]?[0-9]{1,3})?" if exponent else "")
    if len(text) > max_length or not re.fullmatch(pattern, text):
        return None
    return Decimal(text)


# --------------------------------------------------------------------------- reading money from an API
#
# Every provider's money goes through `to_micro` (by way of providers/amounts.py, which raises the
# provider's own error): cents or dollars, a JSON number (decoded as the Decimal of its literal text,
# `decimal_literal`) or a numeric string, read exactly and rounded once, half to even, at the
# micro-cent. What no bill has is refused with a sentence, never an overflow or minutes of CPU.
#
# The maxima keep every sum the store makes or reports inside a signed 64-bit integer (SQLite's
# INTEGER and SUM(), PostgreSQL's BIGINT), whose largest value, 9.22e18 micro-cents, is $92.2 billion:
# - one row (an event, a report line) is at most $1,000,000: no single line of a real bill is near it;
# - one integration's day is at most $1,000,000 too (the sync engine refuses a window past it), so
#   every stored row (a day, a day's model or member) is at most 1e14 micro-cents, and a SUM over
#   stored rows overflows only past 92,233 of them at the maximum: 25 integrations spending a million
#   dollars every day for ten years. A hostile API reaches one integration's days only, at most 365 a
#   backfill and one more each day after: it would need 250 years of daily syncs;
# - a member's cycle spend or limit (Cursor's /teams/spend) is at most $1,000,000,000: it is stored
#   per member and never summed in SQL.
MAX_ROW_MICRO = 1_000_000 * MICRO_PER_USD
MAX_DAY_MICRO = 1_000_000 * MICRO_PER_USD
MAX_MEMBER_MICRO = 1_000_000_000 * MICRO_PER_USD
_INT64_MAX = 2**63 - 1
assert MAX_DAY_MICRO * 92_233 <= _INT64_MAX  # the margin the comment above speaks of

UNITS = {"usd": 8, "cents": 6}  # decimal places from the unit to micro-cents
# A numeric string: what JSON writes (sign, digits, fraction, exponent) and a leading "+" or ".5".
# 39 decimals and more are read exactly (OpenAI's costs send amounts like "0.000123...").
_NUMBER = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_MAX_TEXT = 100  # characters of a numeric string
# Exact: 120 digits hold any amount this accepts (at most 15 integer digits) with 100 decimals,
# and Inexact is trapped, so a number of more digits is refused rather than silently rounded.
_EXACT = Context(prec=120, Emax=10**6, Emin=-(10**6), traps=[Inexact, InvalidOperation])


# An exponent past this is clamped to it when a literal is read: Decimal itself refuses a literal whose
# exponent passes ~1e18 ("0E-99999999999999999999" raises InvalidOperation), and any exponent this far
# out already means a value far beyond any bill, far below a micro-cent, or a zero.
_CLAMPED_EXPONENT = 10**9
_EXPONENT_DIGITS = len(str(_CLAMPED_EXPONENT))


def decimal_literal(text: str) -> Decimal:
    """The Decimal a JSON number literal (or a numeric string of one) spells, as json's `parse_float`:
    exact, except that an exponent of more than ten digits is clamped to ±1e9 before Decimal reads it, so
    every literal is read in time linear in its length and none raises. A zero stays zero, a non-zero
    value stays beyond any bill (refused) or below a micro-cent (0), as its exponent said."""
    mantissa, mark, exponent = text.replace("e", "E").partition("E")
    if mark and len(exponent.lstrip("+-").lstrip("0")) > _EXPONENT_DIGITS:
        sign = "-" if exponent.startswith("-") else "+"
        text = f"{mantissa}E{sign}{_CLAMPED_EXPONENT}"
    return Decimal(text)


class BadAmount(ValueError):
    """A money value that cannot be read. `reason` completes "FIELD is ...": "not a number (got a
    string of 9 characters)"; it never holds the value itself (server text may echo a key)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def describe(value: object) -> str:
    """What a value from an API is, never the value itself."""
    if isinstance(value, str):
        return f"a string of {len(value)} character{'s' if len(value) != 1 else ''}"
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float, Decimal)):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "a value of another kind"


def exact_amount(value: object, *, max_digits: int = 15) -> Decimal:
    """The exact Decimal a JSON money value was written as: an int, the Decimal of a JSON number, a
    float (by its shortest literal, the JSON text it came from) or a numeric string. Zero is zero
    whatever its exponent or sign (`"0E-6176"`); a finite value whose integer part has more than
    `max_digits` digits is refused, on its exponent alone (no arithmetic on `1e999999999`)."""
    d: Decimal
    if isinstance(value, bool) or value is None:
        raise BadAmount(f"not a number (got {describe(value)})")
    if isinstance(value, int):
        d = Decimal(value)
    elif isinstance(value, Decimal):
        d = value
    elif isinstance(value, float):
        d = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip()
        if len(text) > _MAX_TEXT or not _NUMBER.fullmatch(text):
            raise BadAmount(f"not a number (got {describe(value)})")
        d = decimal_literal(text)
    else:
        raise BadAmount(f"not a number (got {describe(value)})")
    if not d.is_finite():
        raise BadAmount("not a finite number")
    if d.is_zero():
        return Decimal(0)
    if d.adjusted() >= max_digits:
        raise BadAmount("beyond any plausible bill")
    return d


def micro_of(amount: Decimal, unit: str = "usd", *, limit: int = MAX_ROW_MICRO) -> int:
    """`amount` (exact, in `unit`: "usd" or "cents") in integer micro-cents, rounded once, half to
    even; BadAmount past `limit` either way (a sum of amounts is checked like one)."""
    if amount.is_zero():
        return 0
    places = UNITS[unit]
    if not amount.is_finite() or amount.adjusted() + places > len(str(limit)):
        raise BadAmount(_past(limit))
    if amount.adjusted() + places < -2:
        return 0  # below half a micro-cent, whatever its digits: rounds to 0
    try:
        scaled = _EXACT.scaleb(amount, Decimal(places))
    except (Inexact, InvalidOperation):
        raise BadAmount("a number with more digits than any bill has") from None
    micro = int(scaled.to_integral_value(rounding=ROUND_HALF_EVEN))
    if not -limit <= micro <= limit:
        raise BadAmount(_past(limit))
    return micro


def to_micro(value: object, unit: str = "usd", *, limit: int = MAX_ROW_MICRO) -> int:
    """THE money parser: a JSON money value in `unit` ("usd" or "cents") as integer micro-cents,
    exact and bounded (see the maxima above), or BadAmount saying why not."""
    return micro_of(exact_amount(value), unit, limit=limit)


def _past(limit: int) -> str:
    return f"beyond any plausible bill (more than {format_usd(limit, cents=False)})"

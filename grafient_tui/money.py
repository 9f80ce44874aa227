"""Money: exact integer micro-cents in, every conversion and display format out.

The store keeps every amount as an integer number of micro-cents (1 USD = 100 cents =
100 * 1_000_000 micro-cents), so sums are exact. This is the one place that turns them into
dollars, for each kind of output. Only `decimal` is imported: the screens and the CLI's
quick paths import this without pulling in the database layer.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

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


def format_usd(micro: int, *, cents: bool = True) -> str:
    """`$1,234.56` for display (`$1,235` without cents); rounded half to even."""
    value = usd(micro)
    return f"${value:,.2f}" if cents else f"${value:,.0f}"


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
    import re

    text = text.strip()
    pattern = r"-?[0-9]+(?:\.[0-9]+)?" + (r"(?:[eE][+-]?[0-9]{1,3})?" if exponent else "")
    if len(text) > max_length or not re.fullmatch(pattern, text):
        return None
    return Decimal(text)

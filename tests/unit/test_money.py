"""grafient_tui.money: exact micro-cents in, each output format out, and cheap to import."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

from grafient_tui.money import (
    MICRO_PER_USD,
    chart_dollars,
    format_usd,
    usd,
    usd_cents,
    usd_exact,
    usd_float,
)
from tests.helpers import PATIENCE


def test_one_dollar_is_a_hundred_million_micro_cents() -> None:
    assert MICRO_PER_USD == 100 * 1_000_000
    assert usd(MICRO_PER_USD) == Decimal(1)


def test_conversions_are_exact() -> None:
    micro = 123_456_789_012_345_678  # far beyond a float's 53 bits
    assert usd(micro) == Decimal("1234567890.12345678")
    assert usd_exact(micro) == "1234567890.12345678"
    assert usd_exact(1) == "0.00000001"  # never 1E-8
    assert usd_exact(0) == "0.00000000"
    assert usd_float(micro) == float(Decimal("1234567890.12345678"))  # the nearest float, not micro / 1e8


def test_display_rounds_half_to_even_with_separators() -> None:
    assert format_usd(123_456 * MICRO_PER_USD + 56 * 1_000_000) == "$123,456.56"
    assert format_usd(1_250_000) == "$0.01"  # 1.25 cents
    assert format_usd(500_000) == "$0.00"  # half a cent: to the even cent
    assert format_usd(1_500_000) == "$0.02"
    assert format_usd(1_234 * MICRO_PER_USD + 50_000_000, cents=False) == "$1,234"
    # negative money (Gemini's credits) reads −$2.00, the minus before the dollar; no sign on a zero
    assert format_usd(-2 * MICRO_PER_USD) == "\u2212$2.00" and format_usd(-246_000_000) == "\u2212$2.46"
    assert format_usd(-1234567 * MICRO_PER_USD, cents=False) == "\u2212$1,234,567"
    assert format_usd(-400_000) == "$0.00"


def test_averages_round_to_the_cent_half_even() -> None:
    assert usd_cents(3_510_000_000) == Decimal("35.10")
    assert usd_cents(500_000) == Decimal("0.00")
    assert usd_cents(1_500_000) == Decimal("0.02")


def test_chart_shape_is_a_float() -> None:
    assert chart_dollars(250_000_000) == 2.5


def test_importing_money_loads_no_database_layer() -> None:
    probe = (
        "import sys, grafient_tui.money; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'sqlmodel', 'textual', 'httpx')))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=PATIENCE)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"

"""The providers' money adapter (providers/amounts.py): money.py's one parser, failing in the provider's
own words, never quoting the value and with nothing chained to the error."""

from __future__ import annotations

from decimal import Decimal

import pytest

from grafient_tui.errors import EventFormatError, ShapeError
from grafient_tui.providers import amounts

SECRETISH = "sk-admin-Qx7vR2mN9pL4kT8wZ3cY"  # an answer may echo anything, a key included


@pytest.mark.parametrize(
    ("value", "unit", "micro"),
    [
        ("12.5", "usd", 1_250_000_000),
        (Decimal("12.5"), "usd", 1_250_000_000),
        (3, "cents", 3_000_000),
        ("0E-6176", "usd", 0),  # Java's BigDecimal zero: zero whatever its exponent
        ("-0E+99999", "usd", 0),
        ("0.00003420000000000000000000000000000000", "usd", 3420),  # 39 decimals, exact
        ("0.000000015", "usd", 2),  # 1.5 micro-cents: rounded once, half to even
        ("1.5E-7", "usd", 15),
        ("0E-99999999999999999999", "usd", 0),  # exponents past any context: no arithmetic is done on them
        ("1E-99999999999999999999", "usd", 0),  # far below half a micro-cent
    ],
)
def test_an_amount_in_dollars_or_cents_number_or_string_is_read_exactly(value: object, unit: str, micro: int) -> None:
    assert amounts.micro(value, amounts.shape("an amount"), unit) == micro


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (SECRETISH, f"not a number (got a string of {len(SECRETISH)} characters)"),
        (None, "not a number (got nothing)"),
        (True, "not a number (got a boolean)"),
        ("NaN", "not a number (got a string of 3 characters)"),
        ("1e999999999", "beyond any plausible bill"),
        ("1E+99999999999999999999", "beyond any plausible bill"),
        ("5000000000", "beyond any plausible bill (more than $1,000,000)"),
    ],
)
def test_what_no_bill_has_is_the_providers_error_with_the_reason_and_not_the_value(value: object, reason: str) -> None:
    with pytest.raises(ShapeError) as raised:
        amounts.micro(value, amounts.shape("an amount value"))
    assert raised.value.detail == f"an amount value that is {reason}"
    assert SECRETISH not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__context__ is None  # raised outside the except


def test_a_provider_words_its_own_failure() -> None:
    def field_is(reason: str) -> EventFormatError:
        return EventFormatError(f"usage event field chargedCents is {reason}")

    with pytest.raises(EventFormatError, match=r"^usage event field chargedCents is not a number \(got a list\)$"):
        amounts.micro([1], field_is, "cents")


def test_exact_keeps_every_digit_for_sums_and_the_sum_is_rounded_once() -> None:
    fail = amounts.shape("a day")
    parts = [amounts.exact("0.000000005", fail) for _ in range(3)]  # each half a micro-cent
    assert sum(parts) == Decimal("0.000000015")
    assert amounts.micro_of_sum(sum(parts, Decimal(0)), fail) == 2  # not 3 x round(0.5) = 0
    with pytest.raises(ShapeError, match=r"^a day that is beyond any plausible bill \(more than \$1,000,000\)$"):
        amounts.micro_of_sum(Decimal("1000000.01"), fail)
    with pytest.raises(ShapeError, match="beyond any plausible bill"):
        amounts.exact("9" * 20, fail)  # past 15 integer digits: refused on its exponent alone


def test_a_cents_limit_is_the_callers() -> None:
    fail = amounts.shape("a member's spend")
    assert amounts.micro("2000000", fail, "usd", limit=10**9 * 100_000_000) == 200_000_000_000_000
    with pytest.raises(ShapeError):
        amounts.micro("2000000", fail, "usd")

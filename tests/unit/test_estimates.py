"""The one reading of a stored cost basis (untrusted: it comes from a database row) and the one way each
output marks money: ≈ for an estimate, — for a cost that is unknown, never $0."""

from __future__ import annotations

import json

import pytest

from grafient_tui.estimates import BILLED, MAX_STORED, Basis, basis_of, together


def test_an_estimate_marks_every_amount_and_billed_money_is_plain() -> None:
    stored = json.dumps({"note": "estimated from credits at the Pro plan's $99 / 500,000 credits", "cost_known": True})
    basis = basis_of(True, stored)
    assert basis.kind == "estimate" and basis.money(123_456_789) == "≈$1.23" and basis.money(0) == "≈$0.00"
    assert BILLED.kind == "billed" and BILLED.money(123_456_789) == "$1.23"
    assert basis.short_note == "estimate"


def test_a_cost_that_cannot_be_priced_is_unknown_never_zero() -> None:
    basis = basis_of(True, json.dumps({"note": "cost unknown: no list price", "cost_known": False}))
    assert basis.money(0) == "—" and basis.money(5) == "—" and basis.usd(0.0) is None
    assert basis.short_note == "cost unknown"


@pytest.mark.parametrize(
    "stored",
    [None, "", "not json", "[1, 2]", '"a string"', "{" * 5000, json.dumps({"note": "x" * MAX_STORED})],
)
def test_a_stored_basis_that_cannot_be_read_still_marks_by_the_providers_kind(stored: str | None) -> None:
    assert basis_of(True, stored).estimated and basis_of(True, stored).cost_known
    assert basis_of(False, stored) == Basis()


def test_stored_text_is_shown_as_data_and_odd_estimate_fields_are_dropped() -> None:
    stored = json.dumps(
        {
            "note": "converted from EUR\x1b[31m at Google's daily rate",
            "estimate": {"tier": "pro", "credit_quota": 500000, "plan_price_usd": {"evil": 1}, "extra": "no"},
        }
    )
    billed, estimate = basis_of(False, stored), basis_of(True, stored)
    assert billed.note == "converted from EUR\\x1b[31m at Google's daily rate" and billed.estimate is None
    assert billed.short_note == "converted from EUR\\x1b[31m"
    assert estimate.estimate == {"tier": "pro", "credit_quota": 500000, "usd_per_credit": None, "as_of": None}


def test_a_total_is_an_estimate_when_one_part_is_and_names_the_parts_it_cannot_count() -> None:
    voice = basis_of(True, json.dumps({"note": "estimated", "cost_known": True}))
    studio = basis_of(True, json.dumps({"note": "cost unknown", "cost_known": False}))
    total = together([("Gemini", BILLED), ("Voice", voice), ("Studio", studio)])
    assert total.estimated and total.money(100_000_000) == "≈$1.00"
    assert total.note == "includes estimates (Voice); leaves out Studio (cost unknown)"
    assert together([("Gemini", BILLED)]) == BILLED

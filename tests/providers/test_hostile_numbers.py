"""Numbers no real bill has, decoded as the clients decode them (JSON fractions as Decimal): each
is one malformed-answer sentence, at once, never minutes of CPU on the event loop or a decimal
overflow shown as an "unexpected error"."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from grafient_tui.money import decimal_text, plausible
from grafient_tui.providers.anthropic import costs as anthropic
from grafient_tui.providers.http import BadResponse
from grafient_tui.providers.openai import costs as openai
from grafient_tui.providers.openrouter import costs as openrouter

HUGE = ("1e999999999", "1e999999", "-1e999999999", "1E400")


def decoded(literal: str) -> object:
    """The value a client gets for a JSON number literal (it decodes with parse_float=Decimal)."""
    return json.loads(literal, parse_float=Decimal)


@pytest.mark.parametrize("literal", HUGE)
def test_plausible_looks_at_the_exponent_only(literal: str) -> None:
    assert not plausible(Decimal(literal))
    assert plausible(Decimal("1534.2215")) and plausible(Decimal("-0.00000001"))


@pytest.mark.parametrize("text", ["1_000", "١٢", "²", " 1 2", "1e5", "NaN", "Infinity", "0x10", ""])
def test_a_decimal_string_is_ascii_digits_only(text: str) -> None:
    assert decimal_text(text) is None


def test_exponents_only_where_asked_and_short() -> None:
    assert decimal_text("1.5E-7", exponent=True) == Decimal("1.5E-7")
    assert decimal_text("1e999999999", exponent=True) is None


@pytest.mark.parametrize("literal", HUGE)
def test_anthropic_token_counts(literal: str) -> None:
    with pytest.raises(BadResponse, match="nothing from this window was saved"):
        anthropic.row_tokens({"model": "m", "output_tokens": decoded(literal)})


@pytest.mark.parametrize("literal", HUGE)
def test_openai_amounts_and_counts(literal: str) -> None:
    with pytest.raises(openai.FormatError):
        openai.usd_micro(decoded(literal))
    with pytest.raises(openai.FormatError):
        openai.count({"num_model_requests": decoded(literal)}, "num_model_requests")


@pytest.mark.parametrize("field", ["usage", "requests", "prompt_tokens", "byok_usage_inference"])
@pytest.mark.parametrize("value", [*HUGE, "²"])
def test_openrouter_rows(field: str, value: str) -> None:
    row = {
        "date": "2026-03-01",
        "model": "m",
        "usage": 1,
        "requests": 1,
        "prompt_tokens": 1,
        "completion_tokens": 1,
        "reasoning_tokens": 0,
        "byok_usage_inference": 0,
    }
    row[field] = value if value == "²" else decoded(value)
    with pytest.raises(BadResponse, match="nothing"):
        openrouter.parse_row(0, row)


def test_actors_of_one_name_never_merge() -> None:
    from grafient_tui.providers.base import distinct_names

    assert distinct_names({"wrk_1": "Research", "wrk_2": "Research", "wrk_3": "Ops"}) == {
        "wrk_1": "Research (wrk_1)",
        "wrk_2": "Research (wrk_2)",
        "wrk_3": "Ops",
    }
    assert distinct_names({"wrk_a": "Default workspace"}, ("Default workspace",)) == {
        "wrk_a": "Default workspace (wrk_a)"
    }
    named = distinct_names({"proj_abc_1": "X", "proj_abc_2": "X"})
    assert len(set(named.values())) == 2  # alike in their first 8 characters: the whole ids

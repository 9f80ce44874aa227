"""The cost rules and the event parser: exact money, tolerant reading, clear refusals."""

from __future__ import annotations

import datetime
import math
import random
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from grafient_tui.money import BadAmount, to_micro
from grafient_tui.providers.cursor import (
    MICRO,
    EventFormatError,
    UsageEvent,
    day_bounds_ms,
    event_cost_micro,
    parse_event,
)
from grafient_tui.providers.cursor.fake import make_events

# The three events of the documented example response.
DOC_EVENTS = [
    {
        "timestamp": "1750979225854",
        "userEmail": "developer@company.com",
        "conversationId": "8f2e4a1b-6c3d-4e5f-9a7b-2d1c8e6f4a3b",
        "model": "claude-4.5-sonnet",
        "kind": "Usage-based",
        "maxMode": True,
        "requestsCosts": 5,
        "isTokenBasedCall": True,
        "isChargeable": True,
        "isHeadless": False,
        "tokenUsage": {
            "inputTokens": 126,
            "outputTokens": 450,
            "cacheWriteTokens": 6112,
            "cacheReadTokens": 11964,
            "totalCents": 20.18232,
        },
        "chargedCents": 21.36232,
        "cursorTokenFee": 1.18,
    },
    {
        "timestamp": "1750979173824",
        "userEmail": "developer@company.com",
        "model": "claude-4.5-sonnet",
        "kind": "Usage-based",
        "maxMode": True,
        "requestsCosts": 10,
        "isTokenBasedCall": True,
        "isChargeable": True,
        "isHeadless": False,
        "tokenUsage": {
            "inputTokens": 5805,
            "outputTokens": 311,
            "cacheWriteTokens": 11964,
            "cacheReadTokens": 0,
            "totalCents": 40.167,
            "discountPercentOff": 10,
        },
        "chargedCents": 37.33,
        "cursorTokenFee": 1.18,
    },
    {
        "timestamp": "1750978339901",
        "userEmail": "admin@company.com",
        "model": "claude-4-sonnet-thinking",
        "kind": "Included in Business",
        "maxMode": True,
        "requestsCosts": 1.4,
        "isTokenBasedCall": False,
        "isChargeable": False,
        "isHeadless": False,
        "chargedCents": 8,
    },
]


def decimal_micro(value: object) -> int:
    """The reference: the literal as a Decimal, rounded half-even at the 6th decimal."""
    d = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    return int((d * MICRO).to_integral_value(rounding=ROUND_HALF_EVEN))


def test_documented_events_cost_exactly_what_cursor_charged() -> None:
    assert [event_cost_micro(e) for e in DOC_EVENTS] == [21_362_320, 37_330_000, 8_000_000]
    assert [parse_event(e).cost_micro for e in DOC_EVENTS] == [21_362_320, 37_330_000, 8_000_000]


def test_documented_event_fields() -> None:
    first, _, third = (parse_event(e) for e in DOC_EVENTS)
    assert first == UsageEvent(
        timestamp_ms=1750979225854,
        day=datetime.date(2025, 6, 26),
        user_email="developer@company.com",
        model="claude-4.5-sonnet",
        kind="Usage-based",
        chargeable=True,
        cost_micro=21_362_320,
        request_units_micro=5 * MICRO,
        input_tokens=126,
        output_tokens=450,
        cache_write_tokens=6112,
        cache_read_tokens=11964,
        conversation_id="8f2e4a1b-6c3d-4e5f-9a7b-2d1c8e6f4a3b",
    )
    assert third.request_units_micro == 1_400_000
    assert (third.chargeable, third.input_tokens, third.conversation_id) == (False, 0, None)


def test_fallback_formula_without_charged_cents_is_exact() -> None:
    raw = dict(DOC_EVENTS[1])
    del raw["chargedCents"]
    # 40.167 × 0.9 + 1.18 = 37.3303 cents; a float computation gives 37.330299999999994.
    assert event_cost_micro(raw) == 37_330_300
    assert parse_event(raw).cost_micro == 37_330_300


def test_fallback_formula_rounds_once_at_the_end() -> None:
    # Each part alone rounds to 0 micro-cents; their exact sum is one.
    raw = {"timestamp": "0", "tokenUsage": {"totalCents": "0.0000005"}, "cursorTokenFee": "0.0000005"}
    assert event_cost_micro(raw) == 1
    raw = {"timestamp": "0", "tokenUsage": {"totalCents": 33.333333, "discountPercentOff": 12.5}}
    assert event_cost_micro(raw) == decimal_micro(Decimal("33.333333") * Decimal("0.875"))


@pytest.mark.parametrize(
    ("raw", "micro"),
    [
        ({}, 0),
        ({"tokenUsage": {}}, 0),
        ({"tokenUsage": {"totalCents": 12.5}}, 12_500_000),
        ({"tokenUsage": {"totalCents": 10, "discountPercentOff": 50}}, 5_000_000),
        ({"tokenUsage": {"discountPercentOff": 50}, "cursorTokenFee": 1.18}, 1_180_000),
        ({"cursorTokenFee": 0.5}, 500_000),
        ({"chargedCents": None, "tokenUsage": {"totalCents": 2}}, 2_000_000),
        ({"chargedCents": 0, "tokenUsage": {"totalCents": 99}}, 0),
        ({"tokenUsage": None, "cursorTokenFee": None}, 0),
    ],
)
def test_missing_parts_count_zero(raw: dict, micro: int) -> None:
    assert event_cost_micro(raw) == micro


def test_numeric_strings_and_nulls_are_read() -> None:
    raw = {
        "timestamp": "1750979225854",
        "userEmail": None,
        "model": None,
        "kind": None,
        "kindLabel": "Usage-based",
        "isChargeable": None,
        "requestsCosts": "2.5",
        "tokenUsage": {
            "inputTokens": "12",
            "outputTokens": None,
            "cacheWriteTokens": 3.0,
            "totalCents": "40.167",
            "discountPercentOff": "10",
        },
        "cursorTokenFee": "1.18",
        "conversationId": None,
        "somethingNew": {"ignored": True},
    }
    event = parse_event(raw)
    assert event.cost_micro == 37_330_300
    assert event.request_units_micro == 2_500_000
    assert (event.input_tokens, event.output_tokens, event.cache_write_tokens, event.cache_read_tokens) == (12, 0, 3, 0)
    assert (event.user_email, event.model, event.kind, event.chargeable) == (
        "unattributed",
        "unknown",
        "Usage-based",
        True,
    )
    assert parse_event({"timestamp": "1", "chargedCents": " 21.36232 "}).cost_micro == 21_362_320
    assert parse_event({"timestamp": "1", "userEmail": ""}).user_email == "unattributed"


def test_chargeable_defaults_from_kind() -> None:
    assert parse_event({"timestamp": "1", "kind": "Usage-based"}).chargeable is True
    assert parse_event({"timestamp": "1", "kind": "Included in Business"}).chargeable is False
    assert parse_event({"timestamp": "1"}).chargeable is False
    assert parse_event({"timestamp": "1", "kind": "Usage-based", "isChargeable": False}).chargeable is False


def cents(value: object) -> int:
    """Cursor's cents through the one money parser (grafient_tui.money.to_micro)."""
    return to_micro(value, "cents")


def test_cents_through_the_money_parser() -> None:
    assert cents(0) == 0
    assert cents(8) == 8_000_000
    assert cents(-1.5) == -1_500_000
    assert cents("0.1") == 100_000
    assert cents(Decimal("1.0000005")) == 1_000_000  # half-even at the 6th decimal
    assert cents(Decimal("1.0000015")) == 1_000_002
    assert cents(1.0000015) == 1_000_002  # the literal, not its binary neighbour
    assert cents(10**8) == 10**14  # a million dollars in one event: the most one row may be
    assert cents(0.1 + 0.2) == 300_000  # 0.30000000000000004 rounds to 0.3
    assert cents(548457.7640565) == 548457764056  # round(x * 1e6) alone would give ...057


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        math.nan,
        math.inf,
        -math.inf,
        "NaN",
        "Infinity",
        "abc",
        "",
        "1,5",
        [1],
        {"a": 1},
        10**8 + 1,
        1e13,
        "1e13",
        "1e999999999",
    ],
)
def test_the_money_parser_refuses(value: object) -> None:
    with pytest.raises(BadAmount):
        cents(value)


@pytest.mark.parametrize("value", ["1e999999999", "-1e999999999", "1E400", "NaN", "abc", 10**9, True])
def test_a_charged_amount_no_bill_has_is_one_event_sentence(value: object) -> None:
    # Not "unexpected error (Overflow)": a sentence naming the field, raised with nothing chained.
    with pytest.raises(EventFormatError, match=r"^usage event field chargedCents is ") as raised:
        parse_event({"timestamp": "1", "chargedCents": value})
    assert raised.value.__context__ is None


def test_the_money_parser_agrees_with_the_decimal_of_the_literal() -> None:
    rng = random.Random(1)
    values: list[object] = []
    for _ in range(10_000):
        decimals = rng.randrange(0, 10)
        magnitude = 10 ** rng.randrange(-3, 8)
        values.append(round(rng.uniform(-magnitude, magnitude), decimals))
        values.append(rng.uniform(-1000, 1000))  # full 17-digit floats
        values.append(rng.randrange(-(10**8), 10**8))
        # Literals exactly half-way at the 7th decimal: where x * 1e6 rounds the wrong way.
        values.append(float(f"{rng.randrange(10 ** rng.randrange(1, 8))}.{rng.randrange(10**6):06d}5"))
    for value in values:
        assert cents(value) == decimal_micro(value), value


def test_timestamps_and_days() -> None:
    midnight = 1750896000000  # 2025-06-26T00:00:00.000Z
    assert parse_event({"timestamp": str(midnight)}).day == datetime.date(2025, 6, 26)
    assert parse_event({"timestamp": midnight - 1}).day == datetime.date(2025, 6, 25)
    assert parse_event({"timestamp": str(midnight + 86_399_999)}).day == datetime.date(2025, 6, 26)
    assert parse_event({"timestamp": "1750979225854"}).timestamp_ms == 1750979225854
    assert day_bounds_ms(datetime.date(2025, 6, 26), datetime.date(2025, 6, 26)) == (midnight, midnight + 86_399_999)
    assert day_bounds_ms(datetime.date(2025, 6, 1), datetime.date(2025, 6, 30))[1] == midnight + 5 * 86_400_000 - 1


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({}, "timestamp"),
        ({"timestamp": None}, "timestamp"),
        ({"timestamp": "yesterday"}, "timestamp"),
        ({"timestamp": True}, "timestamp"),
        ({"timestamp": "-5"}, "timestamp"),
        ({"timestamp": "1", "chargedCents": "twelve"}, "chargedCents"),
        ({"timestamp": "1", "chargedCents": math.nan}, "chargedCents"),
        ({"timestamp": "1", "chargedCents": True}, "chargedCents"),
        ({"timestamp": "1", "tokenUsage": [1, 2]}, "tokenUsage"),
        ({"timestamp": "1", "tokenUsage": {"inputTokens": 1.5}}, "inputTokens"),
        ({"timestamp": "1", "userEmail": {"a": 1}}, "userEmail"),
        ({"timestamp": "1", "requestsCosts": "many"}, "requestsCosts"),
        ({"timestamp": "1", "tokenUsage": {"totalCents": "x"}}, "totalCents"),
    ],
)
def test_unreadable_events_raise_our_error_naming_the_field(raw: dict, field: str) -> None:
    with pytest.raises(EventFormatError) as info:
        parse_event(raw)
    assert field in info.value.sentence


def test_not_a_dict() -> None:
    with pytest.raises(EventFormatError):
        parse_event(["timestamp", "1"])  # type: ignore[arg-type]


def test_generated_events_parse_and_follow_the_rules() -> None:
    events = make_events(
        seed=3,
        start=datetime.date(2025, 1, 1),
        days=8,
        per_day=200,
        members=["a@x.com", "b@x.com"],
        models=["default", "gpt-5"],
    )
    assert len(events) == 1600
    assert events == make_events(
        seed=3,
        start=datetime.date(2025, 1, 1),
        days=8,
        per_day=200,
        members=["a@x.com", "b@x.com"],
        models=["default", "gpt-5"],
    )
    parsed = [parse_event(e) for e in events]
    kinds = {e.kind for e in parsed}
    assert {"Usage-based", "Included in Business", "Errored, Not Charged"} <= kinds
    assert any("chargedCents" not in e and "tokenUsage" in e for e in events)
    assert any("tokenUsage" not in e for e in events)
    assert any(int(e["timestamp"]) % 86_400_000 == 0 for e in events)
    for raw, event in zip(events, parsed, strict=True):
        charged = raw.get("chargedCents")
        if charged is not None:
            assert event.cost_micro == decimal_micro(charged)
        else:
            usage = raw.get("tokenUsage") or {}
            exact = Decimal(repr(usage.get("totalCents", 0))) * (
                1 - Decimal(repr(usage.get("discountPercentOff", 0))) / 100
            ) + Decimal(repr(raw.get("cursorTokenFee", 0)))
            assert event.cost_micro == decimal_micro(exact)


# --------------------------------------------------------------------------- shapes seen in the wild
# Each case is a shape listed in shared/cursor-admin-api.md ("Shapes seen in the wild"), with the
# product's rule for it. The expected figures are worked out by hand from the documented rules.

OLD_SHAPE_USAGE = {"inputTokens": 100, "outputTokens": 50, "totalCents": 12.5}


@pytest.mark.parametrize("kind_field", ["kind", "kindLabel"])
@pytest.mark.parametrize(
    "kind",
    [
        "Errored, Not Charged",
        "Errored, No Charge",
        "Aborted, Not Charged",
        "errored, not charged",
        "USAGE_EVENT_KIND_ERRORED_NOT_CHARGED",
        "USAGE_EVENT_KIND_ABORTED_NOT_CHARGED",
    ],
)
def test_not_charged_kinds_cost_nothing_in_the_fallback(kind_field: str, kind: str) -> None:
    raw = {
        "timestamp": "1",
        kind_field: kind,
        "isTokenBasedCall": True,
        "tokenUsage": dict(OLD_SHAPE_USAGE),
        "cursorTokenFee": 1.18,
    }
    assert event_cost_micro(raw) == 0
    event = parse_event(raw)
    assert event.cost_micro == 0
    assert event.input_tokens == 100  # the tokens were still used; only the money is zero


def test_a_free_bugbot_run_costs_nothing_in_the_fallback() -> None:
    raw = {"timestamp": "1", "kind": "Usage-based", "isFreeBugbot": True, "tokenUsage": dict(OLD_SHAPE_USAGE)}
    assert parse_event(raw).cost_micro == 0
    raw["isFreeBugbot"] = False
    assert parse_event(raw).cost_micro == 12_500_000


def test_charged_cents_wins_whatever_the_kind_says() -> None:
    raw = {"timestamp": "1", "kind": "Errored, Not Charged", "isFreeBugbot": True, "chargedCents": 3.25}
    assert parse_event(raw).cost_micro == 3_250_000
    assert event_cost_micro(raw) == 3_250_000


def test_a_charged_kind_still_uses_the_formula() -> None:
    raw = {
        "timestamp": "1",
        "kind": "Usage-based",
        "tokenUsage": {**OLD_SHAPE_USAGE, "discountPercentOff": 20},
        "cursorTokenFee": 1,
    }
    assert parse_event(raw).cost_micro == 11_000_000  # 12.5 x 0.8 + 1 cents


@pytest.mark.parametrize(
    ("kind", "on_demand"),
    [
        ("Usage-based", True),
        ("usage based", True),
        ("USAGE-BASED", True),
        ("On-Demand", True),
        ("on demand", True),
        ("ondemand", True),
        ("USAGE_EVENT_KIND_USAGE_BASED", True),
        ("Included in Business", False),
        ("Included in Pro", False),
        ("Included", False),
        ("Free", False),
        ("User API Key", False),
        ("USAGE_EVENT_KIND_INCLUDED_IN_BUSINESS", False),
        ("USAGE_EVENT_KIND_FREE_CREDIT", False),
        ("Basado en el uso", False),
        ("", False),
    ],
)
def test_without_is_chargeable_the_split_falls_back_on_the_kind(kind: str, on_demand: bool) -> None:
    assert parse_event({"timestamp": "1", "kind": kind, "chargedCents": 1}).chargeable is on_demand
    assert parse_event({"timestamp": "1", "kindLabel": kind, "chargedCents": 1}).chargeable is on_demand


def test_is_chargeable_wins_over_the_kind() -> None:
    assert parse_event({"timestamp": "1", "kind": "Included in Pro", "isChargeable": True}).chargeable is True
    assert parse_event({"timestamp": "1", "kind": "On-Demand", "isChargeable": False}).chargeable is False


@pytest.mark.parametrize(
    ("value", "ms"),
    [
        ("2026-07-19T12:00:00.000Z", 1784462400000),
        ("2026-07-19T12:00:00Z", 1784462400000),
        ("2026-07-19T14:00:00.250+02:00", 1784462400250),
        ("2026-07-19T00:30:00-05:00", 1784439000000),  # 05:30 UTC: still the 19th
        (1784462400000, 1784462400000),
        ("1784462400000", 1784462400000),
    ],
)
def test_timestamps_as_iso_8601_or_epoch_ms(value: object, ms: int) -> None:
    event = parse_event({"timestamp": value, "chargedCents": 1})
    assert event.timestamp_ms == ms
    assert event.day == datetime.date(2026, 7, 19)


def test_an_iso_time_at_midnight_utc_belongs_to_the_day_it_starts() -> None:
    assert parse_event({"timestamp": "2026-07-19T23:59:59.999Z"}).day == datetime.date(2026, 7, 19)
    assert parse_event({"timestamp": "2026-07-20T00:00:00.000Z"}).day == datetime.date(2026, 7, 20)
    assert parse_event({"timestamp": "2026-07-20T01:00:00+01:00"}).day == datetime.date(2026, 7, 20)


@pytest.mark.parametrize(
    "value", ["2026-07-19T12:00:00", "2026-07-19", "19/07/2026 12:00", "yesterday", "2026-13-45T00:00:00Z"]
)
def test_other_timestamps_are_refused(value: str) -> None:
    with pytest.raises(EventFormatError, match="timestamp"):
        parse_event({"timestamp": value, "chargedCents": 1})


def test_request_units_from_the_older_spelling() -> None:
    assert parse_event({"timestamp": "1", "requestCosts": 2.5}).request_units_micro == 2_500_000
    # the documented name wins when both are there
    assert parse_event({"timestamp": "1", "requestsCosts": 1, "requestCosts": 9}).request_units_micro == 1_000_000
    assert parse_event({"timestamp": "1"}).request_units_micro == 0


def test_events_without_an_email_go_to_the_service_account_or_unattributed() -> None:
    service = {"timestamp": "1", "serviceAccountId": "sa_1", "serviceAccountName": "ci-bot", "chargedCents": 4}
    assert parse_event(service).user_email == "ci-bot"
    assert parse_event({"timestamp": "1", "cloudAgentId": "ca_9", "chargedCents": 4}).user_email == "unattributed"
    assert parse_event({**service, "userEmail": "dev@acme.dev"}).user_email == "dev@acme.dev"


def test_unknown_fields_are_ignored() -> None:
    raw = {**DOC_EVENTS[0], "hostingType": "cloud", "automationId": "a_1", "period": {"startDate": 1}}
    assert parse_event(raw) == parse_event(DOC_EVENTS[0])

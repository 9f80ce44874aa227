"""The home snapshot holds the read model's own classes: what it writes, it reads back equal; anything
else (a value of the wrong type, a field too many or missing, a figure a screen would divide by zero
with) is not a snapshot, and the app starts as without one."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from grafient_tui import home_snapshot
from grafient_tui.budgets import budget_status, forecast, month_bounds
from grafient_tui.config import write_private_file
from grafient_tui.figures import DayFigures, HomeFigures, IntegrationFigures, Summary, SyncStatus

TODAY = date(2026, 11, 24)


def summary(total: int, **changes: Any) -> Summary:
    values: dict[str, Any] = {
        "since": TODAY - timedelta(days=29),
        "until": TODAY,
        "days": 30,
        "synced_days": 29,
        "complete_days": 28,
        "today_partial": True,
        "total_micro": total,
        "on_demand_micro": None,
        "included_micro": None,
        "requests": None,
        "daily_average_micro": 1_234_567,
        "top_model": "claude-4-sonnet\x1b[31m",  # text from an API, kept as it came
        "top_model_micro": total // 2,
        "change_pct": -12.345678901234,
        "change_note": None,
        "requests_partial": True,
        "byok_micro": 5,
    }
    return Summary(**(values | changes))


def home() -> HomeFigures:
    days = (
        DayFigures(day=TODAY - timedelta(days=1), synced=True, complete=True, cost_micro=10, requests=None),
        DayFigures(day=TODAY, synced=False, complete=False),
    )
    card = IntegrationFigures(
        integration_id=3,
        label="Acme — Engineering",
        provider="openrouter",
        key_hint="…wxyz",
        team_members=None,
        summary=summary(10),
        days=days,
        status=SyncStatus(status="failed", last_sync=datetime(2026, 11, 23, 6, 1, 2, 345678, tzinfo=UTC), error="x"),
        history_from=date(2026, 1, 2),
    )
    budget = budget_status(
        budget_id=1,
        target="all",
        target_id=None,
        provider=None,
        period="month",
        measure="cost",
        budget_micro=500 * 100_000_000,
        bounds=month_bounds(TODAY),
        today=TODAY.isoformat(),
        spent_micro=310 * 100_000_000,
        forecast=forecast(
            spent_through_yesterday=300 * 100_000_000,
            spent=310 * 100_000_000,
            complete_day_costs=[20 * 100_000_000] * 14,
            days_left=7,
        ),
        synced_days=23,
        finished_days=23,
    )
    return HomeFigures(period=30, today=TODAY, plan="pro", integrations=(card,), summary=summary(10), budgets=(budget,))


def test_what_is_written_reads_back_equal() -> None:
    figures = home()
    assert home_snapshot.decode(home_snapshot.encode(figures)) == figures
    empty = HomeFigures(period=7, today=TODAY, plan="free", integrations=(), summary=None)
    assert home_snapshot.decode(home_snapshot.encode(empty)) == empty


def test_a_period_with_no_synced_day_reads_back_unknown_not_zero() -> None:
    # no synced day: the amounts are null in the file and None again, its unsynced integrations named
    unknown = summary(0, total_micro=None, synced_days=0, daily_average_micro=None, unsynced=("Router",))
    figures = HomeFigures(period=30, today=TODAY, plan="free", integrations=(), summary=unknown)
    document = json.loads(home_snapshot.encode(figures))
    assert (document["summary"]["total_micro"], document["summary"]["unsynced"]) == (None, ["Router"])
    back = home_snapshot.decode(home_snapshot.encode(figures))
    assert back == figures and back.summary is not None and not back.summary.known


def test_money_is_integer_micro_cents_and_text_is_ascii_escaped() -> None:
    raw = home_snapshot.encode(home())
    assert raw.isascii()
    document = json.loads(raw)
    assert document["format"] == home_snapshot.FORMAT
    [card] = document["integrations"]
    assert card["summary"]["total_micro"] == 10 and isinstance(card["summary"]["total_micro"], int)
    assert card["summary"]["top_model"] == "claude-4-sonnet\x1b[31m"
    assert card["days"][1] == {**card["days"][1], "synced": False, "day": TODAY.isoformat()}


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        target: Any = document
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return change


def _drop(path: tuple[Any, ...]) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        target: Any = document
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]

    return change


CARD = ("integrations", 0)
BUDGET = ("budgets", 0)


@pytest.mark.parametrize(
    "change",
    [
        _set(("format",), "grafient-home-snapshot/2"),
        _set(("period",), 30.0),  # an integer, never a float
        _set(("period",), True),  # nor a boolean
        _set(("period",), 0),  # a period of no days
        _set(("today",), "2026-13-01"),
        _set(("today",), 20261124),
        _set(("plan",), None),
        _set(("summary", "change_pct"), float("nan")),
        _set(("summary", "change_pct"), float("inf")),
        _set(("summary", "change_pct"), "12"),
        _set(("summary", "top_model"), 7),
        _set(("summary", "total_micro"), 10.5),
        _set(("summary", "requests_partial"), 1),
        _set((*CARD, "days"), {"day": "2026-11-24"}),
        _set((*CARD, "days", 0, "complete"), None),
        _set((*CARD, "status", "last_sync"), "yesterday"),
        _set((*CARD, "unknown_field"), 1),
        _drop((*CARD, "history_from")),  # every field is written, so every field is read
        _set((*BUDGET, "budget_micro"), 0),  # a gauge divides by it
        _set((*BUDGET, "status"), "exploded"),  # a gauge looks its mark up
        _set((*BUDGET, "today"), "soon"),
        _set((*BUDGET, "bounds", "end"), "2026-10-01"),  # ends before it starts
        _set((*BUDGET, "thresholds"), "50"),
        _set(("integrations",), None),
    ],
)
def test_a_snapshot_that_is_not_one_is_ignored(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    document = json.loads(home_snapshot.encode(home()))
    change(document)
    raw = json.dumps(document).encode()
    with pytest.raises((ValueError, TypeError, KeyError)):
        home_snapshot.decode(raw)
    write_private_file(home_snapshot.snapshot_path(tmp_path), raw)
    assert home_snapshot.load(tmp_path, 30) is None


def test_a_snapshot_for_another_period_or_too_big_is_ignored(tmp_path: Path) -> None:
    home_snapshot.remember(tmp_path, home())
    assert home_snapshot.load(tmp_path, 30) == home()
    assert home_snapshot.load(tmp_path, 7) is None
    write_private_file(home_snapshot.snapshot_path(tmp_path), b" " * (home_snapshot.MAX_BYTES + 1))
    assert home_snapshot.load(tmp_path, 30) is None


def test_remember_writes_only_what_changed(tmp_path: Path) -> None:
    written = home_snapshot.remember(tmp_path, home())
    path = home_snapshot.snapshot_path(tmp_path)
    path.write_bytes(b"left alone")
    assert home_snapshot.remember(tmp_path, home(), written) == written
    assert path.read_bytes() == b"left alone"  # the same figures: no write


def estimated_home() -> HomeFigures:
    """A home with an ElevenLabs workspace whose dollars are an estimate, beside a billed team."""
    from dataclasses import replace

    from grafient_tui.estimates import basis_of, together

    billed = home()
    voice_basis = basis_of(True, '{"note": "estimated from credits at the Pro plan", "estimate": {"tier": "pro"}}')
    assert voice_basis.estimate is not None and voice_basis.estimate["tier"] == "pro"  # the JSON report shows it
    voice = replace(
        billed.integrations[0],
        integration_id=4,
        label="Voice",
        provider="elevenlabs",
        days=(
            DayFigures(
                day=TODAY,
                synced=True,
                complete=False,
                cost_micro=9_900_000,
                requests=None,
                input_tokens=None,
                output_tokens=None,
                cache_read_tokens=None,
                cache_write_tokens=None,
                credits_micro=500_000_000_000,
                characters=1200,
            ),
        ),
        basis=voice_basis,
    )
    cards = (*billed.integrations, voice)
    return replace(
        billed,
        integrations=cards,
        budgets=tuple(replace(b, estimated=True) for b in billed.budgets),
        basis=together((c.label, c.basis) for c in cards),
        estimated_models=frozenset({"eleven_multilingual_v2", "eleven_flash_v2"}),
    )


def test_how_the_dollars_were_made_reads_back() -> None:
    """The ≈ marks paint at first paint too: each card's basis, the total's, the budgets' and the models
    whose dollars are estimates come back as they were written; the estimate's figures (for the JSON
    report only) are not kept."""
    figures = estimated_home()
    raw = home_snapshot.encode(figures)
    back = home_snapshot.decode(raw)
    assert back == figures
    voice = back.integrations[1]
    assert voice.basis.estimated and voice.basis.note == "estimated from credits at the Pro plan"
    assert voice.basis.estimate is None and 'estimate"' not in raw.decode()
    assert (voice.days[0].credits_micro, voice.days[0].characters, voice.days[0].input_tokens) == (
        5 * 10**11,
        1200,
        None,
    )
    assert back.basis.estimated_labels == ("Voice",) and back.budgets[0].estimated
    assert back.estimated_models == frozenset({"eleven_multilingual_v2", "eleven_flash_v2"})
    document = json.loads(raw)
    assert document["format"] == "grafient-home-snapshot/7"
    assert document["estimated_models"] == ["eleven_flash_v2", "eleven_multilingual_v2"]  # one set, one order


@pytest.mark.parametrize(
    "change",
    [
        _set(("format",), "grafient-home-snapshot/3"),  # readmodel's shape, or issue 24's, of 3
        _set(("estimated_models",), "eleven_flash_v2"),
        _set(("estimated_models",), [7]),
        _set(("basis", "estimated"), 1),
        _set(("basis", "estimated_labels"), "Voice"),
        _set(("integrations", 1, "basis", "estimate"), {"tier": "pro"}),  # a field the snapshot does not hold
        _drop(("integrations", 1, "basis", "cost_known")),
        _set(("integrations", 1, "days", 0, "credits_micro"), 0.5),
        _set(("budgets", 0, "estimated"), "yes"),
    ],
)
def test_a_cost_basis_that_is_not_one_is_no_snapshot(change: Callable[[dict[str, Any]], None]) -> None:
    document = json.loads(home_snapshot.encode(estimated_home()))
    change(document)
    with pytest.raises((ValueError, TypeError, KeyError)):
        home_snapshot.decode(json.dumps(document).encode())


def test_a_calendar_month_is_its_own_snapshot(tmp_path: Path) -> None:
    from dataclasses import replace

    figures = home()
    november = replace(figures, month="2026-11", plan_note="Grafient plan free keeps 30 days.")
    home_snapshot.remember(tmp_path, november)
    assert home_snapshot.load(tmp_path, figures.period) is None  # not the rolling period of as many days
    assert home_snapshot.load(tmp_path, figures.period, month="2026-11") == november
    assert home_snapshot.load(tmp_path, figures.period, month="2026-10") is None

"""The headline over mixed providers (issue 21): billed with the usage value beside it, the change's scope,
the plan's key where it keeps too little, and what the coverage leaves to the providers."""

from __future__ import annotations

from datetime import date

from textual.app import App, ComposeResult
from textual.widgets import Static

from grafient_tui.figures import Summary
from grafient_tui.tui.widgets.summary import SummaryBar, coverage_note

TODAY = date(2026, 11, 24)
DOLLAR = 100_000_000


def summary(**changes: object) -> Summary:
    values: dict[str, object] = {
        "since": date(2026, 10, 26),
        "until": TODAY,
        "days": 30,
        "synced_days": 30,
        "complete_days": 29,
        "today_partial": True,
        "total_micro": 6_373_39 * 1_000_000,
        "on_demand_micro": 618_51 * 1_000_000,
        "included_micro": 1_012_14 * 1_000_000,
        "requests": 10,
        "daily_average_micro": 212 * DOLLAR,
        "top_model": "claude-sonnet-4.5",
        "top_model_micro": 2_180_63 * 1_000_000,
        "change_pct": 0.6,
        "change_note": "OpenRouter left out: keeps 30 days",
        "billed_micro": 5_361_25 * 1_000_000,
        "split_labels": ("Eng",),
        "expected_days": 30,
        "limits": ("OpenRouter: today not reported yet",),
        "left_out": ("OpenRouter",),
    }
    return Summary(**(values | changes))  # type: ignore[arg-type]


class Headline(App[None]):
    def compose(self) -> ComposeResult:
        yield SummaryBar()


def text(app: App[None], name: str) -> str:
    return str(app.query_one(SummaryBar).query_one(name, Static).render())


async def test_billed_beside_the_usage_value_and_the_change_says_what_it_leaves_out() -> None:
    app = Headline()
    async with app.run_test(size=(120, 10)) as pilot:
        app.query_one(SummaryBar).show(summary(), 30)
        await pilot.pause()
        assert text(app, ".figure-total").split("\n") == ["Billed", "$5,361.25", "usage value $6,373.39"]
        assert text(app, ".figure-change").split("\n") == ["vs previous", "▲ 0.6%", "without OpenRouter"]
        tooltip = str(app.query_one(SummaryBar).query_one(".figure-change", Static).tooltip)
        assert tooltip.endswith("OpenRouter left out: keeps 30 days")
        assert text(app, ".figure-model").split("\n")[1] == "claude-sonnet-4.5 $2,180.63"  # the key, then its amount
        assert coverage_note(summary()) == "OpenRouter: today not reported yet · today so far"


async def test_a_trend_the_plan_keeps_too_little_for_names_the_key() -> None:
    app = Headline()
    async with app.run_test(size=(120, 10)) as pilot:
        limited = summary(
            change_pct=None,
            change_note="previous period 0/29 days synced: the free plan keeps 30 days",
            plan_limited=True,
        )
        app.query_one(SummaryBar).show(limited, 30)
        await pilot.pause()
        assert text(app, ".figure-change").split("\n")[2].endswith("· P: plan")
        # one provider billing it all: billed is the usage value, and says so
        app.query_one(SummaryBar).show(summary(billed_micro=6_373_39 * 1_000_000, on_demand_micro=None), 30)
        await pilot.pause()
        assert text(app, ".figure-total").split("\n") == ["Billed", "$6,373.39", "= usage value"]


def test_a_day_not_reported_yet_is_no_gap_on_the_card() -> None:
    from grafient_tui.figures import DayFigures
    from grafient_tui.tui.widgets.card import scale_line

    done = DayFigures(day=date(2026, 11, 23), synced=True, complete=True, cost_micro=DOLLAR)
    today = DayFigures(day=TODAY, synced=False, complete=False, gap="not reported yet")
    assert scale_line([done, today]).endswith(") · dots: not reported yet")
    never = DayFigures(day=date(2026, 11, 22), synced=False, complete=False, gap="never synced")
    assert scale_line([never, done, today]).endswith(") · dots: not synced")


async def test_a_period_with_nothing_synced_reads_billed_unknown_never_zero(grafient_home) -> None:
    """The home's figures from a real store whose integration has no synced day in the period (added, never
    synced): the headline is `Billed —`, says why, and shows no $0.00."""
    from grafient_tui.config import Settings
    from grafient_tui.secret import Secret
    from grafient_tui.service import GrafientService
    from grafient_tui.store.db import Database
    from grafient_tui.store.integrations import add_integration
    from grafient_tui.store.vault import Vault

    settings = Settings.from_env()
    settings.ensure_dirs()
    db, vault = Database(settings), Vault(settings)
    add_integration(db, vault, label="Eng", provider="cursor", api_key=Secret("key_" + "a" * 64))
    service = GrafientService(settings, db=db, vault=vault)
    try:
        home = service.home(30, TODAY)
    finally:
        service.close()
    assert home.summary is not None and not home.summary.known
    app = Headline()
    async with app.run_test(size=(120, 10)) as pilot:
        app.query_one(SummaryBar).show(home.summary, 30, home.basis)
        await pilot.pause()
        assert text(app, ".figure-total").split("\n") == ["Billed", "—", "nothing synced in this period"]
        assert coverage_note(home.summary) == "0 of 30 days synced · nothing synced in this period"


async def test_the_apps_headline_and_card_read_unknown_when_nothing_is_synced(grafient_home) -> None:
    """The whole app on a home whose one integration never synced (its provider answers every request with
    a 500, so its sync fails and stores nothing): the headline reads `Billed —`, the card `—`, no $0.00."""
    from datetime import UTC, datetime

    import httpx

    from grafient_tui.config import Settings
    from grafient_tui.secret import Secret
    from grafient_tui.store.db import Database
    from grafient_tui.store.integrations import add_integration
    from grafient_tui.store.vault import Vault
    from grafient_tui.tui.app import GrafientApp
    from grafient_tui.tui.widgets.card import IntegrationCard
    from tests.helpers import settle

    settings = Settings.from_env()
    settings.ensure_dirs()
    db, vault = Database(settings), Vault(settings)
    add_integration(db, vault, label="Eng", provider="cursor", api_key=Secret("key_" + "a" * 64))
    db.dispose()
    refused = httpx.MockTransport(lambda request: httpx.Response(500, json={"error": "down"}))
    app = GrafientApp(settings, transport=refused, now=lambda: datetime(2026, 11, 24, 9, 30, tzinfo=UTC))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        home = app.screen
        headline = str(home.query_one(".figure-total", Static).render()).split("\n")
        assert headline == ["Billed", "—", "nothing synced in this period"]
        card = home.query_one(IntegrationCard)
        assert card.view.summary is not None and card.view.summary.total_micro is None
        shown = str(card.query_one(".card-cost", Static).render())
        assert shown.startswith("—") and "$0.00" not in shown

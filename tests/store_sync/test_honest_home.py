"""The home's figures over mixed providers through the service (issue 21): the plan's sentence after the
first add, calendar months, the all-integrations models by key, and what `P` will say before it changes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from grafient_tui.config import Settings
from grafient_tui.errors import ConfigError
from grafient_tui.service import GrafientService
from grafient_tui.spans import rolling
from tests.store_sync.test_coverage import (
    DOLLAR,
    TODAY,
    days_back,
    integration,
    provider_integration,
    put,
    put_billed,
    put_model,
)


@pytest.fixture
def store(grafient_home):
    from grafient_tui.store.db import Database
    from grafient_tui.store.vault import Vault

    settings = Settings.from_env()
    settings.ensure_dirs()
    return Database(settings), Vault(settings)


@pytest.fixture
def service(store) -> GrafientService:
    db, vault = store
    return GrafientService(db.settings, db=db, vault=vault)


def test_a_new_home_on_the_free_plan_says_what_the_plan_keeps_and_how_to_change_it(store, service) -> None:
    eng = integration(store, "Eng")
    put(store, eng, dict.fromkeys(days_back(30, 0), DOLLAR))  # what the first add's backfill leaves
    home = service.home(30, TODAY)
    assert home.summary is not None and home.summary.change_pct is None and home.summary.plan_limited
    assert home.plan_note == (
        "Grafient plan free keeps 30 days of history of every provider. "
        "Trends need the period before too: P (or `grafient plan pro`) keeps more."
    )
    service.set_plan("pro")
    assert service.home(30, TODAY).plan_note is None  # the days are missing, but no longer the plan's doing


def test_plan_change_says_what_the_next_sync_fetches(service) -> None:
    assert service.plan() == "free"
    sentence = service.plan_change("pro")
    assert sentence.startswith("Grafient plan pro keeps 365 days of history (")
    assert "OpenRouter 30" in sentence and "a backfill" in sentence
    assert service.plan_change("free").endswith("It is the plan already; nothing changes.")
    # pro and ultimate keep the same: the question says so rather than looking different
    assert service.plan_words("ultimate").replace("ultimate", "pro") == service.plan_words("pro")
    with pytest.raises(ConfigError):
        service.plan_change("gold")


def test_calendar_months_through_the_service(store, service) -> None:
    eng = integration(store, "Eng")
    put(store, eng, dict.fromkeys(days_back(60, 0), DOLLAR))
    keys = [c.key for c in service.period_choices(TODAY)]
    assert keys == ["7", "30", "90", "this-month", "last-month", "2026-09"]
    november = service.period("this-month", TODAY)
    home = service.home(30, TODAY, span=november)
    assert (home.month, home.period) == ("2026-11", 24)
    assert home.summary is not None and home.summary.forecast_micro is not None
    assert home.summary.change_pct == pytest.approx(0.0)  # Nov 1-23 against Oct 1-23, $1 a day each


def test_the_models_across_every_integration_by_key(store, service) -> None:
    eng = integration(store, "Eng")
    claude = provider_integration(store, "Claude", "anthropic", "c")
    router = provider_integration(store, "Router", "openrouter", "r")
    day = TODAY - timedelta(days=1)
    put_model(store, eng, day, "claude-4.5-sonnet", 10 * DOLLAR, on_demand=DOLLAR)
    put_model(store, claude, day, "claude-sonnet-4-5-20250929", 20 * DOLLAR)
    put_model(store, router, day, "anthropic/claude-sonnet-4.5", 30 * DOLLAR)
    put_model(store, claude, TODAY, "claude-opus-4-1", 50 * DOLLAR)
    [sonnet, opus] = service.models_across(service.period("7", TODAY), TODAY)
    assert (sonnet.key, sonnet.cost_micro, sonnet.providers) == (
        "claude-sonnet-4.5",
        60 * DOLLAR,
        ("anthropic", "cursor", "openrouter"),
    )
    assert opus.names == ("claude-opus-4-1",)
    # the most expensive model of the home is the model, not its dearest name: $60 over three names
    home = service.home(7, TODAY)
    assert home.summary is not None and (home.summary.top_model, home.summary.top_model_micro) == (
        "claude-sonnet-4.5",
        60 * DOLLAR,
    )


def test_billed_per_model_is_known_only_where_every_day_of_it_is(store, service) -> None:
    """Cursor's billed per model is its on-demand part as stored per day x model (migration 0012); a
    period with one day stored before that (NULL) is unknown for that model, never a partial sum."""
    eng = integration(store, "Eng")
    claude = provider_integration(store, "Claude", "anthropic", "c")
    old, new = TODAY - timedelta(days=2), TODAY - timedelta(days=1)
    put_model(store, eng, old, "gpt-5", 10 * DOLLAR, on_demand=3 * DOLLAR)  # before: NULL per model
    put_model(store, eng, new, "gpt-5", 10 * DOLLAR, on_demand=4 * DOLLAR, per_model=True)
    put_model(store, eng, TODAY - timedelta(days=3), "claude-4.5-sonnet", 8 * DOLLAR, on_demand=0, per_model=True)
    put_model(store, claude, new, "claude-sonnet-4-5", 5 * DOLLAR)
    models = {m.key: m for m in service.models_across(service.period("7", TODAY), TODAY)}
    assert models["gpt-5"].billed_micro is None and models["gpt-5"].cost_micro == 20 * DOLLAR
    # all included: billed 0, known; plus Anthropic's whole cost
    assert models["claude-sonnet-4.5"].billed_micro == 5 * DOLLAR
    # the newer day alone: every day known
    since_new = {m.key: m for m in service.models_across(rolling(2, TODAY), TODAY)}
    assert since_new["gpt-5"].billed_micro == 4 * DOLLAR
    # a sync of the old day fills it
    put_model(store, eng, old, "gpt-5", 10 * DOLLAR, on_demand=3 * DOLLAR, per_model=True)
    models = {m.key: m for m in service.models_across(service.period("7", TODAY), TODAY)}
    assert models["gpt-5"].billed_micro == 7 * DOLLAR


def test_adding_a_30_day_provider_keeps_the_homes_change(store, service) -> None:
    eng = integration(store, "Eng")
    put(store, eng, dict.fromkeys(days_back(59, 0), DOLLAR))
    service.set_plan("pro")
    before = service.home(30, TODAY).summary
    assert before is not None and before.change_pct == pytest.approx(0.0)
    router = provider_integration(store, "OpenRouter", "openrouter", "r")
    put_billed(store, router, dict.fromkeys(days_back(30, 1), DOLLAR // 50))
    after = service.home(30, TODAY).summary
    assert after is not None and after.change_pct == pytest.approx(0.0)
    assert after.change_note == "OpenRouter left out: keeps 30 days" and after.coverage() is None

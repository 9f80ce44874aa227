"""Billed and usage value are each provider's rule (issue 21), read from the registry's capabilities."""

from __future__ import annotations

import pytest

from grafient_tui import providers


@pytest.mark.parametrize("name", providers.names())
def test_a_plan_covers_part_only_where_the_cost_is_split(name: str) -> None:
    caps = providers.capabilities(name)
    assert (caps.covered_by is not None) == caps.has_on_demand


@pytest.mark.parametrize("name", providers.names())
def test_the_days_a_provider_keeps_are_its_deepest_history(name: str) -> None:
    assert providers.capabilities(name).keeps_days == providers.get(name).limits.max_history_days


def test_which_providers_split_and_which_keep_little() -> None:
    covered = {n for n in providers.names() if providers.capabilities(n).covered_by}
    assert covered == {"cursor", "copilot", "google"}
    assert providers.capabilities("openrouter").keeps_days == 30
    assert not providers.capabilities("openrouter").has_today
    assert {n for n in providers.names() if providers.capabilities(n).has_request_units} == {"cursor"}


@pytest.mark.parametrize("name", providers.names())
@pytest.mark.parametrize("plan", ["free", "pro", "ultimate"])
def test_a_plans_history_is_read_without_loading_the_provider(name: str, plan: str) -> None:
    from grafient_tui.store.queries import plan_days

    assert plan_days(providers.capabilities(name), plan) == providers.get(name).limits.history_for(plan)

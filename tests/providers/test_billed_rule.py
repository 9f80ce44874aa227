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
    caps = providers.capabilities(name)
    if caps.keeps_days is not None:
        assert caps.keeps_days == providers.get(name).limits.max_history_days


def test_which_providers_split_and_which_keep_little() -> None:
    covered = {n for n in providers.names() if providers.capabilities(n).covered_by}
    assert covered == {"cursor", "copilot", "google"}
    assert providers.capabilities("openrouter").keeps_days == 30
    assert not providers.capabilities("openrouter").has_today
    assert {n for n in providers.names() if providers.capabilities(n).has_request_units} == {"cursor"}

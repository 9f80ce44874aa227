"""The provider registry: one row per provider, and everything a screen or the CLI reads of a provider
comes from that row without loading it."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from grafient_tui import providers
from grafient_tui.config import DEFAULT_API_URLS
from grafient_tui.errors import ConfigError
from grafient_tui.providers.base import Capabilities, Provider
from tests.helpers import PATIENCE

EXPECTED = ("cursor", "anthropic", "openai", "openrouter", "copilot", "xai", "google", "elevenlabs")


def test_one_row_per_provider_in_the_order_they_are_offered() -> None:
    assert providers.names() == EXPECTED
    assert all(isinstance(providers.row(name), providers.ProviderRow) for name in EXPECTED)


@pytest.mark.parametrize("name", EXPECTED)
def test_every_row_has_a_client_a_fake_a_title_capabilities_a_colour_and_an_address(name: str) -> None:
    row = providers.row(name)
    client = providers.get(name)
    assert issubclass(client, Provider) and client.name == name
    assert client.title == row.title == providers.title(name)  # the class takes its title from the row
    assert isinstance(providers.capabilities(name), Capabilities)
    assert client.capabilities == providers.capabilities(name)
    assert callable(getattr(providers.fake(name), "handler", None))  # serves its API as an httpx handler
    assert re.fullmatch(r"#[0-9a-f]{6}", row.colour) and providers.colour(name) == row.colour
    assert client.account_fields == providers.account_fields(name)
    assert row.base_url.startswith("https://") and DEFAULT_API_URLS[name] == row.base_url  # config reads the row


def test_every_provider_has_its_own_colour_and_an_unknown_one_is_grey() -> None:
    colours = [providers.colour(name) for name in EXPECTED]
    assert len(set(colours)) == len(colours)
    assert providers.OTHER_COLOUR not in colours
    assert providers.colour("gemini") == providers.OTHER_COLOUR
    assert providers.title("gemini") == "gemini"


def test_the_stacked_chart_takes_its_colours_from_the_rows() -> None:
    from grafient_tui.tui.widgets.chart_layout import OTHER_COLOUR, PROVIDER_COLOURS, provider_colour

    assert {name: providers.row(name).colour for name in EXPECTED} == PROVIDER_COLOURS
    assert OTHER_COLOUR == providers.OTHER_COLOUR
    assert [provider_colour(name) for name in EXPECTED] == [providers.colour(name) for name in EXPECTED]
    assert provider_colour("gemini") == providers.OTHER_COLOUR


def test_a_name_grafient_does_not_know_is_one_sentence() -> None:
    for read in (providers.row, providers.get, providers.capabilities):
        with pytest.raises(ConfigError, match=r"unknown provider 'gemini' \(Grafient knows cursor, anthropic"):
            read("gemini")
    with pytest.raises(ConfigError, match="has no fake"):
        providers.fake("gemini")
    assert providers.account_fields("gemini") == ()


PROBE = """
import sys
from grafient_tui import providers
for name in providers.names():
    providers.row(name), providers.title(name), providers.colour(name), providers.account_fields(name)
    providers.capabilities(name)
loaded = sorted(m for m in sys.modules if m.split(".")[0] == "httpx" or m.startswith("grafient_tui.providers."))
allowed = {"grafient_tui.providers.base", "grafient_tui.providers.copilot", "grafient_tui.providers.xai",
           "grafient_tui.providers.google", "grafient_tui.providers.copilot.fields",
           "grafient_tui.providers.xai.fields", "grafient_tui.providers.google.fields"}
print("LOADED", [m for m in loaded if m not in allowed])
"""


def test_reading_every_row_loads_no_provider_and_no_httpx() -> None:
    """Titles, colours, capabilities and account fields come from the rows: the provider packages'
    fields modules (no httpx) and base.py may load, no client, no cost rules, no fake."""
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=PATIENCE)
    assert result.returncode == 0, result.stderr
    assert "LOADED []" in result.stdout, result.stdout


IMPORT_PROBE = """
import sys
import dataclasses
before = set(sys.modules)
made = []
original = dataclasses.dataclass
dataclasses.dataclass = lambda *a, **k: made.append(a) or original(*a, **k)
import grafient_tui.providers
print("NEW", sorted(m for m in set(sys.modules) - before if m.startswith("grafient_tui")), "DATACLASSES", len(made))
"""


def test_importing_the_registry_defines_no_dataclass_and_loads_only_the_errors() -> None:
    """The app's first paint and `grafient --help` import it: it stays a table."""
    result = subprocess.run([sys.executable, "-c", IMPORT_PROBE], capture_output=True, text=True, timeout=PATIENCE)
    assert result.returncode == 0, result.stderr
    assert "DATACLASSES 0" in result.stdout, result.stdout
    new = result.stdout.split("NEW ", 1)[1].split(" DATACLASSES")[0]
    assert new == "['grafient_tui', 'grafient_tui.errors', 'grafient_tui.providers']", new

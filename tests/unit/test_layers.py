"""The engine (providers/, store/, sync/, budgets/) and the service the CLI calls never import Textual: they run
headless for cron. Nor do the app's pure parts (tui/syncing.py, tui/live.py)."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import PATIENCE

PROBE = """
import importlib, pkgutil, sys
import grafient_tui
for package in ("grafient_tui.providers", "grafient_tui.store", "grafient_tui.sync", "grafient_tui.budgets"):
    module = importlib.import_module(package)
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        importlib.import_module(info.name)
# and the app's pure parts: a sync's words and batches, the live state (tested without Textual)
for name in ("cli", "service", "report", "money", "tables", "overview", "tui.syncing", "tui.live"):
    importlib.import_module("grafient_tui." + name)
loaded = sorted(m for m in sys.modules if m == "textual" or m.startswith("textual."))
print("LOADED", len([m for m in sys.modules if m.startswith("grafient_tui.")]))
assert not loaded, loaded
"""


def test_engine_packages_do_not_import_textual() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=PATIENCE)
    assert result.returncode == 0, result.stderr
    loaded = int(result.stdout.split()[-1])
    assert loaded >= 8  # the walk really imported the engine modules


REGISTRY_PROBE = """
import sys
from grafient_tui import providers
names = providers.names()
assert names, names
kinds = [providers.capabilities(name).actor_kind for name in names]  # what the report reads of each
loaded = sorted(m for m in sys.modules
                if m == "httpx" or m.startswith("httpx.") or m == "textual" or m.startswith("textual.")
                or m == "grafient_tui.providers.http"
                or any(m == f"grafient_tui.providers.{n}" or m.startswith(f"grafient_tui.providers.{n}.")
                       for n in names))
print("NAMES", *names)
assert not loaded, loaded
"""


def test_the_provider_registry_loads_no_provider_and_no_httpx() -> None:
    """`grafient --help`, the CLI's provider choices and the report's capabilities read the registry:
    that must stay cheap."""
    result = subprocess.run([sys.executable, "-c", REGISTRY_PROBE], capture_output=True, text=True, timeout=PATIENCE)
    assert result.returncode == 0, result.stderr
    assert "cursor" in result.stdout.split()


APP_PROBE = """
import sys
import grafient_tui.tui.app
heavy = sorted(
    {m.split(".")[0] for m in sys.modules} & {"sqlalchemy", "sqlmodel", "httpx", "cryptography", "prometheus_client"}
)
print("HEAVY", heavy)
assert not heavy, heavy
"""


def test_the_app_module_loads_no_store_network_or_crypto_library() -> None:
    """The first paint (and the last run's figures on it) needs none of them: they load in a thread after.
    Nor the Prometheus client, which only `grafient metrics` loads."""
    result = subprocess.run([sys.executable, "-c", APP_PROBE], capture_output=True, text=True, timeout=PATIENCE)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "HEAVY []" in result.stdout


def test_the_registry_knows_each_providers_capabilities_without_loading_it() -> None:
    """Each provider's capabilities are one row of the registry's table (REGISTRY_PROBE above: reading
    them loads no provider), and the provider's class says the same."""
    from grafient_tui import providers

    for name in providers.names():
        assert providers.capabilities(name) == providers.get(name).capabilities
    import pytest

    from grafient_tui.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown provider"):
        providers.capabilities("gemini")


READ_MODEL_PROBE = """
import sys
before = set(sys.modules)
import grafient_tui.figures
loaded = sorted(set(sys.modules) - before)
ours = [m for m in loaded if m.startswith("grafient_tui") and m not in ("grafient_tui", "grafient_tui.figures")]
foreign = [m for m in loaded if not m.startswith("grafient_tui") and m.split(".")[0] not in sys.stdlib_module_names]
print("OURS", ours, "FOREIGN", foreign)
assert "grafient_tui.figures" in loaded and not ours and not foreign, (ours, foreign)
"""


def test_the_read_model_imports_only_the_standard_library() -> None:
    """The figures every screen, the CLI and the home snapshot share load before anything else does."""
    result = subprocess.run([sys.executable, "-c", READ_MODEL_PROBE], capture_output=True, text=True, timeout=PATIENCE)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "OURS [] FOREIGN []" in result.stdout

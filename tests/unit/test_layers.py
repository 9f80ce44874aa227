"""The engine (providers/, store/, sync/, budgets/) and the service the CLI calls never import Textual: they run
headless for cron."""

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
for name in ("cli", "service", "report", "money", "tables", "overview"):
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
loaded = sorted(m for m in sys.modules
                if m == "httpx" or m.startswith("httpx.") or m == "textual" or m.startswith("textual.")
                or m == "grafient_tui.providers.http"
                or any(m == f"grafient_tui.providers.{n}" or m.startswith(f"grafient_tui.providers.{n}.")
                       for n in names))
print("NAMES", *names)
assert not loaded, loaded
"""


def test_the_provider_registry_loads_no_provider_and_no_httpx() -> None:
    """`grafient --help` and the CLI's provider choices read the registry: that must stay cheap."""
    result = subprocess.run([sys.executable, "-c", REGISTRY_PROBE], capture_output=True, text=True, timeout=PATIENCE)
    assert result.returncode == 0, result.stderr
    assert "cursor" in result.stdout.split()


APP_PROBE = """
import sys
import grafient_tui.tui.app
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"sqlalchemy", "sqlmodel", "httpx", "cryptography"})
print("HEAVY", heavy)
assert not heavy, heavy
"""


def test_the_app_module_loads_no_store_network_or_crypto_library() -> None:
    """The first paint (and the last run's figures on it) needs none of them: they load in a thread after."""
    result = subprocess.run([sys.executable, "-c", APP_PROBE], capture_output=True, text=True, timeout=PATIENCE)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "HEAVY []" in result.stdout

"""Every test runs against its own GRAFIENT_HOME and never waits on real backoff."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

API = "https://api.cursor.com"
GOOD_KEY = "key_" + "a1b2c3d4" * 8  # documented shape: key_ + 64 characters


@pytest.fixture(autouse=True)
def grafient_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    for name in list(os.environ):
        if name.startswith("GRAFIENT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("GRAFIENT_HOME", str(home))
    monkeypatch.setenv("GRAFIENT_BACKOFF_BASE", "0")  # retries happen, the waiting does not
    for provider in ("CURSOR", "ANTHROPIC", "OPENAI", "OPENROUTER"):
        monkeypatch.setenv(f"GRAFIENT_{provider}_RPM", "0")  # no pacing in tests
    return home

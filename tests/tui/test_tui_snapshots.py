"""SVG snapshots of the three screens, from seeded data at a fixed size with a frozen clock.

A snapshot that is missing fails; set GRAFIENT_UPDATE_SNAPSHOTS=1 to write them
all after an intended change, then look at the SVGs before committing them.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from textual.widgets import Input

from grafient_tui.config import Settings
from grafient_tui.store.db import Database
from grafient_tui.store.models import SyncRun
from grafient_tui.store.vault import Vault
from grafient_tui.tui.app import GrafientApp
from tests.factories import seed_history
from tests.helpers import settle

SNAPSHOTS = Path(__file__).parent / "snapshots"
NOW = datetime(2025, 6, 18, 9, 30, tzinfo=UTC)
SIZE = (110, 34)
# Read at import: the autouse fixture clears every GRAFIENT_* variable before each test.
UPDATE = os.environ.get("GRAFIENT_UPDATE_SNAPSHOTS") == "1"
MODELS = ["claude-4.5-sonnet", "gpt-5", "claude-4-sonnet-thinking", "default", "gemini-2.5-pro", "o3"]


def _no_network(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"a snapshot must not sync ({request.url.path})")


def build_scene() -> GrafientApp:
    settings = Settings.from_env()
    settings.ensure_dirs()
    db, vault = Database(settings), Vault(settings)
    seed_history(
        db,
        vault,
        label="Acme Engineering",
        until=NOW.date(),
        days=90,
        models=MODELS,
        members=["maya@acme.dev", "liam@acme.dev", "sofia@acme.dev", "noah@acme.dev"],
        seed=1,
        synced_at=NOW - timedelta(minutes=12),
        billed_per_model=True,
    )
    data = seed_history(
        db,
        vault,
        label="Acme Data",
        until=NOW.date(),
        days=90,
        models=MODELS[:3],
        members=["ava@acme.dev", "kenji@acme.dev"],
        seed=2,
        synced_at=NOW - timedelta(hours=3),
        billed_per_model=True,
    )
    with db.session(write=True) as session:  # its last forced sync failed after a good one
        session.add(
            SyncRun(
                integration_id=data,
                trigger="force",
                started_at=NOW - timedelta(minutes=5),
                finished_at=NOW - timedelta(minutes=5),
                outcome="failed",
                error="the Cursor API failed with HTTP 500 after 6 tries: An unexpected error occurred",
            )
        )
    # Two budgets, so the gauges are in the pictures: one the forecast is above, one fine.
    from grafient_tui.service import GrafientService

    service = GrafientService(settings, db=db, vault=vault)
    service.set_budget("Acme Engineering", "2000", now=NOW)
    service.set_budget("all", "3000", on_demand=True, now=NOW)
    db.dispose()
    return GrafientApp(settings, transport=httpx.MockTransport(_no_network), now=lambda: NOW)


def normalise(svg: str) -> str:
    """Textual/Rich ids differ between runs; the picture does not."""
    return re.sub(r"terminal-\d+", "terminal", svg)


def check(name: str, svg: str, tmp_path: Path) -> None:
    path = SNAPSHOTS / f"{name}.svg"
    svg = normalise(svg)
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(svg, encoding="utf-8")
        return
    if not path.exists():  # a missing picture is a failure, never a free pass
        pytest.fail(f"{path} is missing (GRAFIENT_UPDATE_SNAPSHOTS=1 writes it; look at it before committing)")
    if path.read_text(encoding="utf-8") != svg:
        actual = tmp_path / f"{name}.actual.svg"
        actual.write_text(svg, encoding="utf-8")
        pytest.fail(
            f"{name} differs from {path}; the new picture is {actual} "
            "(GRAFIENT_UPDATE_SNAPSHOTS=1 rewrites the snapshots)"
        )


async def _settled(app: GrafientApp, pilot) -> None:
    await settle(app, pilot)
    assert not app.syncs


async def test_home_snapshot(tmp_path: Path) -> None:
    app = build_scene()
    async with app.run_test(size=SIZE) as pilot:
        await _settled(app, pilot)
        check("home", app.export_screenshot(title="Grafient"), tmp_path)


async def test_detail_snapshot(tmp_path: Path) -> None:
    app = build_scene()
    async with app.run_test(size=SIZE) as pilot:
        await _settled(app, pilot)
        await pilot.press("enter")
        await _settled(app, pilot)
        check("detail", app.export_screenshot(title="Grafient"), tmp_path)


async def test_add_modal_snapshot(tmp_path: Path) -> None:
    app = build_scene()
    async with app.run_test(size=SIZE) as pilot:
        await _settled(app, pilot)
        await pilot.press("a")
        await pilot.pause()
        for field in app.screen.query(Input):
            field.cursor_blink = False  # a blinking cursor would make the picture depend on timing
        await pilot.press("tab")  # from the provider, where the form opens, to the label
        await pilot.press(*"Acme Platform")
        await pilot.pause()
        check("add", app.export_screenshot(title="Grafient"), tmp_path)

"""Names are cut to 255 characters (a visible `…` at the end) before they are stored: a 10 KB model or
member name used to fail every PostgreSQL sync (an index row holds at most ~2.7 KB) and stored whole
on SQLite. Run against a real PostgreSQL server by .ci/run (.ci/with-postgres)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import respx

from grafient_tui.providers.cursor.fake import FakeCursorTeam
from tests.conftest import GOOD_KEY, PostgresServer
from tests.helpers import run_cli

NOW = datetime(2026, 3, 12, 10, 30, tzinfo=UTC)
MODEL = "模" * 10_000  # 30 KB in UTF-8
MEMBER = "m" * 10_000 + "@example.com"


def long_named_team() -> FakeCursorTeam:
    ms = int((NOW - timedelta(days=1)).timestamp() * 1000)
    events = [
        {"timestamp": str(ms + i), "userEmail": MEMBER, "model": MODEL + tail, "kind": "Usage-based", "chargedCents": 5}
        for i, tail in enumerate(["", "x", "y"])  # three names alike in their first 10,000 characters
    ]
    return FakeCursorTeam(api_key=GOOD_KEY, events=events, members=[{"name": "A", "email": "a@x.io", "role": "owner"}])


def sync_long_names(capsys, monkeypatch) -> dict:
    monkeypatch.setenv("GRAFIENT_NOW", NOW.isoformat())
    with respx.mock(base_url="https://api.cursor.com") as api:
        api.route().mock(side_effect=long_named_team().handler)
        added = run_cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", stdin=GOOD_KEY)
        assert added.code == 0 and added.out.splitlines()[-1].startswith("Eng: "), added
        assert added.out.splitlines()[-1].endswith(", ok"), added
    models = json.loads(run_cli(capsys, monkeypatch, "report", "--by", "model", "--format", "json").out)
    members = json.loads(run_cli(capsys, monkeypatch, "report", "--by", "member", "--format", "json").out)
    return {"models": models["integrations"][0]["models"], "members": members["integrations"][0]["members"]}


def check(report: dict) -> None:
    [model] = report["models"]  # cut to the same 255 characters, the three count as one
    assert model["model"] == "模" * 254 + "…" and model["cost_usd"] == 0.15
    [member] = report["members"]
    assert member["actor"] == "m" * 254 + "…"


def test_ten_kilobyte_names_are_stored_cut(capsys, monkeypatch) -> None:
    check(sync_long_names(capsys, monkeypatch))


@pytest.mark.postgres
def test_ten_kilobyte_names_sync_on_postgresql(pg: PostgresServer, capsys, monkeypatch) -> None:
    monkeypatch.setenv("GRAFIENT_DATABASE_URL", pg.url_of(pg.database()))
    check(sync_long_names(capsys, monkeypatch))

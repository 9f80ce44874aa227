"""`grafient metrics` on a team's PostgreSQL database, run by a viewer (a role that may only read):
it reads every figure as `grafient report` and `grafient check` do, and changes nothing."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import respx
from prometheus_client.parser import text_string_to_metric_families

from grafient_tui.providers.cursor.fake import FakeCursorTeam
from grafient_tui.store.vault import new_master_key_b64
from tests.conftest import GOOD_KEY, PostgresServer
from tests.helpers import run_cli
from tests.store_sync.test_shared_database import (
    NOW_TEXT,
    SERVER_ROLES,
    TODAY,
    VIEWER_GRANTS,
    a_month,
    as_teammate,
    grant,
    sync_log,
    team_database,
)


@SERVER_ROLES
@pytest.mark.postgres
def test_a_viewer_of_a_shared_database_gets_the_teams_metrics(
    pg: PostgresServer, capsys, monkeypatch, grafient_home: Path
) -> None:
    team_key = new_master_key_b64()
    name, _iid = team_database(pg, monkeypatch, team_key)
    monkeypatch.setenv("GRAFIENT_NOW", NOW_TEXT)
    with respx.mock(base_url="https://api.cursor.com") as api:
        api.route().mock(side_effect=FakeCursorTeam(api_key=GOOD_KEY, events=a_month(5)).handler)
        assert run_cli(capsys, monkeypatch, "sync").code == 0  # the server's cron
    assert run_cli(capsys, monkeypatch, "budget", "set", "Eng", "1").code == 0
    before = sync_log(pg, name)
    finance = grant(pg, name, "finance", VIEWER_GRANTS)
    as_teammate(monkeypatch, grafient_home.parent / "finance", pg.url_of(name, user=finance), None)

    result = run_cli(capsys, monkeypatch, "metrics", "--by-model")
    assert (result.code, result.err) == (0, ""), result.err
    found = {
        sample.name: sample
        for family in text_string_to_metric_families(result.out)
        for sample in family.samples
        if sample.labels.get("period") in (None, "month_to_date", "month")
        and sample.labels.get("state") in (None, "ok")
        and sample.labels.get("amount") in (None, "usage_value")
    }
    month = TODAY.replace(day=1).isoformat()
    report = run_cli(capsys, monkeypatch, "report", "--since", month, "--format", "json")
    summary = json.loads(report.out)["integrations"][0]["summary"]
    assert found["grafient_spend_usd"].value == float(Decimal(summary["usage_value"])) > 0
    assert found["grafient_sync_state"].value == 1.0
    [budget] = json.loads(run_cli(capsys, monkeypatch, "check", "--format", "json").out)
    assert found["grafient_budget_spent_usd"].value == budget["spent_usd"]
    assert found["grafient_model_spend_usd"].value > 0
    assert sync_log(pg, name) == before  # a viewer's read wrote nothing

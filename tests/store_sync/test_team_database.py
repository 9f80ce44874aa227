"""The team database as a team service, on a real PostgreSQL server (`.ci/with-postgres`): the roles
the database enforces, sync locks only syncers can take and that name their holder, syncs that stop
when they lose their lock and never stall on a vanished client, timeouts, one retry when the server
is back at once, and sentences that name the real cause.

Nothing waits on a duration: the tests wait on conditions (pg_stat_activity, pg_locks, a gate on
the fake API's requests) and set short server-side timeouts where a timeout is the point.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import respx

from grafient_tui.config import Settings
from grafient_tui.providers.cursor.fake import FakeCursorTeam
from grafient_tui.store.schema import REVISIONS
from grafient_tui.store.team import who_runs
from grafient_tui.store.vault import new_master_key_b64
from tests.conftest import GOOD_KEY, PostgresServer
from tests.fake_server import EVENTS_PATH, FaultPlan
from tests.helpers import PATIENCE, run_cli, wait_until
from tests.oracle import expected_snapshot, snapshot_via_store
from tests.store_sync.test_concurrency import Teams, TrackingServer
from tests.store_sync.test_shared_database import (
    MONTH_START,
    NOW_TEXT,
    SERVER_ROLES,
    TODAY,
    a_month,
    as_teammate,
    open_store,
    sync_log,
    team_database,
)
from tests.tcp_proxy import TcpProxy
from tests.team_db import As, set_up_readme_team

# The roles these tests make (README's and others) are the server's, not a database's: one worker runs them.
pytestmark = [pytest.mark.postgres, SERVER_ROLES]

OWNER_SENTENCE = (
    "grafient: the team's settings are the database owner's to change (role 'grafient_owner', which owns "
    "Grafient's tables), and this role is 'grafient_sync'; run it as the owner (see README, A shared team "
    "database).\n"
)
RUN = (
    "INSERT INTO syncrun (integration_id, trigger, started_at, outcome, requests, rate_limited, retries, "
    "days_written) VALUES (%s, 'daily', now(), 'running', 0, 0, 0, 0)"
)


def url_with(url: str, **query: str) -> str:
    return url + ("&" if "?" in url else "?") + "&".join(f"{k}={quote(v)}" for k, v in query.items())


class GatedServer(TrackingServer):
    """The fake Cursor API, whose usage-events requests from the `hold_from`-th on wait at a gate
    until the test opens it; `arrived` counts them as they come."""

    def __init__(self, teams: Teams, *, hold_from: int = 1) -> None:
        super().__init__(teams, FaultPlan())
        self.hold_from = hold_from
        self.gate = threading.Event()
        self.arrived = 0

    def start(self) -> None:
        super().start()
        assert self._server is not None
        owner, base = self, self._server.RequestHandlerClass

        class Gated(base):  # type: ignore[misc, valid-type]
            def _serve(self) -> None:
                if urlsplit(self.path).path == EVENTS_PATH:
                    with owner._track:
                        owner.arrived += 1
                        number = owner.arrived
                    if number >= owner.hold_from:
                        owner.gate.wait(timeout=PATIENCE * 2)
                super()._serve()

        self._server.RequestHandlerClass = Gated

    def __exit__(self, *exc: object) -> None:
        self.gate.set()
        super().__exit__(*exc)


def machine_env(home: Path, url: str, master_key: str | None, api_url: str | None = None, **more: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAFIENT_") and k != "PGOPTIONS"}
    env.update(
        GRAFIENT_HOME=str(home),
        GRAFIENT_DATABASE_URL=url,
        GRAFIENT_NOW=NOW_TEXT,
        GRAFIENT_BACKOFF_BASE="0",
        GRAFIENT_CURSOR_RPM="0",
        PYTHONUNBUFFERED="1",
        **more,
    )
    if master_key is not None:
        env["GRAFIENT_MASTER_KEY"] = master_key
    if api_url is not None:
        env["GRAFIENT_CURSOR_API_URL"] = api_url
    return env


def grafient(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "grafient_tui", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen, timeout: float = PATIENCE * 2) -> tuple[int, str, str]:
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise AssertionError(f"still running after {timeout} s: {out!r} {err!r}") from None
    return process.returncode, out, err


def sessions(pg: PostgresServer, database: str, application: str) -> list[int]:
    return [
        row[0]
        for row in pg.sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = :db AND application_name = :app",
            db=database,
            app=application,
        )
    ]


def readme_team_with_eng(pg: PostgresServer, capsys, monkeypatch, grafient_home: Path, team_key: str) -> str:
    """README's roles, the schema set up by the owner, and Eng added and synced by the syncer."""
    name = set_up_readme_team(pg)
    monkeypatch.setenv("GRAFIENT_NOW", NOW_TEXT)
    as_teammate(monkeypatch, grafient_home.parent / "owner", pg.url_of(name, user="grafient_owner"), None)
    assert run_cli(capsys, monkeypatch, "db", "upgrade").code == 0
    as_teammate(monkeypatch, grafient_home.parent / "cron", pg.url_of(name, user="grafient_sync"), team_key)
    with respx.mock(base_url="https://api.cursor.com") as api:
        api.route().mock(side_effect=FakeCursorTeam(api_key=GOOD_KEY, events=a_month(3)).handler)
        added = run_cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", stdin=GOOD_KEY)
        assert (added.code, added.err) == (0, ""), added
    return name


# ------------------------------------------------------------------ roles, enforced by the database


def test_each_role_s_refusals_are_the_database_s(pg: PostgresServer, capsys, monkeypatch, grafient_home) -> None:
    """README's roles, tried with SQL of one's own (psql), not through Grafient: the viewer changes
    nothing and cannot take a sync lock; the syncer writes costs, runs, integrations and locks, but not
    the team's settings, their master key's fingerprint or the schema; the owner may."""
    team_key = new_master_key_b64()
    name = readme_team_with_eng(pg, capsys, monkeypatch, grafient_home, team_key)
    with (
        As(pg, name, "grafient_view") as viewer,
        As(pg, name, "grafient_sync") as syncer,
        As(pg, name, "grafient_owner") as owner,
    ):
        [(iid,)] = viewer.run("SELECT id FROM integration")
        [(fingerprint,)] = viewer.run("SELECT value FROM teamsetting WHERE name = 'vault.master_key_fingerprint'")
        assert viewer.run("SELECT count(*) FROM dailycost")[0][0] == 31  # it reads everything
        for statement, table in (
            (RUN, "syncrun"),
            ("UPDATE integration SET label = 'Mine' WHERE id = %s", "integration"),
            ("DELETE FROM dailycost WHERE integration_id = %s", "dailycost"),
            ("UPDATE teamsetting SET value = 'x' WHERE name <> %s::text", "teamsetting"),
            ("INSERT INTO synclock (integration_id) VALUES (%s + 1)", "synclock"),
            ("SELECT integration_id FROM synclock WHERE integration_id = %s FOR UPDATE", "synclock"),  # the lock
        ):
            assert viewer.refusal(statement, iid) == f"permission denied for table {table}", statement
        # The syncer writes costs, runs and integrations, and takes the sync lock...
        syncer.run("BEGIN")
        syncer.run("DELETE FROM dailycost WHERE integration_id = %s", iid)
        syncer.run("UPDATE integration SET label = 'Eng 2' WHERE id = %s", iid)
        syncer.run(RUN, iid)
        assert syncer.run("SELECT integration_id FROM synclock WHERE integration_id = %s FOR UPDATE", iid) == [(iid,)]
        syncer.run("ROLLBACK")
        # ...but neither the team's settings (a pace of 0.001, a plan, another fingerprint) nor the schema.
        denied = 'new row violates row-level security policy for table "teamsetting"'
        refusals = {
            statement: syncer.refusal(statement)
            for statement in (
                "UPDATE teamsetting SET value = 'feed' WHERE name = 'vault.master_key_fingerprint'",
                "DELETE FROM teamsetting",
                "TRUNCATE teamsetting",
                "INSERT INTO teamsetting (name, value, updated_at) VALUES ('rpm.cursor', '0.001', now())",
                "INSERT INTO teamsetting (name, value, updated_at) VALUES ('plan', 'lots', now())",
                "UPDATE alembic_version SET version_num = '9999'",
                "CREATE TABLE grafient_extra (id int)",
                "ALTER TABLE integration ADD COLUMN extra int",
                "DROP TABLE dailycost",
            )
        }
        assert refusals == {
            "UPDATE teamsetting SET value = 'feed' WHERE name = 'vault.master_key_fingerprint'": (
                "permission denied for table teamsetting"
            ),
            "DELETE FROM teamsetting": "permission denied for table teamsetting",
            "TRUNCATE teamsetting": "permission denied for table teamsetting",
            "INSERT INTO teamsetting (name, value, updated_at) VALUES ('rpm.cursor', '0.001', now())": denied,
            "INSERT INTO teamsetting (name, value, updated_at) VALUES ('plan', 'lots', now())": denied,
            "UPDATE alembic_version SET version_num = '9999'": "permission denied for table alembic_version",
            "CREATE TABLE grafient_extra (id int)": "permission denied for schema public",
            "ALTER TABLE integration ADD COLUMN extra int": "must be owner of table integration",
            "DROP TABLE dailycost": "must be owner of table dailycost",
        }
        # A broad grant later does not reopen the settings: row-level security still refuses the change.
        owner.run("GRANT ALL ON ALL TABLES IN SCHEMA public TO grafient_sync")
        assert syncer.run("UPDATE teamsetting SET value = 'feed' RETURNING name") == []
        # The owner may change them.
        owner.run("UPDATE teamsetting SET updated_by = 'the owner' WHERE name = 'vault.master_key_fingerprint'")
        assert viewer.run("SELECT value, updated_by FROM teamsetting") == [(fingerprint, "the owner")]


def test_readme_s_roles_serve_the_account_settings_and_estimates_of_every_provider(
    pg: PostgresServer, capsys, monkeypatch, grafient_home
) -> None:
    """What migrations 0008 and 0009 added (integration.account, integration.cost_basis, credits and
    characters) under README's grants: the syncer adds and syncs an xAI team and an ElevenLabs workspace
    (its estimate written with its figures), the viewer reads them all and changes none of it."""
    from grafient_tui.providers.elevenlabs.fake import demo_account as elevenlabs_workspace
    from grafient_tui.providers.xai.fake import DEMO_TEAM_ID
    from grafient_tui.providers.xai.fake import demo_account as xai_team

    team_key = new_master_key_b64()
    name = readme_team_with_eng(pg, capsys, monkeypatch, grafient_home, team_key)
    xai_key, voice_key = "xai-token-" + "Mn8Bv5Cx" * 10, "sk_" + "5b8e2d9f" * 6
    with respx.mock(assert_all_called=False) as api:
        api.route(host="management-api.x.ai").mock(side_effect=xai_team(xai_key, TODAY, seed=4).handler)
        api.route(host="api.elevenlabs.io").mock(side_effect=elevenlabs_workspace(voice_key, TODAY, seed=3).handler)
        grok = run_cli(capsys, monkeypatch, "add", "xai", "--label", "Grok", "--team-id", DEMO_TEAM_ID, stdin=xai_key)
        voice = run_cli(
            capsys, monkeypatch, "add", "elevenlabs", "--label", "Voice", "--allow-unidentified", stdin=voice_key
        )
    assert (grok.code, grok.err, voice.code, voice.err) == (0, "", 0, ""), (grok, voice)

    as_teammate(monkeypatch, grafient_home.parent / "lead", pg.url_of(name, user="grafient_view"), None)
    listed = {row["label"]: row for row in json.loads(run_cli(capsys, monkeypatch, "list", "--format", "json").out)}
    assert listed["Grok"]["account"] == {"team_id": DEMO_TEAM_ID} and listed["Voice"]["status"] == "ok"
    report = json.loads(run_cli(capsys, monkeypatch, "report", "--days", "30", "--format", "json").out)
    bases = {entry["label"]: entry["cost_basis"] for entry in report["integrations"]}
    assert bases == {"Eng": "billed", "Grok": "billed", "Voice": "estimate"}
    with As(pg, name, "grafient_view") as viewer:
        [(voice_id, basis)] = viewer.run("SELECT id, cost_basis FROM integration WHERE label = 'Voice'")
        assert basis is not None  # written by the syncer with the figures
        assert viewer.run("SELECT count(*) FROM dailycost WHERE credits_micro IS NOT NULL")[0][0] > 0
        for statement, table in (
            ("UPDATE integration SET account = '{}' WHERE id = %s", "integration"),
            ("UPDATE integration SET cost_basis = NULL WHERE id = %s", "integration"),
            ("UPDATE dailycost SET credits_micro = 0 WHERE integration_id = %s", "dailycost"),
            ("UPDATE dailymodelcost SET characters = 0 WHERE integration_id = %s", "dailymodelcost"),
        ):
            assert viewer.refusal(statement, voice_id) == f"permission denied for table {table}", statement


def test_team_settings_and_the_schema_s_upgrade_are_the_owner_s(
    pg: PostgresServer, capsys, monkeypatch, grafient_home
) -> None:
    from alembic import command
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from grafient_tui.store.schema import alembic_config

    name = set_up_readme_team(pg)
    engine = create_engine(pg.url_of(name, user="grafient_owner"), poolclass=NullPool)
    with engine.begin() as connection:  # the schema as the previous Grafient left it
        command.upgrade(alembic_config(connection), REVISIONS[-2])
    engine.dispose()
    team_key = new_master_key_b64()
    as_teammate(monkeypatch, grafient_home.parent / "cron", pg.url_of(name, user="grafient_sync"), team_key)
    upgrade = run_cli(capsys, monkeypatch, "db", "upgrade")
    assert (upgrade.code, upgrade.out, upgrade.err) == (
        2,
        "",
        "grafient: upgrading the team database's schema needs the role that owns Grafient's tables "
        "('grafient_owner'), and this role is 'grafient_sync'; run `grafient db upgrade` as the owner (see README, "
        "A shared team database). Nothing was changed.\n",
    )
    assert pg.sql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == [(1,)]
    as_teammate(monkeypatch, grafient_home.parent / "owner", pg.url_of(name, user="grafient_owner"), None)
    assert run_cli(capsys, monkeypatch, "db", "upgrade").code == 0

    as_teammate(monkeypatch, grafient_home.parent / "cron", pg.url_of(name, user="grafient_sync"), team_key)
    for args in (("plan", "pro"), ("pace", "cursor", "0.001")):
        refused = run_cli(capsys, monkeypatch, *args)
        assert (refused.code, refused.out, refused.err) == (2, "", OWNER_SENTENCE), args
    assert run_cli(capsys, monkeypatch, "plan").out == "free (backfills 30 days)\n"
    as_teammate(monkeypatch, grafient_home.parent / "owner", pg.url_of(name, user="grafient_owner"), None)
    assert run_cli(capsys, monkeypatch, "pace", "cursor", "12").code == 0  # no master key needed for it
    as_teammate(monkeypatch, grafient_home.parent / "cron", pg.url_of(name, user="grafient_sync"), team_key)
    assert run_cli(capsys, monkeypatch, "pace", "cursor").out == "cursor: 12 requests per minute (the team's setting)\n"


def test_a_syncer_with_another_master_key_never_replaces_the_team_s(
    pg: PostgresServer, capsys, monkeypatch, grafient_home
) -> None:
    """Even with every integration removed, the team's master key stays recorded: an `add` with
    another key is refused (it used to record its own, locking every real syncer out)."""
    from grafient_tui.store.team import fingerprint, short

    team_key = new_master_key_b64()
    name = readme_team_with_eng(pg, capsys, monkeypatch, grafient_home, team_key)
    assert run_cli(capsys, monkeypatch, "remove", "Eng", "--yes").code == 0
    other = new_master_key_b64()
    home = grafient_home.parent / "laptop"
    as_teammate(monkeypatch, home, pg.url_of(name, user="grafient_sync"), other)
    import base64

    with respx.mock(base_url="https://api.cursor.com") as api:
        api.route().mock(side_effect=FakeCursorTeam(api_key=GOOD_KEY, events=a_month(3)).handler)
        refused = run_cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", stdin=GOOD_KEY)
    team, mine = fingerprint(base64.b64decode(team_key)), fingerprint(base64.b64decode(other))
    assert (refused.code, refused.err) == (
        2,
        f"grafient: cannot seal the key: this team database records its master key ({short(team)}…) and this "
        f"machine's master key ({short(mine)}…) is another one; supply the team's with GRAFIENT_MASTER_KEY or the "
        f"file {home / 'master.key'} (only the database's owner can clear the record to start over with a new "
        "master key, see README, A shared team database).\n",
    )
    with As(pg, name, "grafient_view") as viewer:
        assert viewer.run("SELECT value FROM teamsetting WHERE name = 'vault.master_key_fingerprint'") == [(team,)]
        assert viewer.run("SELECT count(*) FROM integration") == [(0,)]


def test_a_viewer_can_neither_take_nor_fake_a_sync_lock(pg: PostgresServer, capsys, monkeypatch, grafient_home) -> None:
    """A read-only login holding advisory locks on the integration's id (the old lock's key, in either
    form) stops nothing: the sync lock is a row lock that only syncers can take."""
    from grafient_tui.store.schema import LOCK_SPACE

    team_key = new_master_key_b64()
    name = readme_team_with_eng(pg, capsys, monkeypatch, grafient_home, team_key)
    with As(pg, name, "grafient_view") as viewer:
        [(iid,)] = viewer.run("SELECT id FROM integration")
        viewer.run("SELECT pg_advisory_lock(%s::bigint), pg_advisory_lock(%s, %s)", iid, LOCK_SPACE, iid)
        with respx.mock(base_url="https://api.cursor.com") as api:
            api.route().mock(side_effect=FakeCursorTeam(api_key=GOOD_KEY, events=a_month(3)).handler)
            synced = run_cli(capsys, monkeypatch, "sync")
            assert (synced.code, synced.err) == (0, ""), synced
            assert synced.out.rstrip().endswith(", ok"), synced.out
        listed = json.loads(run_cli(capsys, monkeypatch, "list", "--format", "json").out)
        assert [(row["label"], row["status"], row["sync_lock_holder"]) for row in listed] == [("Eng", "ok", None)]
        assert run_cli(capsys, monkeypatch, "remove", "Eng", "--yes").code == 0


# ------------------------------------------------------------------ who holds a lock


def test_list_a_blocked_sync_and_remove_name_whoever_holds_the_lock(
    pg: PostgresServer, capsys, monkeypatch, grafient_home: Path
) -> None:
    """A psql session holding the lock is named with its role and application; another machine's sync
    with its user and host from the sync log. A sync that gives up on it exits 1."""
    team_key = new_master_key_b64()
    name, iid = team_database(pg, monkeypatch, team_key)
    monkeypatch.setenv("GRAFIENT_NOW", NOW_TEXT)
    with As(pg, name, "postgres", application_name="psql") as psql:
        psql.run("BEGIN")
        psql.run("SELECT 1 FROM synclock WHERE integration_id = %s FOR UPDATE", iid)
        [(pid,)] = psql.run("SELECT pg_backend_pid()")
        words = (
            f"a database session of role 'postgres', application 'psql' (process {pid} on the server), not a "
            "Grafient sync"
        )
        [row] = json.loads(run_cli(capsys, monkeypatch, "list", "--format", "json").out)
        assert row["sync_lock_holder"] == words
        assert run_cli(capsys, monkeypatch, "list").out.endswith(f"\nEng: its sync lock is held by {words}\n")
        with respx.mock(base_url="https://api.cursor.com", assert_all_called=False) as api:
            api.route().mock(side_effect=FakeCursorTeam(api_key=GOOD_KEY, events=a_month(3)).handler)
            blocked = run_cli(capsys, monkeypatch, "sync")
            assert len(api.calls) == 0
        assert (blocked.code, blocked.err) == (1, "")
        assert blocked.out == (
            f"Eng: 0 days written, 0 API calls, blocked: the sync lock of Eng is held by {words}; this one gave up "
            "after 2 s (that session must end before anyone can sync it)\n"
        )
        removed = run_cli(capsys, monkeypatch, "remove", "Eng", "--yes")
        assert (removed.code, removed.err) == (
            2,
            f"grafient: the sync lock of Eng is held by {words}; that session must end before it is removed.\n",
        )
        psql.run("ROLLBACK")

    host, user = who_runs()
    teams = Teams(FakeCursorTeam(api_key=GOOD_KEY, events=a_month(3)))
    with GatedServer(teams) as server:
        elsewhere = grafient(
            machine_env(grafient_home.parent / "server", pg.url_of(name), team_key, server.url), "sync"
        )
        wait_until(lambda: server.arrived >= 1, "the other machine's sync reached the API")
        [row] = json.loads(run_cli(capsys, monkeypatch, "list", "--format", "json").out)
        assert (row["status"], row["sync_lock_holder"]) == (
            "syncing",
            f"{user} on {host} (a daily sync started 2026-03-12 10:30 UTC)",
        )
        server.gate.set()
        code, out, err = finish(elsewhere)
        assert (code, err) == (0, "") and out.rstrip().endswith("ok"), (out, err)
    [row] = json.loads(run_cli(capsys, monkeypatch, "list", "--format", "json").out)
    assert (row["status"], row["sync_lock_holder"]) == ("ok", None)


def test_a_sync_that_loses_its_lock_stops_and_never_goes_on_beside_another(
    pg: PostgresServer, capsys, monkeypatch, grafient_home: Path
) -> None:
    """The lock's session is ended (pg_terminate_backend, as an administrator or a restart would) while
    the sync fetches its second window: it writes nothing more, asks the API for no other window, says
    what it kept and exits 1; a sync started meanwhile on another machine does the rest."""
    team_key = new_master_key_b64()
    name, iid = team_database(pg, monkeypatch, team_key)
    assert run_cli(capsys, monkeypatch, "plan", "pro").code == 0  # a year: 13 windows of 30 days
    events = a_month(6)
    teams = Teams(FakeCursorTeam(api_key=GOOD_KEY, events=events))
    with GatedServer(teams, hold_from=2) as server:  # window 1 passes; every later request waits at the gate
        env = machine_env(grafient_home.parent / "server", pg.url_of(name), team_key, server.url)
        first = grafient(env, "sync")
        wait_until(lambda: server.arrived >= 2, "the sync asked for its second window")
        [lock_session] = sessions(pg, name, "grafient sync lock")
        pg.sql("SELECT pg_terminate_backend(:pid)", pid=lock_session)
        second = grafient(machine_env(grafient_home.parent / "laptop", pg.url_of(name), team_key, server.url), "sync")
        wait_until(lambda: server.arrived >= 3, "the other machine took the lock and asked the API")
        server.gate.set()
        code, out, err = finish(first)
        assert (code, err) == (1, ""), (out, err)
        assert out == (
            "Eng: 30 days written, 2 API calls, failed: this sync lost its lock (its database session ended: the "
            "server restarted, an administrator ended it, or the connection dropped), so it stopped rather than "
            "run beside another sync; 30 days written, the rest not (run the sync again)\n"
        )
        code, out, err = finish(second)
        # 13 windows (the days the first one wrote are not fetched again, but they are in the windows' span)
        assert (code, err) == (0, "") and ", 14 API calls, ok" in out, (out, err)
    # The first sync's two windows and the second's thirteen: nothing more was asked once the lock went.
    assert server.arrived == 2 + 13
    _settings, db, _vault = open_store()
    year = TODAY - timedelta(days=365)
    assert snapshot_via_store(db, iid) == expected_snapshot(events, first=year, last=TODAY, today=TODAY)
    db.dispose()
    outcomes = [outcome for outcome, _error in sync_log(pg, name)]
    assert outcomes == ["failed", "success"]


# ------------------------------------------------------------------ syncs that never stall


def test_the_lock_outlives_the_server_s_idle_timeouts(pg: PostgresServer, monkeypatch, grafient_home: Path) -> None:
    """A role whose sessions the server ends after a second idle, in a transaction or not (a DBA's
    idle_session_timeout and idle_in_transaction_session_timeout): the lock's session sits idle while
    the sync waits on the API, keeps its lock, and a second machine is turned away, naming the first."""
    from tests.store_sync.test_shared_database import SYNCER_GRANTS, grant

    team_key = new_master_key_b64()
    name, _iid = team_database(pg, monkeypatch, team_key)
    cron = grant(pg, name, "cron", SYNCER_GRANTS)
    pg.sql(f"ALTER ROLE \"{cron}\" SET idle_session_timeout = '1s'")
    pg.sql(f"ALTER ROLE \"{cron}\" SET idle_in_transaction_session_timeout = '1s'")
    url = pg.url_of(name, user=cron)
    host, user = who_runs()
    # The second machine asks an API of its own, so that what it asked is told apart from the first's
    # (whose held request may be asked again when a loaded machine holds it past the read timeout).
    with (
        GatedServer(Teams(FakeCursorTeam(api_key=GOOD_KEY, events=a_month(4)))) as server,
        GatedServer(Teams(FakeCursorTeam(api_key=GOOD_KEY, events=a_month(4)))) as elsewhere,
    ):
        first = grafient(machine_env(grafient_home.parent / "server", url, team_key, server.url), "sync")
        wait_until(lambda: server.arrived >= 1, "the sync reached the API", process=first)
        wait_until(  # by the server's own clock, idle in its transaction past both timeouts
            lambda: pg.sql(
                "SELECT 1 FROM pg_stat_activity WHERE datname = :db AND application_name = 'grafient sync lock' "
                "AND state = 'idle in transaction' AND clock_timestamp() - state_change > interval '3 seconds'",
                db=name,
            ),
            "the lock's session sat idle past the timeouts",
            process=first,
        )
        second = grafient(machine_env(grafient_home.parent / "laptop", url, team_key, elsewhere.url), "sync")
        code, out, err = finish(second)
        assert (code, err) == (1, ""), (out, err)
        assert out == (
            f"Eng: 0 days written, 0 API calls, blocked: a sync for Eng is already running: {user} on {host} (a "
            "daily sync started 2026-03-12 10:30 UTC); this one gave up after 2 s\n"
        )
        server.gate.set()
        code, out, err = finish(first)
        assert (code, err) == (0, "") and out.rstrip().endswith("ok"), (out, err)
    assert elsewhere.arrived == 0  # the machine turned away never asked the API
    assert server.arrived >= 2  # the first machine's two windows


def test_a_row_held_by_a_client_that_stopped_answering_is_released_within_its_timeout(
    pg: PostgresServer, monkeypatch, grafient_home: Path
) -> None:
    """A Grafient that stopped answering inside a write (a laptop whose lid closed: here SIGSTOP) keeps
    its integration's row locked only until the server ends its session for sitting idle in the
    transaction; the next machine's sync then goes through. The timeout is set short for the test
    through the URL's options, which Grafient keeps."""
    team_key = new_master_key_b64()
    name, iid = team_database(pg, monkeypatch, team_key)
    url = url_with(pg.url_of(name), options="-c idle_in_transaction_session_timeout=1s -c lock_timeout=300s")
    helper = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from sqlalchemy import text\n"
            "from grafient_tui.config import Settings\n"
            "from grafient_tui.store.db import Database\n"
            "db = Database(Settings.from_env())\n"
            "with db.session(write=True) as session:\n"
            "    row = text('SELECT id FROM integration WHERE id = :id FOR UPDATE')\n"
            "    session.execute(row, {'id': int(sys.argv[1])})\n"
            "    print('locked', flush=True)\n"
            "    time.sleep(600)\n",
            str(iid),
        ],
        env=machine_env(grafient_home.parent / "laptop", url, team_key),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert helper.stdout is not None and helper.stdout.readline() == "locked\n"
        [(held_by,)] = pg.sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = :db AND state = 'idle in transaction'", db=name
        )
        os.kill(helper.pid, signal.SIGSTOP)  # it answers nothing from now on
        with GatedServer(Teams(FakeCursorTeam(api_key=GOOD_KEY, events=a_month(5)))) as server:
            server.gate.set()
            synced = grafient(machine_env(grafient_home.parent / "server", url, team_key, server.url), "sync")
            code, out, err = finish(synced)
        assert (code, err) == (0, "") and out.rstrip().endswith("ok"), (out, err)
        assert held_by not in sessions(pg, name, "grafient")  # the server ended the silent session
    finally:
        helper.kill()
        helper.wait(timeout=PATIENCE)


def test_a_write_kept_waiting_by_another_session_names_it_and_gives_up(
    pg: PostgresServer, monkeypatch, grafient_home: Path
) -> None:
    """psql holding the integration's row: the sync waits out its lock timeout (short here, through
    the URL's options), then says who held the row, writes nothing and exits 1."""
    team_key = new_master_key_b64()
    name, iid = team_database(pg, monkeypatch, team_key)
    url = url_with(pg.url_of(name), options="-c lock_timeout=1s")
    with As(pg, name, "postgres", application_name="psql") as psql:
        psql.run("BEGIN")
        psql.run("SELECT id FROM integration WHERE id = %s FOR UPDATE", iid)
        [(pid,)] = psql.run("SELECT pg_backend_pid()")
        with GatedServer(Teams(FakeCursorTeam(api_key=GOOD_KEY, events=a_month(5)))) as server:
            server.gate.set()
            code, out, err = finish(
                grafient(machine_env(grafient_home.parent / "server", url, team_key, server.url), "sync")
            )
        psql.run("ROLLBACK")
    assert (code, err) == (1, ""), (out, err)
    assert out == (
        "Eng: 0 days written, 0 API calls, failed: Eng's row in the team database was held longer than the lock "
        f"timeout (lock_timeout 1s) by a database session of role 'postgres', application 'psql' (process {pid} on "
        "the server), not a Grafient sync, so Grafient gave up waiting; nothing of this write was saved\n"
    )
    assert server.arrived == 0


def test_a_server_that_accepts_connections_and_never_answers_is_given_up_on(grafient_home: Path) -> None:
    """list, report and sync against a server that takes the connection and says nothing: each ends
    with the connect timeout's sentence and exit 2 (they used to wait forever)."""
    with TcpProxy(None, silent=True) as silent:
        url = f"postgresql+psycopg://grafient@127.0.0.1:{silent.port}/grafient"
        runs = [
            grafient(machine_env(grafient_home.parent / f"m-{n}", url, None), *args)
            for n, args in enumerate((("list",), ("report",), ("sync",)))
        ]
        outcomes = [finish(run) for run in runs]
    sentence = (
        f"grafient: the team database at 127.0.0.1:{silent.port} did not answer within the connect timeout "
        "(connect_timeout, 10 s unless the URL or PGCONNECT_TIMEOUT says otherwise); check the host and port, and "
        "the network on the way.\n"
    )
    assert outcomes == [(2, "", sentence)] * 3


# ------------------------------------------------------------------ one retry, then a sentence


def test_a_server_back_at_once_costs_a_read_nothing(pg: PostgresServer, monkeypatch, grafient_home: Path) -> None:
    """The first connection is closed as soon as it is made (a server restarting); the one retry gets
    through, and `list` answers."""
    team_key = new_master_key_b64()
    name, _iid = team_database(pg, monkeypatch, team_key)
    with TcpProxy(pg.url.port, refuse_first=1) as proxy:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{proxy.port}/{name}"
        code, out, err = finish(grafient(machine_env(grafient_home.parent / "viewer", url, team_key), "list"))
        assert proxy.accepted >= 2
    assert (code, err) == (0, "") and "Eng" in out, (out, err)


def test_a_window_write_cut_while_the_lock_holds_is_written_again(
    pg: PostgresServer, monkeypatch, grafient_home: Path
) -> None:
    """The data session is ended while it writes a window (it was waiting for a row psql held); the
    sync's lock is intact, so the window is written again and the sync succeeds."""
    team_key = new_master_key_b64()
    name, iid = team_database(pg, monkeypatch, team_key)
    events = a_month(8)
    url = url_with(pg.url_of(name), options="-c lock_timeout=300s")
    with (
        GatedServer(Teams(FakeCursorTeam(api_key=GOOD_KEY, events=events))) as server,
        As(pg, name, "postgres", application_name="psql") as psql,
    ):
        syncing = grafient(machine_env(grafient_home.parent / "server", url, team_key, server.url), "sync")
        wait_until(lambda: server.arrived >= 1, "the sync reached the API")  # its run is recorded by now
        psql.run("BEGIN")
        psql.run("SELECT id FROM integration WHERE id = %s FOR UPDATE", iid)
        server.gate.set()

        def waiting_writer() -> list[tuple]:
            return pg.sql(
                "SELECT pid FROM pg_stat_activity WHERE datname = :db AND application_name = 'grafient' "
                "AND wait_event_type = 'Lock'",
                db=name,
            )

        wait_until(lambda: waiting_writer() != [], "the window's write waited for the row")
        [(writer,)] = waiting_writer()
        pg.sql("SELECT pg_terminate_backend(:pid)", pid=writer)
        psql.run("ROLLBACK")
        code, out, err = finish(syncing)
    assert (code, err) == (0, "") and out.rstrip().endswith("ok"), (out, err)
    _settings, db, _vault = open_store()
    assert snapshot_via_store(db, iid) == expected_snapshot(events, first=MONTH_START, last=TODAY, today=TODAY)
    db.dispose()


def test_no_line_of_the_database_driver_reaches_stderr(pg: PostgresServer, monkeypatch, grafient_home: Path) -> None:
    """A window the server refuses mid-batch (here a CHECK constraint stands for any refusal): the sync
    fails with its sentence on stdout and nothing on stderr; GRAFIENT_DEBUG=1 shows the driver's lines."""
    team_key = new_master_key_b64()
    name, _iid = team_database(pg, monkeypatch, team_key)
    with As(pg, name, "postgres") as admin:
        admin.run("ALTER TABLE dailymodelcost ADD CONSTRAINT no_o3 CHECK (model <> 'o3')")
    with GatedServer(Teams(FakeCursorTeam(api_key=GOOD_KEY, events=a_month(5)))) as server:
        server.gate.set()
        env = machine_env(grafient_home.parent / "server", pg.url_of(name), team_key, server.url)
        code, out, err = finish(grafient(env, "sync"))
        assert (code, err) == (1, ""), (out, err)
        assert (
            'failed: the team database failed: new row for relation "dailymodelcost" violates check constraint' in out
        )
        code, out, debug = finish(grafient(dict(env, GRAFIENT_DEBUG="1"), "sync"))
    assert code == 1 and "psycopg" in debug and "[hidden]" not in debug


# ------------------------------------------------------------------ sessions: timeouts and the team's options


def show(connection, *names: str) -> dict[str, str]:
    from sqlalchemy import text

    return {name: str(connection.execute(text(f"SHOW {name}")).scalar()) for name in names}


SHOWN = ("lock_timeout", "statement_timeout", "idle_in_transaction_session_timeout", "tcp_keepalives_idle", "TimeZone")


def test_grafient_s_sessions_carry_its_timeouts(pg: PostgresServer, monkeypatch) -> None:
    from grafient_tui.store.db import Database

    monkeypatch.setenv("GRAFIENT_DATABASE_URL", pg.url_of(pg.database()))
    settings = Settings.from_env()
    settings.ensure_dirs()
    db = Database(settings)
    with db.engine.connect() as reads, db.write_engine.connect() as writes:
        assert show(reads, *SHOWN) == {
            "lock_timeout": "30s",
            "statement_timeout": "1min",
            "idle_in_transaction_session_timeout": "1min",
            "tcp_keepalives_idle": "30",
            "TimeZone": "UTC",
        }
        assert show(writes, *SHOWN) == {
            "lock_timeout": "30s",
            "statement_timeout": "0",  # a window is written whole, however long it takes
            "idle_in_transaction_session_timeout": "1min",
            "tcp_keepalives_idle": "30",
            "TimeZone": "UTC",
        }
        assert reads.connection.driver_connection.info.get_parameters()["connect_timeout"] == "10"
    lock = db.lock_connection()
    assert show(lock, "idle_in_transaction_session_timeout", "TimeZone") == {
        "idle_in_transaction_session_timeout": "0",  # its transaction is the lock
        "TimeZone": "UTC",
    }
    lock.close()
    db.dispose()


def test_the_team_s_options_and_pgoptions_come_after_grafient_s_and_win(
    pg: PostgresServer, capsys, monkeypatch
) -> None:
    """A schema of the team's own and a longer lock timeout through the URL's options (or PGOPTIONS when
    the URL has none): Grafient's tables are made there and used from there; the time zone stays UTC."""
    from grafient_tui.store.db import Database

    name = pg.empty_database()
    with As(pg, name, "postgres") as admin:
        admin.run("CREATE SCHEMA team")
    options = "-c search_path=team -c lock_timeout=45s -c timezone=Asia/Tokyo"
    monkeypatch.setenv("GRAFIENT_DATABASE_URL", url_with(pg.url_of(name), options=options))
    monkeypatch.setenv("PGOPTIONS", "-c lock_timeout=5s")  # libpq's rule: the URL's options win over it
    monkeypatch.setenv("GRAFIENT_MASTER_KEY", new_master_key_b64())
    monkeypatch.setenv("GRAFIENT_NOW", NOW_TEXT)
    with respx.mock(base_url="https://api.cursor.com") as api:
        api.route().mock(side_effect=FakeCursorTeam(api_key=GOOD_KEY, events=a_month(2)).handler)
        added = run_cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", stdin=GOOD_KEY)
        assert (added.code, added.err) == (0, ""), added
    with As(pg, name, "postgres") as admin:
        tables = dict(
            admin.run(
                "SELECT table_name, table_schema FROM information_schema.tables WHERE table_name IN "
                "('integration', 'dailycost', 'alembic_version')"
            )
        )
        assert tables == {"integration": "team", "dailycost": "team", "alembic_version": "team"}
        assert admin.run("SELECT count(*) FROM team.dailycost") == [(31,)]
    report = run_cli(capsys, monkeypatch, "report", "--format", "json")
    assert report.code == 0 and '"synced_days": 30' in report.out
    status = run_cli(capsys, monkeypatch, "db", "status").out.splitlines()[-1]
    assert status == (
        "sessions: lock_timeout 45s, statement_timeout 1min, idle_in_transaction_session_timeout 1min, "
        "tcp_keepalives_idle 30, search_path team (reads; writes have no statement_timeout)"
    )
    settings = Settings.from_env()
    db = Database(settings)
    with db.engine.connect() as reads:
        assert show(reads, "lock_timeout", "TimeZone", "search_path") == {
            "lock_timeout": "45s",
            "TimeZone": "UTC",
            "search_path": "team",
        }
    db.dispose()
    monkeypatch.setenv("GRAFIENT_DATABASE_URL", pg.url_of(name))  # no options in the URL: PGOPTIONS counts
    monkeypatch.setenv("PGOPTIONS", "-c search_path=team -c statement_timeout=90s")
    db = Database(Settings.from_env())
    with db.engine.connect() as reads:
        assert show(reads, "statement_timeout", "search_path", "lock_timeout") == {
            "statement_timeout": "90s",
            "search_path": "team",
            "lock_timeout": "30s",
        }
    db.dispose()


# ------------------------------------------------------------------ sentences that name the real cause


def test_connection_failures_name_their_real_cause(pg: PostgresServer, capsys, monkeypatch) -> None:
    """TLS the server does not offer, a missing root certificate, a role or database that does not exist,
    a port that is not a number or where nothing listens: each its own sentence, exit 2, no password."""
    database = pg.database()
    at = f"{pg.url.host}:{pg.url.port}"
    base = f"postgresql://{{user}}:s3cret-pass@{at}/{{db}}"

    def said(url: str) -> tuple[int, str]:
        monkeypatch.setenv("GRAFIENT_DATABASE_URL", url)
        result = run_cli(capsys, monkeypatch, "list")
        assert "s3cret" not in result.err and result.out == ""
        return result.code, result.err

    with TcpProxy(None) as refused_port:
        closed = refused_port.port
    import socket

    tls = socket.create_server(("127.0.0.1", 0))  # answers a TLS request with "yes", then nothing

    def answer_tls() -> None:
        try:
            connection, _ = tls.accept()
            connection.recv(8)
            connection.sendall(b"S")
            time.sleep(5)
            connection.close()
        except OSError:
            pass

    threading.Thread(target=answer_tls, daemon=True).start()
    monkeypatch.setenv("HOME", "/nonexistent-home")  # no ~/.postgresql/root.crt
    cases = {
        base.format(user="postgres", db=database) + "?sslmode=require": (
            f"the team database at {at} does not accept TLS (SSL), but GRAFIENT_DATABASE_URL asks for it "
            "(sslmode=require or stronger); enable SSL on the server, or connect over a network you trust with "
            "sslmode=prefer."
        ),
        f"postgresql://postgres@127.0.0.1:{tls.getsockname()[1]}/grafient?sslmode=verify-full": (
            f"the TLS connection to the team database at 127.0.0.1:{tls.getsockname()[1]} cannot be verified: there "
            "is no root certificate to check the server's against (sslmode=verify-full or verify-ca); put the "
            "certificate of the authority that signed the server's in ~/.postgresql/root.crt, or give "
            "sslrootcert=PATH (or sslrootcert=system) in GRAFIENT_DATABASE_URL."
        ),
        base.format(user="nobody_here", db=database): (
            f"the team database at {at} has no role nobody_here; check the user of GRAFIENT_DATABASE_URL (the roles "
            "are set up as in README, A shared team database)."
        ),
        base.format(user="postgres", db="no_such_database"): (
            f"the database named in GRAFIENT_DATABASE_URL does not exist on {at}; create it first (see README, A "
            "shared team database)."
        ),
        f"postgresql://postgres:s3cret-pass@127.0.0.1:{closed}/grafient": (
            f"nothing answers at 127.0.0.1:{closed} (connection refused): check the host and port of "
            "GRAFIENT_DATABASE_URL and that the server is up."
        ),
        f"postgresql://postgres:s3cret-pass@{pg.url.host}:54x2/grafient": (
            "the port in GRAFIENT_DATABASE_URL must be a number from 1 to 65535 (host:5432), and this one is not."
        ),
        f"postgresql://postgres:s3cret-pass@{pg.url.host}:99999/grafient": (
            "the port in GRAFIENT_DATABASE_URL must be a number from 1 to 65535 (host:5432), not 99999."
        ),
    }
    try:
        assert {url: said(url) for url in cases} == {url: (2, f"grafient: {words}\n") for url, words in cases.items()}
    finally:
        tls.close()

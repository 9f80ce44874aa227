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
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import respx

from grafient_tui.providers.cursor.fake import FakeCursorTeam
from grafient_tui.store.schema import REVISIONS
from grafient_tui.store.vault import new_master_key_b64
from grafient_tui.sync.engine import who_runs
from tests.conftest import GOOD_KEY, PostgresServer
from tests.fake_server import EVENTS_PATH, FaultPlan
from tests.helpers import run_cli
from tests.oracle import expected_snapshot, snapshot_via_store
from tests.store_sync.test_concurrency import Teams, TrackingServer
from tests.store_sync.test_shared_database import (
    NOW_TEXT,
    TODAY,
    a_month,
    as_teammate,
    open_store,
    sync_log,
    team_database,
)
from tests.team_db import As, set_up_readme_team

pytestmark = pytest.mark.postgres

OWNER_SENTENCE = (
    "grafient: the team's settings are the database owner's to change (role 'grafient_owner', which owns "
    "Grafient's tables), and this role is 'grafient_sync'; run it as the owner (see README, A shared team "
    "database).\n"
)
RUN = (
    "INSERT INTO syncrun (integration_id, trigger, started_at, outcome, requests, rate_limited, retries, "
    "days_written) VALUES (%s, 'daily', now(), 'running', 0, 0, 0, 0)"
)
WAIT = 60  # seconds a condition may take to come true on a loaded machine before the test gives up


def wait_for(condition, what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


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
                        owner.gate.wait(timeout=WAIT * 2)
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


def finish(process: subprocess.Popen, timeout: float = WAIT * 2) -> tuple[int, str, str]:
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
        listed = json.loads(run_cli(capsys, monkeypatch, "list", "--format", "json").out)
        assert [(row["label"], row["status"], row["sync_lock_holder"]) for row in listed] == [("Eng", "ok", None)]
        with respx.mock(base_url="https://api.cursor.com") as api:
            api.route().mock(side_effect=FakeCursorTeam(api_key=GOOD_KEY, events=a_month(3)).handler)
            synced = run_cli(capsys, monkeypatch, "sync")
            assert (synced.code, synced.err) == (0, ""), synced
            assert synced.out.rstrip().endswith(", ok"), synced.out
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
        wait_for(lambda: server.arrived >= 1, "the other machine's sync reached the API")
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
        wait_for(lambda: server.arrived >= 2, "the sync asked for its second window")
        [lock_session] = sessions(pg, name, "grafient sync lock")
        pg.sql("SELECT pg_terminate_backend(:pid)", pid=lock_session)
        second = grafient(machine_env(grafient_home.parent / "laptop", pg.url_of(name), team_key, server.url), "sync")
        wait_for(lambda: server.arrived >= 3, "the other machine took the lock and asked the API")
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

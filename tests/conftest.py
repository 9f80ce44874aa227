"""Every test runs against its own GRAFIENT_HOME and never waits on real backoff.

With GRAFIENT_TEST_DATABASE_URL set (a PostgreSQL superuser URL; .ci/with-postgres starts a
throwaway server and sets it), every test also gets a database of its own on that server, through
GRAFIENT_DATABASE_URL, so the same tests run against PostgreSQL as against SQLite. A test about the
SQLite file itself is marked `sqlite_only` and skips there; a test that needs a server is marked
`postgres` and skips without one.
"""

from __future__ import annotations

import fcntl
import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import PATIENCE, RecordingSleep

API = "https://api.cursor.com"
GOOD_KEY = "key_" + "a1b2c3d4" * 8  # documented shape: key_ + 64 characters

# Read before the fixture below clears every GRAFIENT_ variable.
TEST_SERVER = os.environ.get("GRAFIENT_TEST_DATABASE_URL") or None
NO_SERVER = "needs a PostgreSQL server: set GRAFIENT_TEST_DATABASE_URL (`.ci/with-postgres uv run pytest -m postgres`)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if TEST_SERVER is None and item.get_closest_marker("postgres"):
            item.add_marker(pytest.mark.skip(reason=NO_SERVER))
        if TEST_SERVER is not None and item.get_closest_marker("sqlite_only"):
            item.add_marker(pytest.mark.skip(reason="about the SQLite file itself; this run's store is PostgreSQL"))


class PostgresServer:
    """The test server: a database per test, made from a template already at the schema's head (so
    a test starts as fast as on SQLite); `empty_database` gives one with nothing in it."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url
        from sqlalchemy.pool import NullPool

        self.url = make_url(url).set(drivername="postgresql+psycopg")
        self.admin = create_engine(self.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        self._names = itertools.count()
        self.prefix = f"grafient_t{os.getpid()}"
        self.template: str | None = None
        self.made: list[str] = []
        self.roles: list[str] = []

    def sql(self, statement: str, **params: object) -> list[tuple]:
        from sqlalchemy import text

        with self.admin.connect() as connection:
            result = connection.execute(text(statement), params)
            return [tuple(row) for row in result] if result.returns_rows else []

    def url_of(self, database: str, *, user: str | None = None) -> str:
        url = self.url.set(database=database)
        if user is not None:
            url = url.set(username=user, password=None)
        return url.render_as_string(hide_password=False)

    def empty_database(self) -> str:
        name = f"{self.prefix}_{next(self._names)}"
        self.sql(f'CREATE DATABASE "{name}" TEMPLATE template0')
        self.made.append(name)
        return name

    def database(self) -> str:
        """A database at the schema's head, with nothing stored."""
        if self.template is None:
            self.template = self._make_template()
        name = f"{self.prefix}_{next(self._names)}"
        self.sql(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self.made.append(name)
        return name

    def _make_template(self) -> str:
        from grafient_tui.config import Settings
        from grafient_tui.store.db import Database

        name = f"{self.prefix}_template"
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.sql(f'CREATE DATABASE "{name}" TEMPLATE template0')
        settings = Settings.from_env(
            {"GRAFIENT_HOME": "/nonexistent-grafient-test-home", "GRAFIENT_DATABASE_URL": self.url_of(name)}
        )
        Database(settings).dispose()  # sets up the schema
        return name

    def role(self, name: str, *grants: str) -> str:
        """A login role for this test (dropped with the test's databases), named `name` plus this
        process's prefix and a number: roles belong to the whole server, which other pytest-xdist
        workers share."""
        name = f"{name}_{self.prefix}_{next(self._names)}"
        self.sql(f'CREATE ROLE "{name}" LOGIN')
        self.roles.append(name)
        return name

    def clean_up(self) -> None:
        for name in self.made:
            self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.made.clear()
        for role in self.roles:
            self.sql(f'DROP ROLE IF EXISTS "{role}"')
        self.roles.clear()

    def close(self) -> None:
        self.clean_up()
        if self.template is not None:
            self.sql(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
        self.admin.dispose()


@pytest.fixture(scope="session")
def _postgres_server() -> Iterator[PostgresServer | None]:
    if TEST_SERVER is None:
        yield None
        return
    server = PostgresServer(TEST_SERVER)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(autouse=True)
def grafient_home(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    _postgres_server: PostgresServer | None,
) -> Iterator[Path]:
    home = tmp_path / "home"
    for name in list(os.environ):
        if name.startswith("GRAFIENT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("GRAFIENT_HOME", str(home))
    monkeypatch.setenv("GRAFIENT_BACKOFF_BASE", "0")  # retries happen, the waiting does not
    for provider in ("CURSOR", "ANTHROPIC", "OPENAI", "OPENROUTER", "COPILOT", "XAI", "GOOGLE", "ELEVENLABS"):
        monkeypatch.setenv(f"GRAFIENT_{provider}_RPM", "0")  # no pacing in tests
    # SQLite's busy timeout (15 s for users) is, in the tests' own process, a hang guard: a writer here
    # waits for another as long as that one takes on a loaded machine (child processes keep 15 s).
    monkeypatch.setattr("grafient_tui.store.db.BUSY_TIMEOUT_MS", int(PATIENCE * 1000))
    if _postgres_server is not None and request.node.get_closest_marker("sqlite_only") is None:
        monkeypatch.setenv("GRAFIENT_DATABASE_URL", _postgres_server.url_of(_postgres_server.database()))
    try:
        yield home
    finally:
        if _postgres_server is not None:
            _postgres_server.clean_up()


@pytest.fixture(autouse=True)
def _grafient_logger() -> Iterator[None]:
    """The CLI, run in-process, configures the `grafient` logger (its own handler, no propagation):
    put it back after each test, so a later test's caplog sees the records whatever the order."""
    import logging

    loggers = [logging.getLogger(name) for name in ("grafient", "psycopg")]  # the CLI routes the driver's too
    saved = [(logger.handlers[:], logger.level, logger.propagate) for logger in loggers]
    try:
        yield
    finally:
        for logger, (handlers, level, propagate) in zip(loggers, saved, strict=True):
            logger.handlers[:], logger.level, logger.propagate = handlers, level, propagate


@pytest.fixture(autouse=True)
def _remembered_secrets() -> Iterator[None]:
    """The process remembers every secret it has held (secret.remember_secret), to scrub last-resort
    output: forget those of each test after it, so what one test remembered (an alert channel's
    secret with "GRAFIENT" in it) never redacts another's sentences, whatever the order."""
    from grafient_tui import secret

    saved = (set(secret._seen), secret._seen_grams)
    try:
        yield
    finally:
        secret._seen.clear()
        secret._seen.update(saved[0])
        secret._seen_grams = saved[1]


@pytest.fixture
def pg(_postgres_server: PostgresServer | None) -> PostgresServer:
    """The PostgreSQL test server (tests that use it are marked `postgres`)."""
    if _postgres_server is None:
        pytest.skip(NO_SERVER)
    return _postgres_server


@pytest.fixture
def server_wide_names(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Tests that use names the whole PostgreSQL server shares (README's roles and its `grafient`
    database, as README names them) take turns, whichever pytest-xdist worker runs them: a lock file in
    the directory all workers' temporary directories share. (xdist_group marks are not honoured by the
    pytest and pytest-xdist pinned here, so a lock does it.)"""
    shared = tmp_path_factory.getbasetemp().parent
    with open(shared / "postgres-server-wide-names.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@pytest.fixture
def sleep() -> RecordingSleep:
    """The sleep a provider's client is given: its retries and pacing happen, the waiting does not
    (`sleep.delays` says how long each wait would have been)."""
    return RecordingSleep()


@pytest.fixture
def store(grafient_home):
    """The temporary home's database and vault, opened as the CLI opens them (a test module may
    define its own `store` instead)."""
    from grafient_tui.config import Settings
    from grafient_tui.store.db import Database
    from grafient_tui.store.vault import Vault

    settings = Settings.from_env()
    settings.ensure_dirs()
    db, vault = Database(settings), Vault(settings)
    yield db, vault
    db.dispose()

"""The database: one engine per process; a SQLite file in WAL mode by default, or a team's
PostgreSQL server (GRAFIENT_DATABASE_URL, psycopg 3).

The SQLite file and its -wal/-shm companions are created 0600 (SQLite gives
the companions the database file's mode, and we set that mode ourselves before
SQLite ever opens it). The schema's version is checked, and set up or upgraded, as the store opens
(store/schema.py).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.pool import NullPool
from sqlmodel import Session, create_engine

from grafient_tui.config import FILE_MODE, Settings, check_trusted, ensure_private_dir, ensure_private_file, fix_mode
from grafient_tui.errors import ConfigError, StoreError
from grafient_tui.store import models  # noqa: F401  (registers the tables)

BUSY_TIMEOUT_MS = 15_000


def store_error(exc: BaseException, *, shared: bool = False, password: str | None = None) -> StoreError:
    """One sentence for a database failure, whatever the driver said. `shared`: a PostgreSQL server,
    not the local file; `password` (the URL's) is cut out of anything quoted."""
    orig = getattr(exc, "orig", exc)
    said = " ".join(str(orig).split())
    if password:
        said = said.replace(password, "[hidden]")
    text = said.lower()
    if shared:
        return _server_error(text, said)
    if "full" in text or (isinstance(orig, OSError) and "space" in text):
        return StoreError(
            "disk full: the local database could not grow, so this sync was not saved (earlier data is intact)."
        )
    if "locked" in text or "busy" in text:
        return StoreError("the local database is busy (another grafient is writing); try again in a moment.")
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return StoreError(
            "the local database file is damaged; restore it from a backup or move it away to start fresh."
        )
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return StoreError("the local database cannot be written (check the permissions of the data directory).")
    return StoreError(f"the local database failed: {said[:160]}.")


def _server_error(text: str, said: str) -> StoreError:
    if (
        "password authentication failed" in text
        or "no pg_hba.conf entry" in text
        or ("role" in text and "does not exist" in text)
    ):
        return StoreError(
            "the team database refused the login; check the user and password of GRAFIENT_DATABASE_URL (or ~/.pgpass)."
        )
    if "database" in text and "does not exist" in text:
        return StoreError(
            "the database named in GRAFIENT_DATABASE_URL does not exist on that server; create it first "
            "(see README, A shared team database)."
        )
    if any(
        words in text
        for words in (
            "connection refused",
            "could not connect",
            "connection failed",
            "timeout expired",
            "could not translate host name",
            "server closed the connection",
            "connection is closed",
            "terminating connection",
        )
    ):
        return StoreError(
            "the team database cannot be reached; check GRAFIENT_DATABASE_URL and that the server is up "
            "(nothing was changed)."
        )
    if "permission denied" in text or "must be owner" in text:
        return StoreError(
            "the team database refused this change: this role may only read (ask its owner for the "
            "syncer grants, see README)."
        )
    if "could not extend" in text or "no space left" in text or "disk full" in text:
        return StoreError("the team database's disk is full, so this sync was not saved (earlier data is intact).")
    if "deadlock detected" in text or "could not serialize" in text or "lock timeout" in text:
        return StoreError("the team database was busy with another grafient's write; try again in a moment.")
    return StoreError(f"the team database failed: {said[:160]}.")


class Database:
    """Owns the engines; hands out sessions whose failures become StoreError.

    `check_schema=False` opens a database whatever its schema's version (`grafient db` does that
    to report or upgrade it); otherwise schema.check_on_open decides (see there)."""

    def __init__(self, settings: Settings, *, url: str | None = None, check_schema: bool = True) -> None:
        self.settings = settings
        self.url = database_url(url or settings.database_url)
        self.is_postgres = self.url.get_backend_name() == "postgresql"
        self.sqlite_file: Path | None = settings.database_file if url is None else None
        if not self.is_postgres and self.sqlite_file is not None:
            # The database may live anywhere (GRAFIENT_DATABASE_URL): the levels we create are 0700,
            # a directory that was there already is the user's and keeps its mode. Its folder and the
            # file (and -wal/-shm) must be this user's and writable by no one else: another user's
            # database there would store your API keys (check_trusted). Only Grafient's own data
            # folder is narrowed in place; any other folder open to writers is refused.
            folder = self.sqlite_file.parent
            own_folder = folder.absolute() in (settings.data_dir.absolute(), settings.config_dir.absolute())
            check_trusted(folder, "a database", fixable=own_folder)
            for path in (
                self.sqlite_file,
                *(self.sqlite_file.with_name(self.sqlite_file.name + s) for s in ("-wal", "-shm")),
            ):
                check_trusted(path, "the database that stores your API keys", fixable=True)
            ensure_private_dir(self.sqlite_file.parent, ours=False)
            ensure_private_file(self.sqlite_file)
        self.engine = _make_engine(self.url)
        # Writers start with BEGIN IMMEDIATE so that two processes never both
        # read-then-upgrade (SQLite answers that with "database is locked" at
        # once, without waiting); readers keep plain BEGIN and never block.
        self.write_engine = _make_engine(self.url, immediate=True) if not self.is_postgres else self.engine
        self._lock_engine: Engine | None = None
        if check_schema:
            try:
                from grafient_tui.store.schema import check_on_open

                check_on_open(self)
            except (DBAPIError, sqlite3.Error) as exc:
                self.dispose()
                raise self.error(exc) from None
            except BaseException:
                self.dispose()
                raise
        self._tighten_companions()

    def error(self, exc: BaseException) -> StoreError:
        return store_error(exc, shared=self.is_postgres, password=self.url.password)

    def _tighten_companions(self) -> None:
        if self.sqlite_file is None:
            return
        for suffix in ("-wal", "-shm", "-journal"):
            fix_mode(Path(f"{self.sqlite_file}{suffix}"), FILE_MODE)  # absent or a symlink: left alone

    @contextlib.contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """A session that commits on success and turns driver errors into StoreError."""
        try:
            with Session(self.write_engine if write else self.engine, expire_on_commit=False) as session:
                yield session
                session.commit()
        except (DBAPIError, sqlite3.Error) as exc:
            raise self.error(exc) from None

    def lock_connection(self) -> Connection:
        """A connection of its own for a session advisory lock (PostgreSQL), in autocommit: held for a
        whole sync without sitting idle in a transaction. Closing it really closes it (no pool), and
        with it goes the lock. TCP keepalives on both ends, so that a machine that vanishes mid-sync
        loses its lock in about a minute and a half rather than hours."""
        if self._lock_engine is None:
            self._lock_engine = create_engine(
                self.url,
                poolclass=NullPool,
                isolation_level="AUTOCOMMIT",
                connect_args={
                    "options": "-c timezone=UTC -c tcp_keepalives_idle=60 -c tcp_keepalives_interval=10"
                    " -c tcp_keepalives_count=3",
                    "application_name": "grafient sync lock",
                    "keepalives": 1,
                    "keepalives_idle": 60,
                    "keepalives_interval": 10,
                    "keepalives_count": 3,
                },
            )
        try:
            return self._lock_engine.connect()
        except DBAPIError as exc:
            raise self.error(exc) from None

    def dispose(self) -> None:
        self.engine.dispose()
        self.write_engine.dispose()
        if self._lock_engine is not None:
            self._lock_engine.dispose()


SUPPORTED = "GRAFIENT_DATABASE_URL must be a sqlite:/// or postgresql:// URL"


def database_url(text: str) -> URL:
    """The URL to connect with: `postgresql://` and `postgres://` mean psycopg 3 (SQLAlchemy would
    pick psycopg2, which Grafient does not install). Never quoted back: it may hold a password."""
    try:
        url = make_url(text)
    except ArgumentError:
        raise ConfigError(f"{SUPPORTED}, and this one cannot be read.") from None
    backend = "postgresql" if url.drivername in ("postgres", "postgresql") else url.get_backend_name()
    if backend == "postgresql":
        if url.drivername in ("postgres", "postgresql"):
            url = url.set(drivername="postgresql+psycopg")
        if url.get_driver_name() != "psycopg":
            raise ConfigError(
                f"{SUPPORTED}; Grafient talks to PostgreSQL through psycopg 3 "
                f"(postgresql+psycopg://), not {url.get_driver_name()}."
            )
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise ConfigError(
                "PostgreSQL needs Grafient's postgres extra (psycopg 3): install it with "
                "`uv tool install 'grafient-tui[postgres]'`, or run `uv run --extra postgres grafient`."
            ) from None
    elif backend != "sqlite":
        raise ConfigError(f"{SUPPORTED}; Grafient keeps its data in SQLite or PostgreSQL only.")
    return url


def _make_engine(url: URL, *, immediate: bool = False) -> Engine:
    if url.get_backend_name() == "postgresql":
        # Every session in UTC (day boundaries are UTC days), and named, so a team's DBA can tell
        # Grafient's connections apart in pg_stat_activity.
        return create_engine(
            url, pool_pre_ping=True, connect_args={"options": "-c timezone=UTC", "application_name": "grafient"}
        )
    engine = create_engine(
        url,
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Let SQLAlchemy's BEGIN be a real BEGIN IMMEDIATE for writers: pysqlite's
        # own transaction handling is turned off and we emit BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # type: ignore[no-untyped-def]
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


__all__ = ["Database", "OperationalError", "store_error"]

"""The database: one engine per process; a SQLite file in WAL mode by default, or a team's
PostgreSQL server (GRAFIENT_DATABASE_URL, psycopg 3).

The SQLite file and its -wal/-shm companions are created 0600 (SQLite gives
the companions the database file's mode, and we set that mode ourselves before
SQLite ever opens it). The schema's version is checked, and set up or upgraded, as the store opens
(store/schema.py).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.pool import NullPool
from sqlmodel import Session, create_engine

from grafient_tui.config import FILE_MODE, Settings, check_trusted, ensure_private_dir, ensure_private_file, fix_mode
from grafient_tui.errors import ConfigError, StoreError
from grafient_tui.store import models  # noqa: F401  (registers the tables)
from grafient_tui.store.failures import RETRY_PAUSE_BASES, store_error
from grafient_tui.store.read import BUSY_TIMEOUT_MS, Reader
from grafient_tui.store.server import SessionKind

LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for a lock timeout (and NOWAIT)
T = TypeVar("T")
log = logging.getLogger("grafient.store")


class Database:
    """Owns the engines; hands out sessions whose failures become StoreError.

    `check_schema=False` opens a database whatever its schema's version (`grafient db` does that
    to report or upgrade it); otherwise schema.check_on_open decides (see there).

    On PostgreSQL there are three kinds of session (store/server.py sets each up): readers (with a
    statement timeout), writers, and the sync lock's own (sync/lock.py)."""

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
        self.engine = _make_engine(self.url, kind="read")
        # SQLite: writers start with BEGIN IMMEDIATE so that two processes never both
        # read-then-upgrade (SQLite answers that with "database is locked" at
        # once, without waiting); readers keep plain BEGIN and never block.
        # PostgreSQL: writers have no statement timeout (a window is written whole), readers do.
        self.write_engine = _make_engine(self.url, kind="write", immediate=not self.is_postgres)
        self._lock_engine: Engine | None = None
        if check_schema:
            try:
                from grafient_tui.store.schema import check_on_open

                self.retrying(self._checked_open, check_on_open)
            except BaseException:
                self.dispose()
                raise
        self._tighten_companions()

    def _checked_open(self, check: Callable[[Database], None]) -> None:
        try:
            check(self)
        except (DBAPIError, sqlite3.Error) as exc:
            raise self.error(exc) from None

    def error(self, exc: BaseException) -> StoreError:
        return store_error(exc, shared=self.is_postgres, url=self.url)

    def retrying(self, work: Callable[..., T], *args: object, **kwargs: object) -> T:
        """`work(*args)`, tried once more after a short pause when a team's server failed in a way a
        moment may cure (the connection was cut, the server was restarting, a deadlock): a server that
        is back within seconds costs nothing. `work` must be whole transactions (safe to run twice)."""
        try:
            return work(*args, **kwargs)
        except StoreError as exc:
            if not (self.is_postgres and exc.transient):
                raise
            pause = RETRY_PAUSE_BASES * self.settings.backoff_base
            log.debug("%s; trying once more in %g s", exc.sentence, pause)
            time.sleep(pause)
            return work(*args, **kwargs)

    def name_row_holder(self, error: StoreError, table: str, key: int, what: str) -> StoreError:
        """A lock timeout's sentence, naming the session that holds the row (a shared database); any
        other error, or no holder found, as it was."""
        if not self.is_postgres or error.code != LOCK_NOT_AVAILABLE:
            return error
        from grafient_tui.store.server import lock_timeout_error

        try:
            with self.engine.connect() as connection:
                return lock_timeout_error(connection, error, table, key, what)
        except DBAPIError:
            return error

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

    @contextlib.contextmanager
    def reader(self) -> Iterator[Reader]:
        """Plain reads (store/read.py) in one read transaction, on a connection of this database's pool."""
        try:
            connection = self.engine.raw_connection()
        except (DBAPIError, sqlite3.Error) as exc:
            raise self.error(exc) from None
        reader = Reader(connection, postgres=self.is_postgres, fail=self.error)
        try:
            reader.begin()
        except BaseException:
            connection.close()
            raise
        try:
            yield reader
        finally:
            reader.end()

    def lock_connection(self) -> Connection:
        """A connection of its own for the sync lock (PostgreSQL): its transaction holds the lock for a
        whole sync, so the server never ends it for sitting idle in it. Closing it really closes it (no
        pool), and with it goes the lock. TCP keepalives on both ends, so that a machine that vanishes
        mid-sync loses its lock in about a minute rather than hours."""
        if self._lock_engine is None:
            self._lock_engine = _make_engine(self.url, kind="lock")
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
    except ValueError:  # SQLAlchemy reads the port as a number: `host:abc` fails there
        raise ConfigError(
            "the port in GRAFIENT_DATABASE_URL must be a number from 1 to 65535 (host:5432), and this one is not."
        ) from None
    if url.port is not None and not 0 < url.port < 65536:
        raise ConfigError(
            f"the port in GRAFIENT_DATABASE_URL must be a number from 1 to 65535 (host:5432), not {url.port}."
        )
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


def _make_engine(url: URL, *, kind: SessionKind = "read", immediate: bool = False) -> Engine:
    if url.get_backend_name() == "postgresql":
        import os

        from grafient_tui.store.server import connect_args

        # Every session in UTC (day boundaries are UTC days), with the timeouts and keepalives of
        # store/server.py, and named, so a team's DBA can tell Grafient's connections apart in
        # pg_stat_activity. The lock's connection is never pooled: closing it must end its session.
        args = connect_args(url, kind, os.environ)
        if kind == "lock":
            return create_engine(url, poolclass=NullPool, connect_args=args)
        return create_engine(url, pool_pre_ping=True, connect_args=args)
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


__all__ = ["BUSY_TIMEOUT_MS", "RETRY_PAUSE_BASES", "Database", "OperationalError", "store_error"]

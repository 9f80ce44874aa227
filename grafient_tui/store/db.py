"""The database: one engine per process, SQLite in WAL mode by default.

The SQLite file and its -wal/-shm companions are created 0600 (SQLite gives
the companions the database file's mode, and we set that mode ourselves before
SQLite ever opens it).
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import event, inspect
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session, SQLModel, create_engine

from grafient_tui.config import FILE_MODE, Settings, ensure_private_dir, ensure_private_file, fix_mode
from grafient_tui.errors import StoreError
from grafient_tui.store import models  # noqa: F401  (registers the tables)

BUSY_TIMEOUT_MS = 15_000


def store_error(exc: BaseException) -> StoreError:
    """One sentence for a database failure, whatever the driver said."""
    text = str(getattr(exc, "orig", exc)).lower()
    if "full" in text or isinstance(getattr(exc, "orig", exc), OSError) and "space" in text:
        return StoreError("disk full: the local database could not grow, so this sync was not saved (earlier data is intact).")
    if "locked" in text or "busy" in text:
        return StoreError("the local database is busy (another grafient is writing); try again in a moment.")
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return StoreError("the local database file is damaged; restore it from a backup or move it away to start fresh.")
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return StoreError("the local database cannot be written (check the permissions of the data directory).")
    return StoreError(f"the local database failed: {str(getattr(exc, 'orig', exc))[:160]}.")


class Database:
    """Owns the engine; hands out sessions whose failures become StoreError."""

    def __init__(self, settings: Settings, *, url: str | None = None) -> None:
        self.settings = settings
        self.url = url or settings.database_url
        self.sqlite_file: Path | None = settings.database_file if url is None else None
        if self.url.startswith("sqlite") and self.sqlite_file is not None:
            # The database may live anywhere (GRAFIENT_DATABASE_URL): the levels we create are 0700,
            # a directory that was there already is the user's and keeps its mode.
            ensure_private_dir(self.sqlite_file.parent, ours=False)
            ensure_private_file(self.sqlite_file)
        self.engine = _make_engine(self.url)
        # Writers start with BEGIN IMMEDIATE so that two processes never both
        # read-then-upgrade (SQLite answers that with "database is locked" at
        # once, without waiting); readers keep plain BEGIN and never block.
        self.write_engine = _make_engine(self.url, immediate=True)
        try:
            # Look before creating: a report or a TUI opening beside a running sync
            # should not queue for the write lock just to learn the tables exist.
            inspector = inspect(self.engine)
            present = set(inspector.get_table_names())
            if not set(SQLModel.metadata.tables) <= present:
                SQLModel.metadata.create_all(self.write_engine)
            self._add_missing_columns(inspector, present)
            if self.url.startswith("sqlite"):
                self._upgrade_integration_ids()
        except (DBAPIError, sqlite3.Error) as exc:
            raise store_error(exc) from None
        self._tighten_companions()

    def _add_missing_columns(self, inspector, present: set[str]) -> None:  # noqa: ANN001
        """A database made by an older version lacks the nullable columns added since: add them.
        (Only additive, nullable columns; anything more needs a real migration.)"""
        for table in SQLModel.metadata.sorted_tables:
            if table.name not in present:
                continue
            have = {c["name"] for c in inspector.get_columns(table.name)}
            missing = [c for c in table.columns if c.name not in have and c.nullable]
            if not missing:
                continue
            with self.write_engine.begin() as connection:
                have = {c["name"] for c in inspect(connection).get_columns(table.name)}  # another process won
                for column in missing:
                    if column.name not in have:
                        kind = column.type.compile(dialect=connection.dialect)
                        connection.exec_driver_sql(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}')

    def _upgrade_integration_ids(self) -> None:
        """Rebuild, once, every SQLite table an older version made in a shape ALTER TABLE cannot fix:
        the integration table before its ids were AUTOINCREMENT (so a removed integration's id is
        never handed out again), and any table whose columns were NOT NULL where unknown values are
        now stored as NULL (request counts and tokens a provider does not give). Rows and ids are kept.

        SQLite's documented recipe: foreign keys off, new table, copy, drop, rename, check, all
        under the write lock.
        """
        with self.engine.connect() as connection:
            if not _outdated_tables(connection.connection.driver_connection):
                return  # the common case: a read, no write lock
        raw = self.write_engine.raw_connection()
        try:
            sqlite = raw.driver_connection
            sqlite.execute("PRAGMA foreign_keys = OFF")  # only outside a transaction; else DROP TABLE checks them
            try:
                sqlite.execute("BEGIN IMMEDIATE")
                try:
                    for table in _outdated_tables(sqlite):  # another process may have done some meanwhile
                        self._rebuild(sqlite, table)
                    if sqlite.execute("PRAGMA foreign_key_check").fetchall():
                        raise sqlite3.IntegrityError("foreign key check failed after rebuilding tables")
                    sqlite.execute("COMMIT")
                except BaseException:
                    sqlite.execute("ROLLBACK")
                    raise
            finally:
                sqlite.execute("PRAGMA foreign_keys = ON")
        finally:
            raw.close()

    def _rebuild(self, sqlite: sqlite3.Connection, table) -> None:  # noqa: ANN001
        name = table.name
        ddl = str(CreateTable(table).compile(self.write_engine)).strip()
        ddl = ddl.replace(f"CREATE TABLE {name} ", f"CREATE TABLE {name}_rebuild ", 1)
        have = {row[1] for row in sqlite.execute(f'PRAGMA table_info("{name}")')}
        columns = ", ".join(c.name for c in table.columns if c.name in have)
        sqlite.execute(ddl)
        sqlite.execute(f"INSERT INTO {name}_rebuild ({columns}) SELECT {columns} FROM {name}")
        if name == "integration":
            # Ids removed before this upgrade left their lock files behind: start above those too.
            floor = max([sqlite.execute("SELECT coalesce(max(id), 0) FROM integration").fetchone()[0],
                         *_lock_file_ids(self.settings.lock_dir)])
            sqlite.execute("DELETE FROM sqlite_sequence WHERE name = 'integration_rebuild'")
            sqlite.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('integration_rebuild', ?)", (floor,))
        sqlite.execute(f"DROP TABLE {name}")
        sqlite.execute(f"ALTER TABLE {name}_rebuild RENAME TO {name}")
        for index in table.indexes:
            sqlite.execute(str(CreateIndex(index).compile(self.write_engine)))

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
            raise store_error(exc) from None

    def dispose(self) -> None:
        self.engine.dispose()
        self.write_engine.dispose()


def _has_autoincrement(sqlite: sqlite3.Connection) -> bool:
    row = sqlite.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'integration'").fetchone()
    return row is None or "AUTOINCREMENT" in row[0].upper()


def _outdated_tables(sqlite: sqlite3.Connection) -> list:
    """The tables (parents first) whose stored shape needs a rebuild: see _upgrade_integration_ids."""
    outdated = []
    for table in SQLModel.metadata.sorted_tables:
        if table.name == "integration" and not _has_autoincrement(sqlite):
            outdated.append(table)
            continue
        not_null = {row[1] for row in sqlite.execute(f'PRAGMA table_info("{table.name}")') if row[3]}
        if any(c.nullable and not c.primary_key and c.name in not_null for c in table.columns):
            outdated.append(table)
    return outdated


def _lock_file_ids(lock_dir: Path) -> list[int]:
    try:
        names = os.listdir(lock_dir)
    except OSError:
        return []
    return [int(m.group(1)) for name in names if (m := re.fullmatch(r"integration-(\d{1,18})\.lock", name))]


def _make_engine(url: str, *, immediate: bool = False) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
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

"""One sync per integration at a time, across processes (a TUI and a cron job) and, on a shared
PostgreSQL database, across machines.

SQLite: an advisory flock on a per-integration file in the data dir: the kernel drops it when the
holder exits, however it exits, so a killed sync never leaves a stale lock behind.

PostgreSQL: a session advisory lock keyed by the integration's id (the one-key, bigint form), held
on a connection of its own for the whole sync. The server drops it when that session ends, however
it ends (a killed process at once, a machine that vanished once TCP keepalives give up on it). The
lock is also what every viewer asks (pg_locks) to tell a sync that is running somewhere from one
that was interrupted: the sync log's `running` alone cannot say.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from grafient_tui.config import FILE_MODE, Settings, ensure_private_dir

if TYPE_CHECKING:
    from grafient_tui.store.db import Database


class SyncLock:
    def __init__(self, settings: Settings, integration_id: int) -> None:
        self.path: Path = settings.lock_dir / f"integration-{integration_id}.lock"
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        ensure_private_dir(self.path.parent)
        fd = os.open(self.path, os.O_CREAT | os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.fchmod(fd, FILE_MODE)
        self._fd = fd
        return True

    async def acquire(self, wait: float) -> bool:
        """Try for up to `wait` seconds; False if another sync still holds it."""
        deadline = time.monotonic() + wait
        while True:
            if self.try_acquire():
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.1)

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class ServerSyncLock:
    """The integration's session advisory lock on a PostgreSQL database (see the module's docstring)."""

    def __init__(self, db: Database, integration_id: int) -> None:
        self.db = db
        self.key = int(integration_id)
        self._connection = None

    def try_acquire(self) -> bool:
        from sqlalchemy import text

        connection = self.db.lock_connection()
        try:
            got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar()
        except BaseException:
            connection.close()
            raise
        if not got:
            connection.close()
            return False
        self._connection = connection
        return True

    async def acquire(self, wait: float) -> bool:
        """Try for up to `wait` seconds; False if another sync (on any machine) still holds it.
        Each try is a round trip to the server, so it runs in a thread, never on the event loop."""
        deadline = time.monotonic() + wait
        while True:
            if await asyncio.to_thread(self.try_acquire):
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.2)

    def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        from sqlalchemy import text

        try:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
        except Exception:  # noqa: BLE001  (the session is gone, and its lock with it)
            pass
        finally:
            with contextlib.suppress(Exception):
                connection.close()


class IntegrationLock(Protocol):
    def try_acquire(self) -> bool: ...
    async def acquire(self, wait: float) -> bool: ...
    def release(self) -> None: ...


def sync_lock(settings: Settings, integration_id: int, db: Database | None = None) -> IntegrationLock:
    """The lock that keeps syncs of this integration one at a time, for the store in use."""
    if db is not None and db.is_postgres:
        return ServerSyncLock(db, integration_id)
    return SyncLock(settings, integration_id)


def server_lock_held(db: Database, integration_id: int) -> bool:
    """True when some session (on any machine, this process included) holds the integration's lock."""
    from sqlalchemy import text

    key = int(integration_id)
    with db.engine.connect() as connection:
        return bool(
            connection.execute(
                text(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                    " AND classid::bigint = :high AND objid::bigint = :low AND objsubid = 1)"
                ),
                {"high": (key >> 32) & 0xFFFFFFFF, "low": key & 0xFFFFFFFF},
            ).scalar()
        )


def is_sync_running(settings: Settings, integration_id: int, db: Database | None = None) -> bool:
    """True when some process (this one included) is syncing this integration now: on this machine
    (SQLite), or on any machine sharing the database (PostgreSQL, when `db` is given)."""
    if db is not None and db.is_postgres:
        return server_lock_held(db, integration_id)
    lock = SyncLock(settings, integration_id)
    if not lock.path.exists():
        return False
    if lock.try_acquire():
        lock.release()
        return False
    return True

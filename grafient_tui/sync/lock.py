"""One sync per integration at a time, across processes (a TUI and a cron job) and, on a shared
PostgreSQL database, across machines.

SQLite: an advisory flock on a per-integration file in the data dir: the kernel drops it when the
holder exits, however it exits, so a killed sync never leaves a stale lock behind.

PostgreSQL: a row lock (SELECT … FOR UPDATE) on the integration's row of `synclock`, held by the open
transaction of a connection of its own for the whole sync. Only a role that may change that table
(a syncer, or the owner) can take it: a viewer cannot, so no read-only login can stop a team's syncs
(an advisory lock, which any role may take on any key, could). The server drops it when that
session ends, however it ends: a killed process at once, a vanished machine once TCP keepalives give
up on it, an administrator's pg_terminate_backend, a server restart. The sync asks its session
before each window it fetches and writes (`check`), and stops with a sentence once the lock is gone,
so it never goes on beside the sync that may have taken it since.

Who holds it can be read by any role (`holder`): the row's locking transaction, its session in
pg_locks and pg_stat_activity, and that session's run in the sync log (each run records the server
process of its lock, `syncrun.lock_pid`), so `list`, a blocked sync and `remove` name the host and user.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from grafient_tui.config import FILE_MODE, Settings, ensure_private_dir
from grafient_tui.errors import GrafientError, NotFound

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from grafient_tui.store.db import Database
    from grafient_tui.store.server import Holder

LOCK_NOT_AVAILABLE = "55P03"


class LockLost(GrafientError):
    """The sync's lock went with its database session: the sync stops, so as never to run beside
    another that may have taken the lock since."""

    exit_code = 1


LOST_SENTENCE = (
    "this sync lost its lock (its database session ended: the server restarted, an administrator ended it, "
    "or the connection dropped), so it stopped rather than run beside another sync"
)


class SyncLock:
    def __init__(self, settings: Settings, integration_id: int) -> None:
        self.path: Path = settings.lock_dir / f"integration-{integration_id}.lock"
        self._fd: int | None = None
        self.pid: int | None = None  # the server process holding a shared database's lock: none here

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

    def check(self) -> None:
        """A file lock cannot be lost while this process lives."""

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class ServerSyncLock:
    """The integration's row lock on a PostgreSQL database (see the module's docstring)."""

    def __init__(self, db: Database, integration_id: int) -> None:
        self.db = db
        self.key = int(integration_id)
        self._connection: Connection | None = None
        self.pid: int | None = None  # the server process of the lock's session, while held

    def try_acquire(self) -> bool:
        from sqlalchemy import text
        from sqlalchemy.exc import DBAPIError

        connection = self.db.lock_connection()
        take = text("SELECT pg_backend_pid() FROM synclock WHERE integration_id = :key FOR UPDATE NOWAIT")
        try:
            pid = connection.execute(take, {"key": self.key}).scalar()
            if pid is None:  # no row yet (an integration from before the table): made once, by whoever comes first
                connection.rollback()
                connection.execute(
                    text("INSERT INTO synclock (integration_id) VALUES (:key) ON CONFLICT DO NOTHING"),
                    {"key": self.key},
                )
                connection.commit()
                pid = connection.execute(take, {"key": self.key}).scalar()
        except DBAPIError as exc:
            connection.close()
            if getattr(exc.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
                return False
            raise self.db.error(exc) from None
        except BaseException:
            connection.close()
            raise
        if pid is None:  # its row was deleted between the two statements: `remove` took it
            connection.close()
            raise NotFound(f"integration {self.key} was removed as its sync started; nothing to sync.")
        self._connection, self.pid = connection, int(pid)
        return True

    async def acquire(self, wait: float) -> bool:
        """Try for up to `wait` seconds; False if another sync (on any machine) still holds it.
        Each try is a round trip to the server, so it runs in a thread, never on the event loop. A try
        whose new session the server ended before its first statement (a DBA's idle_session_timeout,
        shorter than a loaded machine's pause between connecting and asking) is made once more, on a
        session of its own, like every other transient failure (`Database.retrying`)."""
        deadline = time.monotonic() + wait
        while True:
            if await asyncio.to_thread(self.db.retrying, self.try_acquire):
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.2)

    def check(self) -> None:
        """LockLost when the lock's session has ended (its transaction, and so the lock, with it)."""
        from sqlalchemy import text
        from sqlalchemy.exc import DBAPIError

        connection = self._connection
        if connection is None:
            raise LockLost(LOST_SENTENCE)
        try:
            pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()
        except DBAPIError:
            self._drop()
            raise LockLost(LOST_SENTENCE) from None
        if pid != self.pid:  # never expected: a connection is not reopened under us
            self._drop()
            raise LockLost(LOST_SENTENCE)

    def finish_with(self, work: Callable[[Connection], None]) -> None:
        """Run `work` in the lock's own transaction, forget the lock's row, and commit: what `remove`
        does, so nothing can sync the integration between its last check and its removal."""
        from sqlalchemy import text
        from sqlalchemy.exc import DBAPIError

        connection = self._connection
        if connection is None:
            raise LockLost(LOST_SENTENCE)
        try:
            work(connection)
            connection.execute(text("DELETE FROM synclock WHERE integration_id = :key"), {"key": self.key})
            connection.commit()
        except DBAPIError as exc:
            self._drop()
            raise self.db.error(exc) from None

    def release(self) -> None:
        self._drop()

    def _drop(self) -> None:
        connection, self._connection, self.pid = self._connection, None, None
        if connection is None:
            return
        with contextlib.suppress(Exception):  # the session may be gone already, and its lock with it
            connection.rollback()
        with contextlib.suppress(Exception):
            connection.close()


class IntegrationLock(Protocol):
    pid: int | None

    def try_acquire(self) -> bool: ...
    async def acquire(self, wait: float) -> bool: ...
    def check(self) -> None: ...
    def release(self) -> None: ...


def sync_lock(settings: Settings, integration_id: int, db: Database | None = None) -> IntegrationLock:
    """The lock that keeps syncs of this integration one at a time, for the store in use."""
    if db is not None and db.is_postgres:
        return ServerSyncLock(db, integration_id)
    return SyncLock(settings, integration_id)


def lock_holder(db: Database, integration_id: int) -> Holder | None:
    """Who holds the integration's lock on a shared database (any role may ask); None when nobody
    does, and always None on SQLite (a lock file says nothing of its holder)."""
    if not db.is_postgres:
        return None
    from sqlalchemy.exc import DBAPIError

    from grafient_tui.store.server import sync_lock_holder

    try:
        with db.engine.connect() as connection:
            return sync_lock_holder(connection, int(integration_id))
    except DBAPIError as exc:
        raise db.error(exc) from None


def is_sync_running(settings: Settings, integration_id: int, db: Database | None = None) -> bool:
    """True when some process (this one included) is syncing this integration now: on this machine
    (SQLite), or on any machine sharing the database (PostgreSQL, when `db` is given)."""
    if db is not None and db.is_postgres:
        return lock_holder(db, integration_id) is not None
    lock = SyncLock(settings, integration_id)
    if not lock.path.exists():
        return False
    if lock.try_acquire():
        lock.release()
        return False
    return True


def blocked_sentence(label: str, holder: Holder | None, waited: float) -> str:
    """Why a sync did not run on a shared database, naming who holds its lock."""
    from grafient_tui.untrusted import visible

    label = visible(label)
    if holder is None:
        return f"a sync for {label} is already running elsewhere; this one gave up after {waited:g} s"
    if holder.is_grafient:
        return f"a sync for {label} is already running: {holder.words()}; this one gave up after {waited:g} s"
    return (
        f"the sync lock of {label} is held by {holder.words()}; this one gave up after {waited:g} s "
        "(that session must end before anyone can sync it)"
    )

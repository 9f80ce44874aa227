"""An integration's sync state as people should read it: the sync log, corrected by the sync lock.

Light on purpose (no SQLAlchemy, no httpx): `grafient list` on a SQLite home reads it with plain reads.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from grafient_tui.figures import SyncStatus
from grafient_tui.store.queries import sync_state
from grafient_tui.sync.lock import is_sync_running

if TYPE_CHECKING:
    from grafient_tui.config import Settings
    from grafient_tui.store.db import Database
    from grafient_tui.store.read import ReadSource

INTERRUPTED = "the last sync stopped before it finished"


def sync_status(
    db: Database | None, settings: Settings, integration_id: int, *, read: ReadSource | None = None
) -> SyncStatus:
    """The stored status, corrected by the lock: a run still marked running that no process holds was
    killed, and shows as interrupted until the next sync. Read from `read` (default: `db`); `db` is
    where a shared (PostgreSQL) database's syncs hold their locks, and may be None on a SQLite home,
    whose locks are files."""
    source = read if read is not None else db
    assert source is not None, "sync_status needs a database or a reader"
    state = sync_state(source, integration_id)
    if state.status == "syncing" and not is_sync_running(settings, integration_id, db):
        return replace(state, status="interrupted", error=INTERRUPTED)
    return state

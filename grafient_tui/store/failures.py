"""A database failure as one sentence, whatever the driver said (SQLite's or PostgreSQL's).

Light on purpose (no SQLAlchemy): plain reads (store/read.py) word their failures as store/db.py's
Database does, without loading it. A team server's sentences are store/server.py's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from grafient_tui.errors import StoreError

if TYPE_CHECKING:
    from grafient_tui.store.server import ServerURL

# A team server's failure that a moment may cure is tried once more, after this many times
# GRAFIENT_BACKOFF_BASE seconds (2 s by default; tests set the base to 0).
RETRY_PAUSE_BASES = 2.0


def store_error(exc: BaseException, *, shared: bool = False, url: ServerURL | None = None) -> StoreError:
    """One sentence for a database failure, whatever the driver said. `shared`: a PostgreSQL server
    (its sentences are store/server.py's), not the local file; `url`'s password is cut out of anything
    quoted."""
    if shared and url is not None:
        from grafient_tui.store.server import server_error

        return server_error(exc, url)
    orig = getattr(exc, "orig", exc)
    said = " ".join(str(orig).split())
    if url is not None and url.password:
        said = said.replace(url.password, "[hidden]")
    text = said.lower()
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

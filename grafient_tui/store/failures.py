"""A database failure as one sentence, whatever the driver said (SQLite's or PostgreSQL's).

Standard library only: plain reads (store/read.py) word their failures without loading SQLAlchemy.
"""

from __future__ import annotations

from grafient_tui.errors import StoreError


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

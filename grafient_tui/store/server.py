"""A team's PostgreSQL server: how Grafient's sessions are set up there, what its failures mean in
words, and who holds a lock that Grafient is waiting for.

Sessions. Every connection gets a connect timeout and TCP keepalives (libpq's), and every session
server settings that keep a team's syncs from stalling: a lock timeout, an idle-in-transaction
timeout (the server ends a session that sits in a transaction without a word, so the row a vanished
laptop was writing is released), the server's own keepalives (a client that vanished is noticed),
and, on the sessions that only read, a statement timeout. They are defaults: the URL's `options`
(or, without it, PGOPTIONS) come after them and win, as they would in psql, and a URL parameter
(`?connect_timeout=30`) or PGCONNECT_TIMEOUT wins over the connect timeout. Only the time zone is
always UTC (Grafient's days are UTC days), and the sync lock's session never times out while idle
in its transaction (that transaction is the lock; see sync/lock.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal, Protocol

from grafient_tui.errors import StoreError
from grafient_tui.untrusted import cap, visible

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

SessionKind = Literal["read", "write", "lock"]


class ServerURL(Protocol):
    """What the session settings and the sentences read of GRAFIENT_DATABASE_URL: SQLAlchemy's URL
    (store/db.py) or the plain reads' own (store/read.py), so that both connect alike and fail in the
    same words."""

    @property
    def host(self) -> str | None: ...
    @property
    def port(self) -> int | None: ...
    @property
    def username(self) -> str | None: ...
    @property
    def password(self) -> str | None: ...
    @property
    def query(self) -> Mapping[str, str | tuple[str, ...]]: ...


# libpq's connection parameters, unless the URL or the environment gives them.
CLIENT_DEFAULTS: dict[str, str] = {
    "connect_timeout": "10",
    "keepalives": "1",
    "keepalives_idle": "30",
    "keepalives_interval": "10",
    "keepalives_count": "3",
}
CLIENT_ENVIRONMENT = {"connect_timeout": "PGCONNECT_TIMEOUT", "application_name": "PGAPPNAME"}
APPLICATION = {"read": "grafient", "write": "grafient", "lock": "grafient sync lock"}

# Server settings of every Grafient session; the team's options come after them, and win.
SESSION_DEFAULTS: dict[str, str] = {
    "lock_timeout": "30s",
    "idle_in_transaction_session_timeout": "60s",
    "tcp_keepalives_idle": "30",
    "tcp_keepalives_interval": "10",
    "tcp_keepalives_count": "3",
}
READ_DEFAULTS: dict[str, str] = {"statement_timeout": "60s"}
# Set after the team's options: what Grafient cannot work without.
ALWAYS: dict[str, str] = {"timezone": "UTC"}
LOCK_ALWAYS: dict[str, str] = {"idle_in_transaction_session_timeout": "0"}
SHOWN_SETTINGS = (
    "lock_timeout",
    "statement_timeout",
    "idle_in_transaction_session_timeout",
    "tcp_keepalives_idle",
    "search_path",
)


def team_options(url: ServerURL, environ: Mapping[str, str]) -> str:
    """The options the team gave: the URL's `options` parameter, else PGOPTIONS (as libpq reads them)."""
    given = url.query.get("options")
    if isinstance(given, tuple):
        given = given[-1] if given else None
    if given is not None:
        return str(given).strip()
    return environ.get("PGOPTIONS", "").strip()


def _flags(settings: Mapping[str, str]) -> list[str]:
    return [f"-c {name}={value}" for name, value in settings.items()]


def connect_args(url: ServerURL, kind: SessionKind, environ: Mapping[str, str]) -> dict[str, str]:
    """psycopg's connection arguments for a session of this kind (see the module's docstring)."""
    args = {
        name: value
        for name, value in CLIENT_DEFAULTS.items()
        if name not in url.query and not environ.get(CLIENT_ENVIRONMENT.get(name, ""))
    }
    if "application_name" not in url.query and not environ.get("PGAPPNAME"):
        args["application_name"] = APPLICATION[kind]
    ours = dict(SESSION_DEFAULTS)
    if kind == "read":
        ours.update(READ_DEFAULTS)
    last = dict(ALWAYS)
    if kind == "lock":
        last.update(LOCK_ALWAYS)
    theirs = team_options(url, environ)
    args["options"] = " ".join([*_flags(ours), *([theirs] if theirs else []), *_flags(last)])
    return args


# ---------------------------------------------------------------- failures, in words


def where(url: ServerURL) -> str:
    """`HOST:PORT` of the server (never the user or password)."""
    host = url.host or "localhost"
    return f"{host}:{url.port or 5432}"


# SQLSTATE classes and codes that a second try a moment later may get past: the connection was cut,
# the server is starting or stopping, a deadlock or serialization failure was resolved against us.
TRANSIENT_STATES = {"57P01", "57P02", "57P03", "40001", "40P01", "25P03"}
_CUT = (
    "server closed the connection",
    "connection is closed",
    "terminating connection",
    "consuming input failed",
    "connection is lost",
    "ssl connection has been closed",
    "the connection is closed",
    "ssl syscall error",
    "could not receive data",
    "could not send data",
    "connection reset",
    "broken pipe",
    "eof detected",
)


def server_error(exc: BaseException, url: ServerURL) -> StoreError:
    """One sentence for a failure of the team's PostgreSQL server, naming its real cause."""
    error = _server_error(exc, url)
    error.code = getattr(getattr(exc, "orig", exc), "sqlstate", None) or None
    return error


def _server_error(exc: BaseException, url: ServerURL) -> StoreError:
    orig = getattr(exc, "orig", exc)
    said = " ".join(str(orig).split())
    if url.password:
        said = said.replace(url.password, "[hidden]")
    text = said.lower()
    state = getattr(orig, "sqlstate", None) or ""
    at = where(url)
    user = visible(url.username or "(your operating-system user)")
    if "does not support ssl" in text:
        return StoreError(
            f"the team database at {at} does not accept TLS (SSL), but GRAFIENT_DATABASE_URL asks for it "
            "(sslmode=require or stronger); enable SSL on the server, or connect over a network you trust "
            "with sslmode=prefer."
        )
    if "root certificate file" in text:
        return StoreError(
            f"the TLS connection to the team database at {at} cannot be verified: there is no root certificate "
            "to check the server's against (sslmode=verify-full or verify-ca); put the certificate of the "
            "authority that signed the server's in ~/.postgresql/root.crt, or give sslrootcert=PATH "
            "(or sslrootcert=system) in GRAFIENT_DATABASE_URL."
        )
    if "certificate verify failed" in text or "does not match host name" in text or "certificate" in text:
        return StoreError(
            f"the team database at {at} showed a TLS certificate this machine does not trust (for sslmode="
            "verify-full the certificate must be signed by the root in sslrootcert and name the host of the "
            "URL); check sslrootcert and the host name in GRAFIENT_DATABASE_URL."
        )
    if "role" in text and "does not exist" in text:
        return StoreError(
            f"the team database at {at} has no role {user}; check the user of GRAFIENT_DATABASE_URL "
            "(the roles are set up as in README, A shared team database)."
        )
    if "password authentication failed" in text or "no password supplied" in text:
        return StoreError(
            f"the team database at {at} refused the password of {user}; check ~/.pgpass or PGPASSWORD "
            "(keep the password out of GRAFIENT_DATABASE_URL)."
        )
    if "no pg_hba.conf entry" in text:
        return StoreError(
            f"the team database at {at} does not let {user} log in from this machine (pg_hba.conf has no "
            "entry for it, or none without TLS); ask its administrator."
        )
    if "database" in text and "does not exist" in text:
        return StoreError(
            f"the database named in GRAFIENT_DATABASE_URL does not exist on {at}; create it first "
            "(see README, A shared team database)."
        )
    if "connection refused" in text:
        return StoreError(
            f"nothing answers at {at} (connection refused): check the host and port of GRAFIENT_DATABASE_URL "
            "and that the server is up.",
            transient=True,
        )
    if "timeout expired" in text or "connection timeout" in text:
        return StoreError(
            f"the team database at {at} did not answer within the connect timeout (connect_timeout, 10 s unless "
            "the URL or PGCONNECT_TIMEOUT says otherwise); check the host and port, and the network on the way.",
        )
    if "could not translate host name" in text or "name or service not known" in text:
        return StoreError(
            f"the host name of GRAFIENT_DATABASE_URL ({visible(url.host or '')}) is not known here; check its spelling "
            "and this machine's DNS."
        )
    if "starting up" in text or "shutting down" in text or "in recovery mode" in text or state == "57P03":
        return StoreError(
            f"the team database at {at} is starting up or shutting down; try again in a moment.", transient=True
        )
    if "idle-in-transaction timeout" in text or state == "25P03":
        return StoreError(
            "the team database ended this session for sitting in a transaction too long "
            "(idle_in_transaction_session_timeout); try again.",
            transient=True,
        )
    if state == "57014" or "statement timeout" in text:
        return StoreError(
            "the team database did not finish a query within the statement timeout (statement_timeout, 60 s for "
            "reads unless the URL's options say otherwise); try again, or raise it (see README, A shared team "
            "database)."
        )
    if state == "55P03" or "lock timeout" in text:
        return StoreError(
            "the team database kept a row Grafient needed locked for longer than the lock timeout (lock_timeout, "
            "30 s unless the URL's options say otherwise); try again."
        )
    if state in ("40P01", "40001") or "deadlock detected" in text or "could not serialize" in text:
        return StoreError(
            "the team database undid this write to resolve a conflict with another session's; try again.",
            transient=True,
        )
    if state == "57P01" or any(words in text for words in _CUT) or state.startswith("08"):
        return StoreError(
            f"the connection to the team database at {at} was cut (the server restarted, an administrator "
            "ended the session, or the network dropped).",
            transient=True,
        )
    if "row-level security" in text or "must be owner" in text:
        return StoreError(
            "the team database refused this change: it is the owner's (the role that owns Grafient's tables) to "
            "make (see README, A shared team database)."
        )
    if "permission denied" in text:
        return StoreError(
            f"the team database refused this change: {_denied(said)}; ask its owner for the grants of README's "
            "A shared team database."
        )
    if "could not extend" in text or "no space left" in text or "disk full" in text or state == "53100":
        return StoreError("the team database's disk is full, so this change was not saved (earlier data is intact).")
    return StoreError(f"the team database failed: {visible(said[:160])}.")


def _denied(said: str) -> str:
    """`role R may not … TABLE` from PostgreSQL's `permission denied for table TABLE`."""
    lowered = said.lower()
    marker = "permission denied for "
    start = lowered.find(marker)
    if start < 0:
        return "this role lacks a privilege it needs"
    what = visible(said[start + len(marker) :].split(";")[0].split(" DETAIL")[0].strip()[:80])
    return f"this role lacks a privilege on {what}"


# ---------------------------------------------------------------- who holds a lock


@dataclass(frozen=True)
class Holder:
    """A session holding a row lock Grafient wants: another Grafient's sync (named from the sync log),
    or some other session (its role and application, as pg_stat_activity shows them to anyone)."""

    pid: int
    role: str | None
    application: str | None
    host: str | None = None
    user: str | None = None
    trigger: str | None = None
    since: datetime | None = None

    @property
    def is_grafient_sync(self) -> bool:
        return self.since is not None

    @property
    def is_grafient(self) -> bool:
        """A Grafient's session: a sync named in the sync log, or one starting, or a `remove` (which
        holds the lock too)."""
        return self.is_grafient_sync or self.application in APPLICATION.values()

    def words(self) -> str:
        if self.is_grafient_sync:
            assert self.since is not None
            since = self.since.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
            # The sync log's host, user and trigger are written by any syncer: shown through the rule,
            # cut, and a trigger this Grafient does not know is not repeated.
            who = " on ".join(
                cap(visible(part), 64) for part in (self.user or "someone", self.host or "another machine")
            )
            kind = f"a {self.trigger} sync" if self.trigger in ("backfill", "daily", "force") else "a sync"
            return f"{who} ({kind} started {since})"
        role = f"role {cap(visible(self.role), 64)!r}" if self.role else "another role"
        if self.application in APPLICATION.values():
            return f"another Grafient's session ({role}, process {self.pid} on the server)"
        application = f", application {cap(visible(self.application), 64)!r}" if self.application else ""
        return f"a database session of {role}{application} (process {self.pid} on the server), not a Grafient sync"


def row_lock_holder(connection: Connection, table: str, key_column: str, key: int) -> Holder | None:
    """The session whose open transaction locks (or changes) the row `table.key_column = key`, if any.

    The row's xmax names the locking transaction; pg_locks (readable by every role) says which
    session holds that transaction's lock, pg_stat_activity its role and application. `table` and
    `key_column` are Grafient's own names, never text from outside."""
    from sqlalchemy import text

    row = connection.execute(
        text(
            f"SELECT l.pid, a.usename, a.application_name FROM {table} t "  # our own names, never text from outside
            "JOIN pg_locks l ON l.locktype = 'transactionid' AND l.transactionid = t.xmax AND l.granted "
            "AND l.mode = 'ExclusiveLock' LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
            f"WHERE t.{key_column} = :key AND l.pid <> pg_backend_pid() LIMIT 1"
        ),
        {"key": key},
    ).first()
    if row is None:
        return None
    return Holder(pid=int(row[0]), role=row[1], application=row[2])


def sync_lock_holder(connection: Connection, integration_id: int) -> Holder | None:
    """Who holds the integration's sync lock (its synclock row): the sync log's host and user when it
    is a Grafient sync, else the session's role and application."""
    from sqlalchemy import text

    holder = row_lock_holder(connection, "synclock", "integration_id", integration_id)
    if holder is None:
        return None
    run = connection.execute(
        text(
            "SELECT host, username, trigger, started_at FROM syncrun WHERE integration_id = :id "
            "AND outcome = 'running' AND lock_pid = :pid ORDER BY id DESC LIMIT 1"
        ),
        {"id": integration_id, "pid": holder.pid},
    ).first()
    if run is None:
        return holder
    started = run[3]
    if started is not None and started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    return Holder(
        pid=holder.pid,
        role=holder.role,
        application=holder.application,
        host=run[0],
        user=run[1],
        trigger=run[2],
        since=started,
    )


def lock_timeout_error(connection: Connection, error: StoreError, table: str, key: int, what: str) -> StoreError:
    """`error` (a lock timeout) naming the session that held the row `table.id = key` (`what` says
    which row, in words), when it still holds it; `error` as it was otherwise."""
    from sqlalchemy import text

    holder = row_lock_holder(connection, table, "id", key)
    if holder is None:
        return error
    waited = connection.execute(text("SHOW lock_timeout")).scalar()
    return StoreError(
        f"{what} was held longer than the lock timeout (lock_timeout {waited}) by {holder.words()}, so Grafient "
        "gave up waiting; nothing of this write was saved",
        code=error.code,
    )


def session_settings(connection: Connection) -> dict[str, str]:
    """The settings in force on this session that README's timeouts are about (shown by `db status`)."""
    from sqlalchemy import text

    return {name: str(connection.execute(text(f"SHOW {name}")).scalar()) for name in SHOWN_SETTINGS}

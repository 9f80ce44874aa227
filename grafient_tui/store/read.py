"""Plain reads of the store: a DB-API connection (sqlite3, or psycopg on PostgreSQL) and SQL both accept.

Reports, budgets and screens read through a Reader, not the ORM: importing SQLAlchemy alone costs a
`grafient report` several times the report's own work, and loading rows as ORM instances most of
the rest. Writes and migrations keep SQLAlchemy and SQLModel (store/db.py).

- The SQL uses `?` placeholders (PostgreSQL gets psycopg's `%s`) and nothing else that differs;
  ordering that depends on text is done in Python, since the two databases collate text differently.
- Dates are stored as ISO text on SQLite (how SQLAlchemy keeps them) and as dates on PostgreSQL:
  parameters go in the way each stores them, and `day()` / `moment()` read either back.
- A Reader is one read transaction: the figures of one report or one screen come from one state of
  the store, even while a sync writes (a WAL reader on SQLite, REPEATABLE READ on PostgreSQL).
- A driver error becomes the store's one sentence (store/failures.store_error; a team server's are
  store/server.py's, as for Database).
- On PostgreSQL a Reader's own connection is set up as Database's reading sessions are
  (store/server.connect_args: the connect and statement timeouts, keepalives, lock and
  idle-in-transaction timeouts, the application name, the URL's `options` after ours).

`open_reader(settings)` connects without SQLAlchemy when the store is at this version's schema (one
small read checks it); anything else (no database yet, an older or a newer schema, a URL only
SQLAlchemy reads) is left to store/db.Database, which sets it up, upgrades it or refuses it with its
sentence. `Database.reader()` gives a Reader on a connection of its own pool.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Protocol

from grafient_tui.figures import ModelFigures
from grafient_tui.store.schema import HEAD

if TYPE_CHECKING:
    from grafient_tui.config import Settings
    from grafient_tui.errors import StoreError

BUSY_TIMEOUT_MS = 15_000  # how long a SQLite connection waits out another process's lock
POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")
VERSION_SQL = "SELECT version_num FROM alembic_version"


class ReadSource(Protocol):
    """Anything a query can read from: a Reader (used as it is) or a Database (a Reader of its own)."""

    def reader(self) -> contextlib.AbstractContextManager[Reader]: ...


class Reader:
    """One read transaction on one DB-API connection."""

    def __init__(
        self,
        connection: Any,
        *,
        postgres: bool,
        fail: Callable[[BaseException], StoreError],
        close: Callable[[], None] | None = None,
    ) -> None:
        self.postgres = postgres
        self._connection = connection
        self._fail = fail
        self._close = close or connection.close
        self._errors: tuple[type[BaseException], ...] = (sqlite3.Error,)
        if postgres:
            import psycopg

            self._errors = (sqlite3.Error, psycopg.Error)

    @contextlib.contextmanager
    def reader(self) -> Iterator[Reader]:
        """Itself: queries handed a Reader read in its transaction."""
        yield self

    # -- the transaction --------------------------------------------------------------------------

    def begin(self) -> None:
        try:
            if self.postgres:
                self._connection.rollback()  # whatever a pool's ping may have begun
                self._execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", ())
            else:
                self._execute("BEGIN", ())
        except self._errors as exc:
            raise self._fail(exc) from None

    def end(self) -> None:
        """Roll the read transaction back (it changed nothing) and give the connection back."""
        try:
            try:
                if self.postgres:
                    self._connection.rollback()
                else:
                    self._execute("ROLLBACK", ())
            except self._errors:
                pass  # a connection that broke: closing it is all there is left to do
        finally:
            self._close()

    # -- queries ----------------------------------------------------------------------------------

    def rows(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        """Every row of `sql`, each a tuple of the values in the order selected."""
        try:
            cursor = self._execute(sql, params)
            try:
                return [tuple(row) for row in cursor.fetchall()]
            finally:
                cursor.close()
        except self._errors as exc:
            raise self._fail(exc) from None

    def one(self, sql: str, *params: object) -> tuple[Any, ...] | None:
        """The first row of `sql`, or None when there is none."""
        rows = self.rows(sql, *params)
        return rows[0] if rows else None

    def _execute(self, sql: str, params: Sequence[object]) -> Any:
        if self.postgres:
            assert "%" not in sql, "a literal % would read as a psycopg placeholder"
            sql = sql.replace("?", "%s")
            values = list(params)
        else:
            values = [value.isoformat() if isinstance(value, date) else value for value in params]
        cursor = self._connection.cursor()
        try:
            cursor.execute(sql, values)
        except BaseException:
            cursor.close()
            raise
        return cursor


def marks(count: int) -> str:
    """`?, ?, ?`: the placeholders of an IN list of `count` values; `NULL` for none (matches nothing)."""
    return ", ".join(["?"] * count) if count else "NULL"


# -- values as the drivers give them --------------------------------------------------------------


def day(value: Any) -> date:
    """A DATE column: ISO text on SQLite, a date on PostgreSQL."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def maybe_day(value: Any) -> date | None:
    return None if value is None else day(value)


def moment(value: Any) -> datetime | None:
    """A TIMESTAMP column, as an aware UTC datetime (the store keeps UTC without a zone)."""
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def integer(value: Any) -> int | None:
    """A count or a sum: PostgreSQL sums bigints as numeric (a Decimal), exactly."""
    return None if value is None else int(value)


def model_figures(row: Sequence[Any]) -> ModelFigures:
    """One model's row as the detail's and the reports' reads select it: the model, its cost, then
    MODEL_MEASURES (requests, input, output, cache read, cache write, reasoning, credits, characters),
    and where a read selects them, the billed (on-demand) part, then whether it reports requests and
    tokens (`reports`)."""
    model, cost, requests, inputs, outputs, cache_read, cache_write, reasoning, credits, characters, *rest = row
    return ModelFigures(
        model=str(model),
        cost_micro=int(cost or 0),
        requests=integer(requests),
        input_tokens=integer(inputs),
        output_tokens=integer(outputs),
        cache_read_tokens=integer(cache_read),
        cache_write_tokens=integer(cache_write),
        reasoning_tokens=integer(reasoning),
        credits_micro=integer(credits),
        characters=integer(characters),
        on_demand_micro=integer(rest[0]) if rest else None,
        reports_requests=flag(rest[1]) if len(rest) > 1 else True,
        reports_tokens=flag(rest[2]) if len(rest) > 2 else True,
    )


def flag(value: Any) -> bool:
    """A BOOLEAN column: 0/1 on SQLite."""
    return bool(value)


# -- a reader of its own, without SQLAlchemy --------------------------------------------------------


@contextlib.contextmanager
def open_reader(settings: Settings) -> Iterator[Reader | None]:
    """A Reader on the store when it is at this version's schema, else None (see the module's docstring)."""
    reader = _connect(settings)
    if reader is None:
        yield None
        return
    try:
        yield reader
    finally:
        reader.end()


def _connect(settings: Settings) -> Reader | None:
    scheme = settings.database_url.split(":", 1)[0]
    if scheme in POSTGRES_SCHEMES:
        return _connect_postgres(settings.database_url, scheme)
    if scheme == "sqlite":
        return _connect_sqlite(settings)
    return None


def _connect_sqlite(settings: Settings) -> Reader | None:
    from grafient_tui.config import FILE_MODE, ensure_private_file, fix_mode

    path = settings.database_file
    if path is None or not path.is_file():
        return None  # no file yet (Database creates it and its tables), or not a file at all
    ensure_private_file(path)  # 0600, as every open of the store makes it
    try:
        connection = sqlite3.connect(
            str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error:
        return None  # Database says why, in its words
    reader = Reader(connection, postgres=False, fail=lambda exc: _store_error(exc))
    if not _current(reader, connection):
        return None
    for suffix in ("-wal", "-shm", "-journal"):  # SQLite gives them the file's mode; 0600 whatever it was
        fix_mode(path.with_name(path.name + suffix), FILE_MODE)
    return reader


@dataclass(frozen=True)
class _ServerURL:
    """GRAFIENT_DATABASE_URL as store/server.py reads it (store/server.ServerURL), read without SQLAlchemy."""

    host: str | None
    port: int | None
    username: str | None
    password: str | None
    query: Mapping[str, str | tuple[str, ...]]


def _server_url(url: str) -> _ServerURL | None:
    """The parts of a postgresql:// URL, or None when it does not read as one (Database says why)."""
    from urllib.parse import parse_qsl, unquote, urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port
        pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        return None
    if port is not None and not 0 < port < 65536:
        return None  # Database refuses it with its sentence
    query: dict[str, str | tuple[str, ...]] = {}
    for name, value in pairs:  # a parameter given twice is a tuple, as SQLAlchemy's URL has it
        given = query.get(name)
        query[name] = value if given is None else (*((given,) if isinstance(given, str) else given), value)
    return _ServerURL(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        query=query,
    )


def _connect_postgres(url: str, scheme: str) -> Reader | None:
    try:
        import psycopg
    except ImportError:
        return None  # Database says to install the postgres extra
    import os

    from grafient_tui.store.server import connect_args

    server = _server_url(url)
    if server is None:
        return None

    def fail(exc: BaseException) -> StoreError:
        return _store_error(exc, shared=True, url=server)

    conninfo = "postgresql" + url[len(scheme) :]
    try:
        # As store/db.py's engine connects its reading sessions: every session in UTC (day boundaries
        # are UTC days), with the team server's timeouts and keepalives, and named, so that a team's
        # DBA can tell Grafient's connections apart.
        settings: dict[str, Any] = dict(connect_args(server, "read", os.environ))
        connection = psycopg.connect(conninfo, **settings)
    except psycopg.Error as exc:
        raise fail(exc) from None
    except Exception:  # noqa: BLE001  (a URL libpq reads otherwise than SQLAlchemy: Database decides)
        return None
    reader = Reader(connection, postgres=True, fail=fail)
    return reader if _current(reader, connection) else None


def _current(reader: Reader, connection: Any) -> bool:
    """Begin the read transaction and check the schema is this version's; False (closed) when it is not."""
    try:
        reader.begin()
        row = reader.one(VERSION_SQL)
    except Exception:  # noqa: BLE001  (no alembic_version yet, a file that is not a database: Database says)
        with contextlib.suppress(Exception):
            connection.close()
        return False
    if row is None or row[0] != HEAD:
        reader.end()
        return False
    return True


def _store_error(exc: BaseException, *, shared: bool = False, url: _ServerURL | None = None) -> StoreError:
    from grafient_tui.store.failures import store_error

    return store_error(exc, shared=shared, url=url)


# A day's models beside the day itself, for `reported_sum`.
MODELS_WITH_DAYS = (
    "dailymodelcost AS m LEFT JOIN dailycost AS d ON d.integration_id = m.integration_id AND d.day = m.day"
)


def reported_sum(column: str) -> str:
    """SUM of a model's count over a range of days (`m` its rows, `d` their days: MODELS_WITH_DAYS).
    A model's NULL on a day whose own count is known is one no line of that day reported (OpenAI's
    embeddings beside its completions, Cursor's events without tokens; store/sums.py): it adds
    nothing. A NULL on a day whose count is unknown too (a usage report that failed) makes the sum
    unknown, and so does a model no day reports. `column` is our own name, never outside text."""
    return (
        f"CASE WHEN COUNT(CASE WHEN m.{column} IS NULL AND d.{column} IS NULL THEN 1 END) = 0 THEN SUM(m.{column}) END"
    )


def reports(column: str) -> str:
    """1 when a model reports its count `column` over a range of days (MODELS_WITH_DAYS), 0 when no
    line of it does: none of its days knows it, and each of those days knows its own (so the model's
    NULL is one no line reported, not one that failed). A `reported_sum` that is NULL with this 1 is
    unknown; with this 0, not reported. `column` is our own name, never outside text."""
    return (
        f"CASE WHEN COUNT(m.{column}) = 0 "
        f"AND COUNT(CASE WHEN m.{column} IS NULL AND d.{column} IS NULL THEN 1 END) = 0 THEN 0 ELSE 1 END"
    )


# What `reports` reads for a model's requests and for its tokens (a line reports all its tokens or none).
REPORTS_COLUMNS = (("reports_requests", "requests"), ("reports_tokens", "input_tokens"))


def reports_selected() -> str:
    """The two `reports` flags as a SELECT list's items, in model_figures' order."""
    return ", ".join(f"{reports(column)} AS {name}" for name, column in REPORTS_COLUMNS)

"""Rows the store's types do not hold: the one sentence for a tampered or hostile row.

SQLite keeps any value in any column (a `cycle_start` of 'garbage', a cost of 1e30 as a float, a
flag of 7), while every read turns a column into Python by its declared type. A row written by
something else than Grafient (the sqlite3 shell, another program sharing the home) is found here
and named by table, row and column, never by its value (it could be a secret):

- `find_damage(read)` asks the database, one query per table, for the first row of a value its
  column's type cannot hold (SQLite only: PostgreSQL types its columns and refuses such a write).
- The service runs it once before its first read (`GrafientService.reading`), and again whenever
  a read fails turning a value into Python (`damage_error`), so that a fault is `CorruptRow` with
  the sentence, exit 2 in the CLI and a notice in the app, and nothing stored is changed.

Values of the right type that Grafient does not know (an outcome, a budget's period, a provider
name) stay with the reads that know them, which show them or leave them out with their own sentence.
No SQLAlchemy here: `grafient report` reads without it. `COLUMNS` lists every column of the schema
(tests/unit/test_row_check.py checks it against store/models.py).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from grafient_tui.errors import CorruptRow
from grafient_tui.money import MAX_DAY_MICRO
from grafient_tui.store.labels import MAX_LABEL
from grafient_tui.store.sums import MAX_DAY_COUNT, MAX_DAY_CREDITS_MICRO
from grafient_tui.untrusted import MAX_NAME, cap, visible

if TYPE_CHECKING:
    from pathlib import Path

    from grafient_tui.store.read import Reader

# Errors a read raises when a stored value is not of its column's type (int('garbage'), a date of
# 7, a None summed, a name that is not text, a dict key the value should have been).
DAMAGE_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    TypeError,
    OverflowError,
    ArithmeticError,
    KeyError,
    IndexError,
    AttributeError,
    UnicodeError,
)

MAX_KEY_SHOWN = 40  # characters of a row's key shown (teamsetting's is a name, from the database)

# What each kind of column must hold on SQLite, as the SQL that is true of a value that does not
# (`{c}` the column, never NULL here), and the words for it.
_BAD = {
    "int": ("typeof({c}) <> 'integer'", "not a whole number"),
    "text": ("typeof({c}) <> 'text'", "not text"),
    "blob": ("typeof({c}) <> 'blob'", "not bytes"),
    "flag": ("typeof({c}) <> 'integer' OR {c} NOT IN (0, 1)", "not true or false"),
    # SQLAlchemy keeps a date as 'YYYY-MM-DD': date() gives it back unchanged, and nothing else (with a
    # modifier, since date() alone gives back a February 30th as it is).
    "date": ("typeof({c}) <> 'text' OR {c} IS NOT date({c}, '+0 days')", "not a date"),
    # ... and a moment as 'YYYY-MM-DD HH:MM:SS[.ffffff]': a time of that day, nothing after it.
    "moment": (
        "typeof({c}) <> 'text' OR length({c}) > 32 OR datetime({c}) IS NULL"
        " OR substr({c}, 1, 10) IS NOT date({c}, '+0 days')",
        "not a time",
    ),
}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # a key of _BAD
    nullable: bool = False
    longest: int | None = None  # text: the most characters Grafient writes there (shown uncut by the reads)
    largest: int | None = None  # a whole number: the most (and minus the least) Grafient writes there


def _c(name: str, kind: str = "int", longest: int | None = None) -> Column:
    return Column(name, kind, longest=longest)


def _n(name: str, kind: str = "int", longest: int | None = None) -> Column:
    return Column(name, kind, nullable=True, longest=longest)


# The most characters of a text Grafient writes (generously: a stored value longer than this was not
# written by it, and reads show some of these uncut): a word of our own (a provider's name, a status),
# an id or a digest, a sentence or a host's name, a small JSON document.
WORD = 32
SHORT = 64
LINE = 1024
DOCUMENT = 4096

_MAYBE_TOKENS = tuple(
    _n(name)
    for name in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens")
)

# table -> (the column that names a row, every column). The row's name is its id, but for the
# settings (their name) and the sync locks (their integration's id).
COLUMNS: dict[str, tuple[str, tuple[Column, ...]]] = {
    "integration": (
        "id",
        (
            _c("id"),
            _c("uid", "text", SHORT),
            _c("provider", "text", WORD),
            _c("label", "text", MAX_LABEL),
            _n("label_key", "text", MAX_LABEL),
            _c("key_scheme", "text", WORD),
            _c("key_ciphertext", "blob"),
            _c("key_hint", "text", SHORT),
            _c("created_at", "moment"),
            _n("team_members"),
            _n("team_fingerprint", "text", SHORT * 2),
            _n("history_from", "date"),
            _n("history_limit", "date"),
            _n("cycle_start", "date"),
            _n("account", "text"),
            _n("cost_basis", "text"),
        ),
    ),
    "dailycost": (
        "id",
        (
            _c("id"),
            _c("integration_id"),
            _c("day", "date"),
            _c("cost_micro"),
            _n("on_demand_micro"),
            _n("included_micro"),
            _n("requests"),
            _c("request_units_micro"),
            *_MAYBE_TOKENS,
            _n("byok_micro"),
            _n("credits_micro"),
            _n("characters"),
            _c("synced_at", "moment"),
            _c("complete", "flag"),
        ),
    ),
    "dailymodelcost": (
        "id",
        (
            _c("id"),
            _c("integration_id"),
            _c("day", "date"),
            _c("model", "text", MAX_NAME),
            _c("cost_micro"),
            _n("requests"),
            *_MAYBE_TOKENS,
            _n("credits_micro"),
            _n("characters"),
            _n("on_demand_micro"),
        ),
    ),
    "dailymembercost": (
        "id",
        (
            _c("id"),
            _c("integration_id"),
            _c("day", "date"),
            _c("email", "text", MAX_NAME),
            _c("cost_micro"),
            _n("requests"),
        ),
    ),
    "syncrun": (
        "id",
        (
            _c("id"),
            _c("integration_id"),
            _c("trigger", "text", WORD),
            _c("started_at", "moment"),
            _n("finished_at", "moment"),
            _c("outcome", "text", WORD),
            _c("requests"),
            _c("rate_limited"),
            _c("retries"),
            _c("days_written"),
            _n("error", "text"),
            _n("host", "text", LINE),
            _n("username", "text", LINE),
            _n("lock_pid"),
            _n("error_kind", "text", SHORT),
        ),
    ),
    "synclock": ("integration_id", (_c("integration_id"),)),
    "teamsetting": (
        "name",
        (
            _c("name", "text", SHORT * 2),
            _c("value", "text", DOCUMENT),
            _c("updated_at", "moment"),
            _n("updated_by", "text", LINE),
        ),
    ),
    "membercyclespend": (
        "id",
        (
            _c("id"),
            _c("integration_id"),
            _c("member", "text", MAX_NAME),
            _n("name", "text", MAX_NAME),
            _n("spend_micro"),
            _n("on_demand_micro"),
            _n("limit_micro"),
            _c("synced_at", "moment"),
        ),
    ),
    "budget": (
        "id",
        (
            _c("id"),
            _c("target_key", "text", WORD),
            _n("integration_id"),
            _c("period", "text", WORD),
            _c("measure", "text", WORD),
            _c("amount_micro"),
            _c("created_at", "moment"),
            _c("updated_at", "moment"),
        ),
    ),
    "alertsent": (
        "id",
        (_c("id"), _c("budget_id"), _c("period_start", "date"), _c("threshold", "text", WORD), _c("sent_at", "moment")),
    ),
    "alertchannel": (
        "id",
        (
            _c("id"),
            _c("uid", "text", SHORT),
            _c("label", "text", MAX_LABEL),
            _c("kind", "text", WORD),
            _c("target", "text", DOCUMENT * 4),
            _n("secret_scheme", "text", WORD),
            _n("secret_ciphertext", "blob"),
            _c("created_at", "moment"),
            _n("last_delivery_at", "moment"),
            _n("last_outcome", "text", LINE),
            _n("last_ok", "flag"),
        ),
    ),
    "alertdelivery": (
        "id",
        (
            _c("id"),
            _c("channel_id"),
            _c("event_key", "text", LINE),
            _c("state", "text", WORD),
            _c("attempts"),
            _c("claimed_at", "moment"),
            _c("lease_until", "moment"),
            _n("finished_at", "moment"),
            _n("outcome", "text", LINE),
        ),
    ),
}


# A day's, a day's model's and a day's member's figures hold what store/sync_writes.check_storable lets
# through, no more: past it a report's SUM() overflows (and fails every report, for every integration).
_DAY_LARGEST = {
    **dict.fromkeys(("cost_micro", "on_demand_micro", "included_micro", "byok_micro"), MAX_DAY_MICRO),
    **dict.fromkeys(("requests", "request_units_micro", "characters"), MAX_DAY_COUNT),
    **dict.fromkeys((c.name for c in _MAYBE_TOKENS), MAX_DAY_COUNT),
    "credits_micro": MAX_DAY_CREDITS_MICRO,
}
for _table in ("dailycost", "dailymodelcost", "dailymembercost"):
    _key, _columns = COLUMNS[_table]
    COLUMNS[_table] = (_key, tuple(replace(c, largest=_DAY_LARGEST.get(c.name)) for c in _columns))


@dataclass(frozen=True)
class Damage:
    """The first value found that its column's type cannot hold."""

    table: str
    row: str  # the row's id (or name), as text, made visible and capped
    column: str
    what: str  # "not a date", "missing", ...


def bad_value_sql(column: Column, *, postgres: bool = False) -> str:
    """SQL true of a value `column` cannot hold (our own names only, never outside text). PostgreSQL
    types its columns: only a text's length is left to check there."""
    name = column.name
    limits = []
    if column.longest is not None:
        limits.append(f"length({name}) > {column.longest}")
    if column.largest is not None:
        limits.append(f"{name} > {column.largest} OR {name} < -{column.largest}")
    if postgres:
        return " OR ".join(limits) or "FALSE"
    bad = " OR ".join([_BAD[column.kind][0].format(c=name), *limits])
    if column.nullable:
        return f"({column.name} IS NOT NULL AND ({bad}))"
    return f"({column.name} IS NULL OR {bad})"


def find_damage(read: Reader) -> Damage | None:
    """The first damaged value of the store (tables in COLUMNS' order, rows by their key), or None.
    On PostgreSQL, which types its columns, only the texts' lengths."""
    pg = read.postgres
    for table, (key, columns) in COLUMNS.items():
        checked = [c for c in _present(read, table, columns) if not pg or c.longest or c.largest]
        if not checked:
            continue
        cases = " ".join(f"WHEN {bad_value_sql(c, postgres=pg)} THEN {i}" for i, c in enumerate(checked))
        where = " OR ".join(bad_value_sql(c, postgres=pg) for c in checked)
        row = read.one(f"SELECT {key}, CASE {cases} END FROM {table} WHERE {where} ORDER BY {key} LIMIT 1")
        if row is not None:
            column = checked[int(row[1])]
            value = getattr(row[0], "hex", None)  # a key of bytes: shown as hex, never raw
            shown = value() if callable(value) else str(row[0])
            what = _what(read, table, key, row[0], column)
            return Damage(table=table, row=cap(visible(shown), MAX_KEY_SHOWN), column=column.name, what=what)
    return None


def _present(read: Reader, table: str, columns: tuple[Column, ...]) -> list[Column]:
    """The columns of `columns` the table has (a store may be older than this version's models; the
    service reads it once it is at this version's schema on PostgreSQL)."""
    if read.postgres:
        return list(columns)
    present = {str(row[1]) for row in read.rows(f"PRAGMA table_info({table})")}
    return [c for c in columns if c.name in present]


def _what(read: Reader, table: str, key: str, value: object, column: Column) -> str:
    """Why the value is damaged, in words (never the value itself): its type first, then its size."""
    name = column.name

    def holds(condition: str) -> bool:
        found = read.one(f"SELECT {condition} FROM {table} WHERE {key} = ? LIMIT 1", value)
        return bool(found and found[0])

    if not read.postgres:
        if not column.nullable and holds(f"{name} IS NULL"):
            return "missing"
        if holds(_BAD[column.kind][0].format(c=name)):
            return _BAD[column.kind][1]
    if column.longest is not None and holds(f"length({name}) > {column.longest}"):
        return f"longer than the {column.longest} characters Grafient writes"
    if column.largest is not None and holds(f"{name} > {column.largest} OR {name} < -{column.largest}"):
        return f"beyond the {column.largest:,} Grafient writes at most"
    return "not as Grafient writes it"


def damage_sentence(damage: Damage, *, postgres: bool = False) -> str:
    shell = "psql" if postgres else "the sqlite3 shell"
    return (
        f"the database's table {damage.table} has a damaged value in row {damage.row}, column {damage.column} "
        f"({damage.what}: not written by Grafient); nothing was changed. Fix or delete that row "
        f"(e.g. with {shell}), or restore a backup of the database."
    )


UNREADABLE = (
    "a value stored in the database cannot be read as its column's type (a row not written by Grafient); "
    "nothing was changed. Restore a backup of the database, or run again with GRAFIENT_DEBUG=1 to see where."
)


CHECKED_SUFFIX = "-checked"  # beside the SQLite file: the state of its files last found whole


def check_rows(read: Reader, database: Path | None = None) -> None:
    """CorruptRow with the sentence when the store holds a value its column's type cannot hold.

    A SQLite `database` found whole is not searched again until its files change (any commit does:
    a sync's, a tamperer's), so that a `grafient report` between two syncs does not pay the search:
    its state (the files' sizes and times, taken before the search) is kept beside it, in
    `grafient.db-checked`."""
    state = _file_state(database) if database is not None else None
    stamp = database.with_name(database.name + CHECKED_SUFFIX) if database is not None else None
    if state is not None and stamp is not None and _read_stamp(stamp) == state:
        return
    damage = find_damage(read)
    if damage is not None:
        raise CorruptRow(damage_sentence(damage, postgres=read.postgres))
    if state is not None and stamp is not None:
        from grafient_tui.config import write_private_file

        with contextlib.suppress(OSError):  # only spares the next read the search
            write_private_file(stamp, state.encode("ascii"))


def _file_state(database: Path) -> str | None:
    parts = []
    for path in (database, database.with_name(database.name + "-wal")):
        try:
            found = path.stat()
        except FileNotFoundError:
            parts.append("-")
            continue
        except OSError:
            return None
        # An empty WAL holds no commit (each connection makes one anew): as good as none. Not the
        # ctime: every open of the store sets the files' modes.
        parts.append(f"{found.st_ino}:{found.st_size}:{found.st_mtime_ns}" if found.st_size else "-")
    return " ".join(parts)


def _read_stamp(stamp: Path) -> str | None:
    try:
        with stamp.open("rb") as file:
            return file.read(256).decode("ascii", "replace")
    except OSError:
        return None


def damage_error(read: Reader) -> CorruptRow:
    """What a read that failed turning a stored value into Python raises: the damaged row where the
    store shows one, else the general sentence."""
    damage = find_damage(read)
    return CorruptRow(UNREADABLE if damage is None else damage_sentence(damage, postgres=read.postgres))

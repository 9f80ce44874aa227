"""The schema's version: read it on every start, set it up or upgrade it under a lock.

The tables carry Alembic's revision (the one row of `alembic_version`; the migrations are in
store/migrations/). What happens when a store opens:

- at this version's revision: nothing more (one small read; Alembic is not even imported);
- newer than this version knows: refused, with a sentence saying to upgrade Grafient;
- a SQLite home that is older (or made before versions were recorded): upgraded there and then, in
  one transaction under SQLite's write lock (BEGIN IMMEDIATE), so two processes starting together
  upgrade it once and an upgrade cut short leaves it as it was;
- an empty PostgreSQL database: set up, in one transaction under a transaction-level advisory lock,
  so first runs racing on it all succeed (the second one waits, then finds the tables there);
- a PostgreSQL database that is older: refused with a sentence saying to run `grafient db upgrade`.
  A shared database is upgraded on purpose, by someone whose role owns the tables, not by whichever
  teammate's laptop starts first with a newer Grafient.

A database made before versions were recorded is recognised by its columns, stamped with the
revision it matches, then upgraded from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from grafient_tui.errors import StoreError

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection

    from grafient_tui.store.db import Database

# The migrations: a directory of scripts that Alembic loads by path (not a package: nothing imports them).
SCRIPT_LOCATION = Path(__file__).with_name("migrations")

# Every revision, oldest first, so a start-up tells "current", "older" and "newer" apart from the
# one row of alembic_version without importing Alembic (tests/store_sync/test_migrations.py checks that this
# matches the scripts).
REVISIONS = (
    "0001",  # the previous release's schema (tests/fixtures/schema-before-providers.sql)
    "0002",  # unknown figures as NULL; reasoning tokens, BYOK, a provider's history edges
    "0003",  # 64-bit ids on PostgreSQL; integration ids never reused on SQLite
    "0004",  # one label rule on every database: integration.label_key, unique
    "0005",  # team settings (plan, pacing, the master key's fingerprint)
    "0006",  # each sync run records its host and user
    "0007",  # budgets, the thresholds announced, billing cycles and members' spend limits
    "0008",  # each integration's account settings besides its key (integration.account)
    "0009",  # how an integration's dollars were made (integration.cost_basis); credits and characters
    "0010",  # roles the database enforces: the sync lock's rows, one integration per account, owner-only settings
    "0011",  # alert channels and their deliveries (once per channel and event); a sync run's error family
    "0012",  # a model's on-demand (billed) part per day, NULL where written before it was kept
)
HEAD = REVISIONS[-1]

# pg_advisory_xact_lock(int4, int4): the two-key form, in a key space of Grafient's own. (The sync
# locks are row locks on `synclock`, sync/lock.py; older Grafients used the one-key form for them.)
LOCK_SPACE = 0x47524146  # "GRAF"
SCHEMA_LOCK = 1

UPGRADE_HINT = "run `grafient db upgrade` once, as a role that owns the tables (see README, A shared team database)"


@dataclass(frozen=True)
class SchemaState:
    revision: str | None  # None: no alembic_version row
    has_tables: bool  # Grafient's tables are there (with or without a version)

    @property
    def empty(self) -> bool:
        return self.revision is None and not self.has_tables

    @property
    def current(self) -> bool:
        return self.revision == HEAD

    @property
    def newer(self) -> bool:
        return self.revision is not None and self.revision not in REVISIONS

    def describe(self) -> str:
        if self.empty:
            return "empty (not set up yet)"
        if self.revision is None:
            return "made before schema versions were recorded"
        if self.current:
            return f"revision {self.revision} (current)"
        if self.newer:
            return f"revision {self.revision} (newer than this Grafient, which knows up to {HEAD})"
        return f"revision {self.revision} (older; this Grafient needs {HEAD})"


def read_state(connection: Connection) -> SchemaState:
    from sqlalchemy import inspect, text  # here: store/read.py reads HEAD without loading SQLAlchemy

    inspector = inspect(connection)
    tables = set(inspector.get_table_names())
    revision = None
    if "alembic_version" in tables:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return SchemaState(revision=revision, has_tables="integration" in tables)


def newer_sentence(state: SchemaState) -> str:
    return (
        f"the database was set up by a newer Grafient (schema revision {state.revision}; this version knows up "
        f"to {HEAD}); upgrade Grafient to use it."
    )


def older_sentence(state: SchemaState) -> str:
    have = f"revision {state.revision}" if state.revision else "from before schema versions were recorded"
    return (
        f"the team database's schema is older than this Grafient ({have}, this version needs {HEAD}); {UPGRADE_HINT}."
    )


def check_on_open(db: Database) -> None:
    """What a store does as it opens (see the module's docstring). StoreError with the sentence to show."""
    from sqlalchemy.exc import DBAPIError

    with db.engine.connect() as connection:
        state = read_state(connection)
    if state.current:
        return
    if state.newer:
        raise StoreError(newer_sentence(state))
    if db.is_postgres and not state.empty:
        raise StoreError(older_sentence(state))
    try:
        upgrade(db)
    except DBAPIError as exc:
        if db.is_postgres and "permission denied" in str(exc.orig).lower():
            raise StoreError(
                "the team database is empty and this role may not create its tables; run `grafient db "
                "upgrade` once as the database's owner (see README, A shared team database)."
            ) from None
        raise


def upgrade(db: Database) -> tuple[SchemaState, SchemaState]:
    """Bring the schema to this version's revision, under the database's lock; (before, after)."""
    from sqlalchemy import text

    if db.is_postgres:
        with db.write_engine.connect() as connection, connection.begin():
            # Racing first runs wait here for the one setting the schema up, longer than a write waits
            # for a row (a session that vanishes holding it is ended by its idle-in-transaction timeout).
            connection.execute(text("SET LOCAL lock_timeout = '300s'"))
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:space, :key)"), {"space": LOCK_SPACE, "key": SCHEMA_LOCK}
            )
            return _upgrade_in(connection, db.settings.lock_dir)
    with db.write_engine.connect() as connection:
        # Foreign keys off while tables are rebuilt (SQLite's documented recipe; it can only be
        # changed outside a transaction), checked before the commit, and back on afterwards.
        sqlite = connection.connection.driver_connection
        assert sqlite is not None  # a live connection's
        sqlite.execute("PRAGMA foreign_keys = OFF")
        try:
            with connection.begin():  # BEGIN IMMEDIATE (db.py): one upgrader at a time
                states = _upgrade_in(connection, db.settings.lock_dir)
                if connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall():
                    raise StoreError(
                        "the local database failed its foreign key check while upgrading; nothing was "
                        "changed (restore it from a backup, or move it away to start fresh)."
                    )
                return states
        finally:
            sqlite.execute("PRAGMA foreign_keys = ON")


def _upgrade_in(connection: Connection, lock_dir: Path) -> tuple[SchemaState, SchemaState]:
    before = read_state(connection)  # again, under the lock: another process may have done it meanwhile
    if before.current:
        return before, before
    if before.newer:
        raise StoreError(newer_sentence(before))
    if connection.dialect.name == "postgresql" and before.has_tables:
        _require_owner(connection)
    from alembic import command

    config = alembic_config(connection, lock_dir)
    if before.revision is None and before.has_tables:
        command.stamp(config, _recognise(connection))
    command.upgrade(config, "head")
    return before, read_state(connection)


def _require_owner(connection: Connection) -> None:
    """An existing shared schema is upgraded by the role that owns its tables (or a member of it)."""
    from sqlalchemy import text

    owner, me, acts = connection.execute(
        text(
            "SELECT pg_get_userbyid(c.relowner), current_user, pg_has_role(current_user, c.relowner, 'USAGE') "
            "FROM pg_class c WHERE c.oid = CAST('integration' AS regclass)"
        )
    ).one()
    if not acts:
        raise StoreError(
            f"upgrading the team database's schema needs the role that owns Grafient's tables ({owner!r}), and this "
            f"role is {me!r}; run `grafient db upgrade` as the owner (see README, A shared team database). Nothing "
            "was changed."
        )


def alembic_config(connection: Connection, lock_dir: Path | None = None) -> Config:
    """Alembic's Config for running the migrations on `connection` (inside its transaction)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION).replace("%", "%%"))
    config.attributes["connection"] = connection
    config.attributes["lock_dir"] = lock_dir
    return config


def _recognise(connection: Connection) -> str:
    """The revision whose tables an unversioned database has: 0002 (today's columns when versions
    began) or 0001 (the release before it)."""
    from sqlalchemy import inspect

    columns = {c["name"] for c in inspect(connection).get_columns("dailycost")}
    return "0002" if "reasoning_tokens" in columns else "0001"

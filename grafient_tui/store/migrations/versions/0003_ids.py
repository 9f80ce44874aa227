"""Ids: 64-bit on PostgreSQL; on SQLite, integration ids that are never handed out again.

On PostgreSQL the previous releases made 32-bit SERIAL ids (`integer out of range` past 2**31 - 1);
every id and integration_id becomes BIGINT and each id sequence `AS bigint`.

On SQLite an id is the 64-bit rowid already. A home made before integration ids were AUTOINCREMENT
(so a removed team's id could be given to a new one) has its integration table rebuilt with
AUTOINCREMENT, counting on from the highest id it ever gave out: the rows there and the lock files
that removed integrations left behind (schema.py passes the lock directory).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import os
import re

import sqlalchemy as sa
from alembic import context, op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("integration", "dailycost", "dailymodelcost", "dailymembercost", "syncrun")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table in TABLES:
            op.alter_column(table, "id", existing_type=sa.Integer, type_=sa.BigInteger)
            sequence = bind.scalar(sa.text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table})
            if sequence:  # already quoted and qualified by PostgreSQL
                op.execute(f"ALTER SEQUENCE {sequence} AS bigint")
            if table != "integration":
                op.alter_column(table, "integration_id", existing_type=sa.Integer, type_=sa.BigInteger)
    elif bind.dialect.name == "sqlite" and not _has_autoincrement(bind):
        floor = max(
            [
                bind.scalar(sa.text("SELECT coalesce(max(id), 0) FROM integration")),
                *_lock_file_ids(context.config.attributes.get("lock_dir")),
            ]
        )
        with op.batch_alter_table(
            "integration", recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ) as batch:
            batch.alter_column("id", existing_type=sa.Integer, autoincrement=True)
        op.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = 'integration'"))
        op.execute(
            sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES ('integration', :seq)").bindparams(seq=floor)
        )


def _has_autoincrement(bind) -> bool:
    sql = bind.scalar(sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'integration'"))
    return sql is None or "AUTOINCREMENT" in sql.upper()


def _lock_file_ids(lock_dir: object) -> list[int]:
    if lock_dir is None:
        return []
    try:
        names = os.listdir(lock_dir)  # type: ignore[arg-type]
    except OSError:
        return []
    return [int(m.group(1)) for name in names if (m := re.fullmatch(r"integration-(\d{1,18})\.lock", name))]


def downgrade() -> None:
    raise NotImplementedError("Grafient's migrations go forward only; restore a backup to go back.")

"""Unknown figures are NULL, never 0: request counts, tokens and the on-demand split a provider does not
give; reasoning tokens and BYOK spend; the first day a provider answered and the edge of its history.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TOKENS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")


def upgrade() -> None:
    # SQLite cannot drop NOT NULL in place: batch mode rebuilds these three tables (rows and ids kept).
    # The integration table only gains columns, so it is never rebuilt (its AUTOINCREMENT high-water
    # mark, which keeps removed ids dead, stays where it is).
    with op.batch_alter_table("dailycost") as batch:
        for name in ("on_demand_micro", "included_micro", *TOKENS):
            batch.alter_column(name, existing_type=sa.BigInteger, nullable=True)
        batch.alter_column("requests", existing_type=sa.Integer, type_=sa.BigInteger, nullable=True)
        batch.add_column(sa.Column("reasoning_tokens", sa.BigInteger))
        batch.add_column(sa.Column("byok_micro", sa.BigInteger))
    with op.batch_alter_table("dailymodelcost") as batch:
        for name in TOKENS:
            batch.alter_column(name, existing_type=sa.BigInteger, nullable=True)
        batch.alter_column("requests", existing_type=sa.Integer, type_=sa.BigInteger, nullable=True)
        batch.add_column(sa.Column("reasoning_tokens", sa.BigInteger))
    with op.batch_alter_table("dailymembercost") as batch:
        batch.alter_column("requests", existing_type=sa.Integer, type_=sa.BigInteger, nullable=True)
    op.add_column("integration", sa.Column("history_from", sa.Date))
    op.add_column("integration", sa.Column("history_limit", sa.Date))


def downgrade() -> None:
    raise NotImplementedError("Grafient's migrations go forward only; restore a backup to go back.")

"""A model's on-demand part per day (dailymodelcost.on_demand_micro): what invoices charge for it
where a plan or credits cover the rest (Cursor's on-demand usage), so billed is exact per model.
Rows written before it stay NULL: unknown, never 0; a sync of their day fills them.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("dailymodelcost", sa.Column("on_demand_micro", sa.BigInteger, nullable=True))


def downgrade() -> None:
    raise NotImplementedError("Grafient's migrations go forward only; restore a backup to go back.")

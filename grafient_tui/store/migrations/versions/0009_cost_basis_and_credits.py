"""How an integration's dollars were made, where that needs saying (integration.cost_basis: a small
JSON object; ElevenLabs' estimate, a Google account converted from another currency), and the units a
provider bills instead of money beside the daily and per-model cost (ElevenLabs' credits, in
millionths, and the characters they bought). NULL for providers without them.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("integration", sa.Column("cost_basis", sa.Text))
    for table in ("dailycost", "dailymodelcost"):
        op.add_column(table, sa.Column("credits_micro", sa.BigInteger))
        op.add_column(table, sa.Column("characters", sa.BigInteger))


def downgrade() -> None:
    raise NotImplementedError("Grafient's migrations go forward only; restore a backup to go back.")

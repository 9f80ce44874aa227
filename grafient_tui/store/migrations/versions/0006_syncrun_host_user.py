"""Each sync run records the machine and the user that ran it: a shared database has several.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("syncrun", sa.Column("host", sa.String))
    op.add_column("syncrun", sa.Column("username", sa.String))


def downgrade() -> None:
    raise NotImplementedError("Grafient's migrations go forward only; restore a backup to go back.")

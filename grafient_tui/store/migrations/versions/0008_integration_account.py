"""Each integration's account settings besides its key: a small JSON object of strings (the GitHub
organization or enterprise of a Copilot integration, the team of an xAI one). NULL for the others.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("integration", sa.Column("account", sa.Text))


def downgrade() -> None:
    raise NotImplementedError("Grafient's migrations go forward only; restore a backup to go back.")

"""One label rule on every database: integration.label_key (the label with spaces collapsed and
case folded, computed in Python), unique. Two adds racing for "Eng" and "eng" cannot both win, on
SQLite or PostgreSQL alike.

A database from before labels were compared this way may hold two labels that fold to one key: the
older integration keeps the key, the later one gets `key#id` (it is still found by id and exact label).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def label_key(label: str) -> str:
    """The rule of grafient_tui/store/integrations.label_key, frozen here as this revision applied it."""
    return " ".join(label.split()).casefold()


def upgrade() -> None:
    op.add_column("integration", sa.Column("label_key", sa.String))  # an added column: no rebuild on SQLite
    bind = op.get_bind()
    taken: set[str] = set()
    for row_id, label in bind.execute(sa.text("SELECT id, label FROM integration ORDER BY id")):
        key = label_key(label)
        if key in taken:
            key = f"{key}#{row_id}"
        taken.add(key)
        bind.execute(sa.text("UPDATE integration SET label_key = :key WHERE id = :id"), {"key": key, "id": row_id})
    op.create_index("ix_integration_label_key", "integration", ["label_key"], unique=True)


def downgrade() -> None:
    raise NotImplementedError("Grafient's migrations go forward only; restore a backup to go back.")

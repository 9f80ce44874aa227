"""Alert channels and their deliveries: where alerts go (Slack, Teams, a webhook, email; the secret
sealed in the vault like an API key), and each event delivered once per channel (the unique pair
(channel, event key) is the claim that makes it once, whichever process asks first). A sync run
also records its error's family, so a rejected key is told from other failures.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # as models.ID: 64-bit, the rowid on SQLite


def upgrade() -> None:
    moment = sa.DateTime(timezone=True)
    op.add_column("syncrun", sa.Column("error_kind", sa.String))
    op.create_table(
        "alertchannel",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("uid", sa.String, nullable=False, unique=True),
        sa.Column("label", sa.String, nullable=False, unique=True),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("secret_scheme", sa.String),
        sa.Column("secret_ciphertext", sa.LargeBinary),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("last_delivery_at", moment),
        sa.Column("last_outcome", sa.Text),
        sa.Column("last_ok", sa.Boolean),
    )
    op.create_table(
        "alertdelivery",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("channel_id", ID, sa.ForeignKey("alertchannel.id"), nullable=False),
        sa.Column("event_key", sa.String, nullable=False),
        sa.Column("state", sa.String, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("claimed_at", moment, nullable=False),
        sa.Column("lease_until", moment, nullable=False),
        sa.Column("finished_at", moment),
        sa.Column("outcome", sa.Text),
        sa.UniqueConstraint("channel_id", "event_key"),
    )
    op.create_index("ix_alertdelivery_channel_id", "alertdelivery", ["channel_id"])


def downgrade() -> None:
    raise NotImplementedError("Grafient's migrations go forward only; restore a backup to go back.")

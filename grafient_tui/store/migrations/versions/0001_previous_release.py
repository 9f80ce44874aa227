"""The previous release's schema, as it made it with create_all (tests/fixtures/schema-before-providers.sql).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _integration_id(index: bool = False) -> sa.Column:
    return sa.Column("integration_id", sa.Integer, sa.ForeignKey("integration.id"), nullable=False, index=index)


def upgrade() -> None:
    moment = sa.DateTime(timezone=True)
    op.create_table(
        "integration",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("uid", sa.String, nullable=False),
        sa.Column("provider", sa.String, nullable=False),
        sa.Column("label", sa.String, nullable=False),
        sa.Column("key_scheme", sa.String, nullable=False),
        sa.Column("key_ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("key_hint", sa.String, nullable=False),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("team_members", sa.Integer),
        sa.Column("team_fingerprint", sa.String),
        sa.UniqueConstraint("label"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_integration_uid", "integration", ["uid"], unique=True)
    money = [
        sa.Column(name, sa.BigInteger, nullable=False) for name in ("cost_micro", "on_demand_micro", "included_micro")
    ]
    tokens = [
        sa.Column(name, sa.BigInteger, nullable=False)
        for name in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
    ]
    op.create_table(
        "dailycost",
        sa.Column("id", sa.Integer, primary_key=True),
        _integration_id(),
        sa.Column("day", sa.Date, nullable=False),
        *money,
        sa.Column("requests", sa.Integer, nullable=False),
        sa.Column("request_units_micro", sa.BigInteger, nullable=False),
        *tokens,
        sa.Column("synced_at", moment, nullable=False),
        sa.Column("complete", sa.Boolean, nullable=False),
        sa.UniqueConstraint("integration_id", "day"),
    )
    op.create_index("ix_dailycost_integration_id", "dailycost", ["integration_id"])
    op.create_table(
        "dailymodelcost",
        sa.Column("id", sa.Integer, primary_key=True),
        _integration_id(),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("model", sa.String, nullable=False),
        sa.Column("cost_micro", sa.BigInteger, nullable=False),
        sa.Column("requests", sa.Integer, nullable=False),
        *[sa.Column(c.name, sa.BigInteger, nullable=False) for c in tokens],
        sa.UniqueConstraint("integration_id", "day", "model"),
    )
    op.create_index("ix_dailymodelcost_integration_day", "dailymodelcost", ["integration_id", "day"])
    op.create_table(
        "dailymembercost",
        sa.Column("id", sa.Integer, primary_key=True),
        _integration_id(),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("email", sa.String, nullable=False),
        sa.Column("cost_micro", sa.BigInteger, nullable=False),
        sa.Column("requests", sa.Integer, nullable=False),
        sa.UniqueConstraint("integration_id", "day", "email"),
    )
    op.create_index("ix_dailymembercost_integration_day", "dailymembercost", ["integration_id", "day"])
    op.create_table(
        "syncrun",
        sa.Column("id", sa.Integer, primary_key=True),
        _integration_id(),
        sa.Column("trigger", sa.String, nullable=False),
        sa.Column("started_at", moment, nullable=False),
        sa.Column("finished_at", moment),
        sa.Column("outcome", sa.String, nullable=False),
        *[
            sa.Column(name, sa.Integer, nullable=False)
            for name in ("requests", "rate_limited", "retries", "days_written")
        ],
        sa.Column("error", sa.String),
    )
    op.create_index("ix_syncrun_integration_id", "syncrun", ["integration_id"])


def downgrade() -> None:
    raise NotImplementedError("Grafient's migrations go forward only; restore a backup to go back.")

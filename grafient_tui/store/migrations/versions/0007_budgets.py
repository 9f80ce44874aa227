"""Budgets and billing cycles: each integration's billing-cycle anchor (Cursor's
subscriptionCycleStart), each member's cycle spend and limit (/teams/spend, replaced every sync),
the budgets, and the thresholds already announced (once per budget, period and threshold).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # as models.ID: 64-bit, the rowid on SQLite


def _id() -> sa.Column:
    return sa.Column("id", ID, primary_key=True, autoincrement=True)


def upgrade() -> None:
    moment = sa.DateTime(timezone=True)
    op.add_column("integration", sa.Column("cycle_start", sa.Date))
    op.create_table(
        "membercyclespend",
        _id(),
        sa.Column("integration_id", ID, sa.ForeignKey("integration.id"), nullable=False),
        sa.Column("member", sa.String, nullable=False),
        sa.Column("name", sa.String),
        sa.Column("spend_micro", sa.BigInteger),
        sa.Column("on_demand_micro", sa.BigInteger),
        sa.Column("limit_micro", sa.BigInteger),
        sa.Column("synced_at", moment, nullable=False),
        sa.UniqueConstraint("integration_id", "member"),
    )
    op.create_index("ix_membercyclespend_integration_id", "membercyclespend", ["integration_id"])
    op.create_table(
        "budget",
        _id(),
        sa.Column("target_key", sa.String, nullable=False),
        sa.Column("integration_id", ID, sa.ForeignKey("integration.id")),
        sa.Column("period", sa.String, nullable=False),
        sa.Column("measure", sa.String, nullable=False),
        sa.Column("amount_micro", sa.BigInteger, nullable=False),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("updated_at", moment, nullable=False),
        sa.UniqueConstraint("target_key", "period"),
    )
    op.create_index("ix_budget_integration_id", "budget", ["integration_id"])
    op.create_table(
        "alertsent",
        _id(),
        sa.Column("budget_id", ID, sa.ForeignKey("budget.id"), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("threshold", sa.String, nullable=False),
        sa.Column("sent_at", moment, nullable=False),
        sa.UniqueConstraint("budget_id", "period_start", "threshold"),
    )
    op.create_index("ix_alertsent_budget_id", "alertsent", ["budget_id"])


def downgrade() -> None:
    raise NotImplementedError("Grafient's migrations go forward only; restore a backup to go back.")

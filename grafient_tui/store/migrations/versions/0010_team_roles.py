"""A shared database's roles, enforced by the database: the sync lock as a row that only syncers can
lock, one integration per account as a unique constraint, and the team's settings and the schema's
version writable by the owner only (the syncers may record the master key's fingerprint once, when
there is none).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # as models.ID: 64-bit, the rowid on SQLite
FINGERPRINT = "vault.master_key_fingerprint"  # store/team.py's name for it

# Privileges withdrawn from every role but the tables' owner, whatever default privileges gave them.
OWNER_ONLY = {
    "teamsetting": "UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER",  # INSERT stays, for the fingerprint (below)
    "alembic_version": "INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER",
}


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table("synclock", sa.Column("integration_id", ID, primary_key=True, autoincrement=False))
    op.execute("INSERT INTO synclock (integration_id) SELECT id FROM integration")
    op.add_column("syncrun", sa.Column("lock_pid", sa.Integer))
    _mark_duplicate_accounts(bind)
    op.create_index("ix_integration_account", "integration", ["provider", "team_fingerprint"], unique=True)
    if bind.dialect.name == "postgresql":
        _owner_only(bind)


def _mark_duplicate_accounts(bind: sa.engine.Connection) -> None:
    """An account connected twice before the constraint existed keeps both integrations (which one to
    remove is the team's choice), the later ones with their fingerprint marked as a duplicate of the
    first: the constraint holds, and adding that account again is still refused (it matches the first)."""
    rows = bind.execute(
        sa.text("SELECT id, provider, team_fingerprint FROM integration WHERE team_fingerprint IS NOT NULL ORDER BY id")
    ).all()
    first: dict[tuple[str, str], int] = {}
    for row_id, provider, fingerprint in rows:
        owner = first.setdefault((provider, fingerprint), row_id)
        if owner != row_id:
            bind.execute(
                sa.text("UPDATE integration SET team_fingerprint = :marked WHERE id = :id"),
                {"marked": f"{fingerprint}:duplicate-of-{owner}", "id": row_id},
            )


def _owner_only(bind: sa.engine.Connection) -> None:
    # Row-level security on the team's settings: everyone who may read the table reads it all; a role
    # other than the owner may only insert the master key's fingerprint (and only while there is none:
    # it is the primary key), never change or delete a row, whatever table privileges it was given.
    op.execute("ALTER TABLE teamsetting ENABLE ROW LEVEL SECURITY")
    op.execute("CREATE POLICY teamsetting_read ON teamsetting FOR SELECT USING (true)")
    op.execute(
        f"CREATE POLICY teamsetting_first_fingerprint ON teamsetting FOR INSERT WITH CHECK (name = '{FINGERPRINT}')"
    )
    for table, privileges in OWNER_ONLY.items():
        op.execute(f"REVOKE {privileges} ON {table} FROM PUBLIC")
        grantees = bind.execute(
            sa.text(
                "SELECT DISTINCT a.grantee::regrole::text FROM pg_class c, aclexplode(c.relacl) a "
                "WHERE c.oid = CAST(:table AS regclass) AND a.grantee <> c.relowner AND a.grantee <> 0"
            ),
            {"table": table},
        ).scalars()
        for grantee in list(grantees):
            op.execute(f"REVOKE {privileges} ON {table} FROM {grantee}")  # regrole's text is quoted as needed


def downgrade() -> None:
    raise NotImplementedError("Grafient's migrations go forward only; restore a backup to go back.")

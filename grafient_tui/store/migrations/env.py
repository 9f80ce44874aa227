"""Alembic's environment, driven by grafient_tui/store/schema.py: it hands over a connection
that is already inside the transaction (and holding the lock) the migrations run in."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, transaction_per_migration=False)
with context.begin_transaction():  # a no-op here: the caller's transaction is the one
    context.run_migrations()

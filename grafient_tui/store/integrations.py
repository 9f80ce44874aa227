"""Integrations: add, find, list and remove, with the key sealed by the vault."""

from __future__ import annotations

import hmac
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import Table, delete
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

from grafient_tui.errors import ConfigError, NotFound, SyncBusy, VaultError
from grafient_tui.figures import IntegrationInfo
from grafient_tui.secret import Secret
from grafient_tui.store.accounts import account_settings, stored_account
from grafient_tui.store.db import Database
from grafient_tui.store.labels import clean_label, label_key
from grafient_tui.store.models import (
    AlertSent,
    Budget,
    DailyCost,
    DailyMemberCost,
    DailyModelCost,
    Integration,
    MemberCycleSpend,
    SyncLockRow,
    SyncRun,
)
from grafient_tui.store.team import sealing_key
from grafient_tui.store.vault import SCHEME, Vault
from grafient_tui.untrusted import visible


def _label_owner(session: Session, label: str) -> Integration | None:
    return session.exec(select(Integration).where(col(Integration.label_key) == label_key(label))).first()


def find_label_owner(db: Database, label: str) -> Integration | None:
    with db.session() as session:
        return _label_owner(session, label)


def label_taken(db: Database, label: str) -> bool:
    return find_label_owner(db, label) is not None


def label_taken_sentence(existing: Integration) -> str:
    return (
        f"an integration labelled {existing.label!r} already exists (id {existing.id}; labels that differ "
        "only in case or spaces are the same); pick another label."
    )


def same_key_owner(db: Database, vault: Vault, api_key: Secret, *, skip_unreadable: bool = False) -> Integration | None:
    """The integration that already holds this key, if any (each stored key is opened and compared).
    A key that cannot be opened raises VaultError, unless `skip_unreadable` (rekey after the master
    key was deliberately forgotten: those keys are what is being replaced)."""
    wanted = api_key.reveal().encode("utf-8", "surrogatepass")
    for row in list_integrations(db):
        try:
            stored = integration_key(vault, row).reveal().encode("utf-8", "surrogatepass")
        except VaultError:
            if not skip_unreadable:
                raise
            continue
        if hmac.compare_digest(stored, wanted):
            return row
    return None


def same_team_owner(
    db: Database, fingerprint: str | None, *, provider: str, exclude: int | None = None
) -> Integration | None:
    """The integration of the same provider whose team had exactly these members when it was validated."""
    if fingerprint is None:
        return None
    with db.session() as session:
        return session.exec(
            select(Integration).where(
                Integration.provider == provider,
                Integration.team_fingerprint == fingerprint,
                Integration.id != (exclude if exclude is not None else -1),
            )
        ).first()


class _AddRace(Exception):
    """Another process added an integration under the same label, or for the same account, between
    our checks and our insert: the database's unique constraints decided."""


def add_integration(
    db: Database,
    vault: Vault,
    *,
    label: str,
    provider: str,
    api_key: Secret,
    team_members: int | None = None,
    team_fingerprint: str | None = None,
    account: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> Integration:
    """Store a checked key and its account settings (checked again here against the provider's fields)."""
    label = clean_label(label)
    settings = account_settings(provider, account or {})
    try:
        return _add(
            db,
            vault,
            label=label,
            provider=provider,
            api_key=api_key,
            team_members=team_members,
            team_fingerprint=team_fingerprint,
            account=settings,
            now=now,
        )
    except _AddRace:
        # On SQLite the write lock makes the checks above final; on PostgreSQL two adds can both pass
        # them, and the unique label_key and account fingerprint decide: the loser says so like any
        # taken label or connected account.
        twin = same_team_owner(db, team_fingerprint, provider=provider)
        if twin is not None:
            raise ConfigError(same_team_sentence(twin)) from None
        existing = find_label_owner(db, label)
        if existing is None:
            raise ConfigError(
                f"the label {label!r} was being added by someone else at the same moment; try again."
            ) from None
        raise ConfigError(label_taken_sentence(existing)) from None


def _add(
    db: Database,
    vault: Vault,
    *,
    label: str,
    provider: str,
    api_key: Secret,
    team_members: int | None,
    team_fingerprint: str | None,
    account: dict[str, str],
    now: datetime | None,
) -> Integration:
    uid = uuid.uuid4().hex
    with db.session(write=True) as session:
        # Checked again inside the write transaction: another process may have added it meanwhile.
        existing = _label_owner(session, label)
        if existing is not None:
            raise ConfigError(label_taken_sentence(existing))
        if team_fingerprint is not None:
            twin = session.exec(
                select(Integration).where(
                    Integration.provider == provider, Integration.team_fingerprint == team_fingerprint
                )
            ).first()
            if twin is not None:
                raise ConfigError(same_team_sentence(twin))
        # Never mint a new master key while keys sealed by the old one exist, nor seal with another one.
        master_key = sealing_key(session, db, vault)
        blob = vault.encrypt(api_key, uid=uid, provider=provider, master_key=master_key)
        row = Integration(
            uid=uid,
            provider=provider,
            label=label,
            label_key=label_key(label),
            key_scheme=SCHEME,
            key_ciphertext=blob,
            key_hint=api_key.hint,
            created_at=now or datetime.now(UTC),
            team_members=team_members,
            team_fingerprint=team_fingerprint,
            account=json.dumps(account, ensure_ascii=True, sort_keys=True) if account else None,
        )
        session.add(row)
        try:
            session.flush()
        except IntegrityError:
            raise _AddRace() from None
        assert row.id is not None  # flushed
        session.add(SyncLockRow(integration_id=row.id))  # its sync lock's row (sync/lock.py)
        session.refresh(row)
        return row


def account_of(integration: Integration) -> dict[str, str]:
    """The integration's stored account settings, read back as untrusted (store/accounts.py)."""
    return stored_account(int(integration.id), integration.provider, integration.account)  # type: ignore[arg-type]


def same_team_sentence(existing: Integration) -> str:
    return (
        f"this key's team is already connected as integration {existing.id} ({existing.label!r}): the same "
        "members; one team is added once, or every total counts it twice. Use `grafient rekey` to change its key."
    )


def same_key_sentence(existing: Integration) -> str:
    return (
        f"this key is already stored for integration {existing.id} ({existing.label!r}); one team is added "
        "once, or every total counts it twice."
    )


def list_integrations(db: Database) -> list[Integration]:
    with db.session() as session:
        return list(session.exec(select(Integration).order_by(col(Integration.id))))


def info(row: Integration) -> IntegrationInfo:
    """Who a stored integration is, as the read model has it (never its key)."""
    assert row.id is not None  # stored
    created = row.created_at
    return IntegrationInfo(
        integration_id=row.id,
        label=row.label,
        provider=row.provider,
        key_hint=row.key_hint,
        created=created.replace(tzinfo=UTC) if created.tzinfo is None else created.astimezone(UTC),
        team_members=row.team_members,
        history_from=row.history_from,
        cycle_start=row.cycle_start,
    )


def find_integration(db: Database, ref: str | int) -> Integration:
    """By id (digits) or by label (exact, then case-insensitive): store/queries.integration_info's rule."""
    from grafient_tui.store.queries import integration_info, not_found_sentence

    found = integration_info(db, ref)
    with db.session() as session:
        row = session.get(Integration, found.integration_id)
    if row is None:  # removed since
        raise NotFound(not_found_sentence(ref))
    return row


def integration_key(vault: Vault, integration: Integration) -> Secret:
    return vault.decrypt(
        integration.key_ciphertext, uid=integration.uid, provider=integration.provider, scheme=integration.key_scheme
    )


def replace_key(
    db: Database, vault: Vault, integration_id: int, api_key: Secret, team_fingerprint: str | None = None
) -> Integration:
    """Seal a new key for an existing integration (a rotated Cursor key); history stays."""
    try:
        return _replace_key(db, vault, integration_id, api_key, team_fingerprint)
    except _AddRace:
        row = find_integration(db, integration_id)
        twin = same_team_owner(db, team_fingerprint, provider=row.provider, exclude=integration_id)
        if twin is None:
            raise ConfigError("another integration was changed at the same moment; try again.") from None
        raise ConfigError(same_team_sentence(twin)) from None


def _replace_key(
    db: Database, vault: Vault, integration_id: int, api_key: Secret, team_fingerprint: str | None
) -> Integration:
    with db.session(write=True) as session:
        row = session.get(Integration, integration_id)
        if row is None:
            raise NotFound(f"no integration with id {integration_id} (see `grafient list`).")
        uid = uuid.uuid4().hex  # a fresh binding: the old ciphertext is useless even if copied back
        # On a SQLite home a missing master key may be minted here: the user chose to forget the old
        # one, and rekeying each integration is how they come back (see README). A shared database
        # keeps the team's (store/team.sealing_key).
        master_key = sealing_key(session, db, vault, replacing=integration_id)
        row.key_ciphertext = vault.encrypt(api_key, uid=uid, provider=row.provider, master_key=master_key)
        row.uid, row.key_scheme, row.key_hint = uid, SCHEME, api_key.hint
        if team_fingerprint is not None:
            row.team_fingerprint = team_fingerprint
        row.history_limit = None  # a new key may see further back (another role, a refused window retried)
        session.add(row)
        try:
            session.flush()
        except IntegrityError:  # another integration holds this account (the unique fingerprint)
            raise _AddRace() from None
        session.refresh(row)
        return row


def remove_integration(db: Database, integration_id: int) -> None:
    """Delete the integration and everything stored for it, in one transaction.

    The integration's sync lock is held throughout, so no sync (in any process) runs meanwhile;
    if one is running, SyncBusy says so (and who runs it, on a shared database) and nothing is
    removed. On a shared database the removal is the lock's own transaction: the lock and the
    integration go together."""
    from grafient_tui.sync.lock import ServerSyncLock, sync_lock  # sync/lock.py imports nothing of ours at run time

    lock = sync_lock(db.settings, integration_id, db)
    if not lock.try_acquire():
        with db.session() as session:
            label = session.exec(select(Integration.label).where(Integration.id == integration_id)).first()
        raise SyncBusy(busy_sentence(db, integration_id, label or f"integration {integration_id}"))
    try:
        if isinstance(lock, ServerSyncLock):
            lock.finish_with(lambda connection: _delete_everything(connection, integration_id))
        else:
            with db.session(write=True) as session:
                _delete_everything(session.connection(), integration_id)
    finally:
        lock.release()


def busy_sentence(db: Database, integration_id: int, label: str) -> str:
    """Why `remove` cannot go on now: a sync of it is running (and, on a shared database, whose)."""
    from grafient_tui.sync.lock import lock_holder

    holder = lock_holder(db, integration_id)
    if holder is not None and not holder.is_grafient:
        return (
            f"the sync lock of {visible(label)} is held by {holder.words()}; that session must end before it is "
            "removed."
        )
    by = f" ({holder.words()})" if holder is not None else ""
    return f"a sync of {visible(label)} is running{by}; wait for it or stop it, then remove."


def _delete_everything(connection: Connection, integration_id: int) -> None:
    # The integration row first (PostgreSQL: FOR UPDATE), as a window's writer takes it: two
    # writers take their locks in one order and never deadlock.
    integration = table_of(Integration)
    connection.execute(select(integration.c.id).where(integration.c.id == integration_id).with_for_update())
    models: tuple[type[SQLModel], ...] = (
        DailyCost,
        DailyModelCost,
        DailyMemberCost,
        SyncRun,
        MemberCycleSpend,
        SyncLockRow,
    )
    for model in models:
        table = table_of(model)
        connection.execute(delete(table).where(table.c.integration_id == integration_id))
    # Its budgets go with it (a budget on all integrations stays), and what they announced.
    budget, alert = table_of(Budget), table_of(AlertSent)
    budgets = select(budget.c.id).where(budget.c.integration_id == integration_id)
    connection.execute(delete(alert).where(alert.c.budget_id.in_(budgets)))
    connection.execute(delete(budget).where(budget.c.integration_id == integration_id))
    connection.execute(delete(integration).where(integration.c.id == integration_id))


def table_of(model: type[SQLModel]) -> Table:
    """A model's Table: SQLModel's table classes carry it, but their type does not say so."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table

"""Integrations: add, find, list and remove, with the key sealed by the vault."""

from __future__ import annotations

import hmac
import uuid
from datetime import UTC, datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from grafient_tui.errors import ConfigError, NotFound, SyncBusy, VaultError
from grafient_tui.figures import IntegrationInfo
from grafient_tui.secret import Secret
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
    SyncRun,
)
from grafient_tui.store.team import sealing_key
from grafient_tui.store.vault import SCHEME, Vault


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


class _LabelRace(Exception):
    """Another process added an integration under the same label between our check and our insert."""


def add_integration(
    db: Database,
    vault: Vault,
    *,
    label: str,
    provider: str,
    api_key: Secret,
    team_members: int | None = None,
    team_fingerprint: str | None = None,
    now: datetime | None = None,
) -> Integration:
    label = clean_label(label)
    try:
        return _add(
            db,
            vault,
            label=label,
            provider=provider,
            api_key=api_key,
            team_members=team_members,
            team_fingerprint=team_fingerprint,
            now=now,
        )
    except _LabelRace:
        # On SQLite the write lock makes the check above final; on PostgreSQL two adds can both pass it,
        # and the unique label_key decides: the loser says so like any taken label.
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
        )
        session.add(row)
        try:
            session.flush()
        except IntegrityError:
            raise _LabelRace() from None
        session.refresh(row)
        return row


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
        session.flush()
        session.refresh(row)
        return row


def remove_integration(db: Database, integration_id: int) -> None:
    """Delete the integration and everything stored for it, in one transaction.

    The integration's sync lock is held throughout, so no sync (in any process) runs meanwhile;
    if one is running, SyncBusy says so and nothing is removed.
    """
    from grafient_tui.sync.lock import sync_lock  # sync/lock.py imports nothing of ours at run time

    lock = sync_lock(db.settings, integration_id, db)
    if not lock.try_acquire():
        with db.session() as session:
            label = session.exec(select(Integration.label).where(Integration.id == integration_id)).first()
        raise SyncBusy(
            f"a sync of {label or f'integration {integration_id}'} is running; wait for it or stop it, then remove."
        )
    try:
        with db.session(write=True) as session:
            # The integration row first (PostgreSQL: FOR UPDATE), as a window's writer takes it: two
            # writers take their locks in one order and never deadlock.
            session.exec(select(Integration.id).where(col(Integration.id) == integration_id).with_for_update()).first()
            for table in (DailyCost, DailyModelCost, DailyMemberCost, SyncRun, MemberCycleSpend):
                session.exec(delete(table).where(col(table.integration_id) == integration_id))
            # Its budgets go with it (a budget on all integrations stays), and what they announced.
            budgets = select(Budget.id).where(col(Budget.integration_id) == integration_id)
            session.exec(delete(AlertSent).where(col(AlertSent.budget_id).in_(budgets)))
            session.exec(delete(Budget).where(col(Budget.integration_id) == integration_id))
            session.exec(delete(Integration).where(col(Integration.id) == integration_id))
    finally:
        lock.release()

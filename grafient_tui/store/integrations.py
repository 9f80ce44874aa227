"""Integrations: add, find, list and remove, with the key sealed by the vault."""

from __future__ import annotations

import hmac
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from grafient_tui import providers
from grafient_tui.errors import ConfigError, NotFound, StoreError, SyncBusy, VaultError
from grafient_tui.providers.base import check_account
from grafient_tui.secret import KEY_IN_ARGV, Secret, looks_like_key
from grafient_tui.store.db import Database
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
from grafient_tui.untrusted import cap, storable, visible

MAX_LABEL = 64
MAX_ID = 2**63 - 1  # the largest id: a 64-bit integer on SQLite and PostgreSQL alike
MAX_ACCOUNT_TEXT = 4096  # the stored JSON of an integration's account settings: a few short strings


def clean_label(label: str) -> str:
    label = " ".join(label.split())
    if not label:
        raise ConfigError("a label cannot be empty.")
    if looks_like_key(label):  # a key pasted into the wrong field: refuse it, first, without showing it back
        raise ConfigError(f"a label cannot be an API key: {KEY_IN_ARGV}.")
    if len(label) > MAX_LABEL:
        raise ConfigError(f"a label can be at most {MAX_LABEL} characters.")
    if not label.isprintable():
        raise ConfigError("a label cannot contain control characters.")
    if visible(label) != label:
        raise ConfigError(
            "a label cannot contain characters that show nothing (variation selectors, fillers, blank patterns)."
        )
    if "[" in label or "]" in label:
        # A terminal app reads [...] as markup: `Eng [/]` broke the palette, `[@click=...]` made an action.
        raise ConfigError("a label cannot contain square brackets (they read as markup in the app); use ( ) instead.")
    if label.isdigit():
        raise ConfigError("a label cannot be only digits (it would read as an id).")
    return label


def label_key(label: str) -> str:
    """What makes two labels the same: surrounding and repeated spaces, and case, do not count.
    Computed in Python and stored (integration.label_key, unique), so the rule is the same on every
    database, and the database itself refuses a second "eng" beside "Eng" however the adds race."""
    return " ".join(label.split()).casefold()


def _label_owner(session, label: str) -> Integration | None:
    return session.exec(select(Integration).where(Integration.label_key == label_key(label))).first()


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
        session.add(SyncLockRow(integration_id=row.id))  # its sync lock's row (sync/lock.py)
        session.refresh(row)
        return row


def account_settings(provider: str, values: Mapping[str, object]) -> dict[str, str]:
    """`values` checked against the fields `provider` declares (ConfigError with one sentence)."""
    return check_account(providers.account_fields(provider), values, title=providers.title(provider))


def account_of(integration: Integration) -> dict[str, str]:
    """The integration's stored account settings, read back as untrusted: a JSON object of strings, of
    a bounded size, that fits its provider's fields; StoreError with one sentence when it does not."""
    text = integration.account
    if text is None or text == "":
        values: object = {}
    else:
        try:
            values = json.loads(text) if len(text) <= MAX_ACCOUNT_TEXT else None
        except (ValueError, RecursionError):
            values = None
    if not isinstance(values, dict):
        raise StoreError(
            f"the stored account settings of integration {integration.id} cannot be read; "
            "remove it and add it again (`grafient remove`, `grafient add`)."
        )
    try:
        return account_settings(integration.provider, values)
    except ConfigError as exc:
        raise StoreError(
            f"the stored account settings of integration {integration.id} do not fit its provider "
            f"({exc.sentence.rstrip('.')}); remove it and add it again."
        ) from None


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
        return list(session.exec(select(Integration).order_by(Integration.id)))


def find_integration(db: Database, ref: str | int) -> Integration:
    """By id (digits) or by label (exact, then case-insensitive)."""
    text = str(ref).strip()
    not_found = NotFound(f"no integration with id or label {text!r} (see `grafient list`).")
    if not text.isascii() or not text.isdigit():
        try:  # argv can carry bytes that are not UTF-8 (lone surrogates); no label is made of them
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise not_found from None
    with db.session() as session:
        # An id is ASCII digits within SQLite's integer range ("²" is a digit to Python, not an id).
        if text.isascii() and text.isdigit() and int(text) <= MAX_ID:
            row = session.get(Integration, int(text))
            if row is not None:
                return row
        row = session.exec(select(Integration).where(Integration.label == text)).first()
        if row is None:
            row = _label_owner(session, text)
        if row is None:
            if looks_like_key(text):  # never echo a key someone typed where an id or label goes
                raise NotFound(f"{KEY_IN_ARGV}.")
            raise not_found
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
    from grafient_tui.untrusted import visible

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
    integration = Integration.__table__
    connection.execute(select(integration.c.id).where(integration.c.id == integration_id).with_for_update())
    for model in (DailyCost, DailyModelCost, DailyMemberCost, SyncRun, MemberCycleSpend, SyncLockRow):
        table = model.__table__
        connection.execute(delete(table).where(table.c.integration_id == integration_id))
    # Its budgets go with it (a budget on all integrations stays), and what they announced.
    budget, alert = Budget.__table__, AlertSent.__table__
    budgets = select(budget.c.id).where(budget.c.integration_id == integration_id)
    connection.execute(delete(alert).where(alert.c.budget_id.in_(budgets)))
    connection.execute(delete(budget).where(budget.c.integration_id == integration_id))
    connection.execute(delete(integration).where(integration.c.id == integration_id))


@dataclass(frozen=True)
class IntegrationStatus:
    status: str  # never synced | syncing | ok | failed | interrupted | skipped | unknown
    last_sync: datetime | None  # when the last finished sync ended
    error: str | None


# A sync run's outcome as stored -> its status. The sync log is written by whoever can write the
# database (a teammate, an older or newer Grafient): any other value is "unknown", with a sentence.
KNOWN_OUTCOMES = {
    "success": "ok",
    "running": "syncing",
    "failed": "failed",
    "interrupted": "interrupted",
    "skipped": "skipped",
}
UNKNOWN_OUTCOME = "the sync log's last entry has an outcome this Grafient does not know; sync again to replace it"
MAX_STORED_ERROR = 500  # characters of a stored error shown (the engine writes one sentence)


def integration_status(db: Database, integration_id: int) -> IntegrationStatus:
    with db.session() as session:
        last = session.exec(
            select(SyncRun).where(SyncRun.integration_id == integration_id).order_by(SyncRun.id.desc())
        ).first()
        last_ok = session.exec(
            select(SyncRun.finished_at)
            .where(SyncRun.integration_id == integration_id, SyncRun.outcome == "success")
            .order_by(SyncRun.id.desc())
        ).first()
    if last is None:
        return IntegrationStatus("never synced", None, None)
    status = KNOWN_OUTCOMES.get(last.outcome) if type(last.outcome) is str else None
    last_good = _utc(last_ok) if isinstance(last_ok, datetime) else None
    if status is None:
        return IntegrationStatus("unknown", last_good, UNKNOWN_OUTCOME)
    error = last.error if type(last.error) is str else None
    return IntegrationStatus(status, last_good, None if error is None else cap(storable(error), MAX_STORED_ERROR))


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

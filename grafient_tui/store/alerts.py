"""Alert channels and their deliveries in the store (the tables of migration 0011).

A channel's secret (a Slack or Teams webhook URL, a webhook's signing secret, an SMTP password) is
sealed in the vault like an API key, with the team's master key (store/team.sealing_key), bound to
the channel's uid and kind; everything else about it is plain, and never secret.

Exactly once per channel and event: before a process sends, it claims the pair (channel, event key)
in one transaction: an insert that the unique constraint lets only one process make (INSERT ... ON
CONFLICT DO NOTHING ... RETURNING), or an update of a row that is free again, whose condition only one
process can meet (PostgreSQL re-checks it after waiting for the row's lock; SQLite's writers take
turns, BEGIN IMMEDIATE). A claim is a lease (LEASE): a process killed mid-send leaves its row
`sending` until the lease ends, after which another process may claim it and send again. That is the
one case in which a channel can receive an event twice (the first send may have reached it before
the process died); the alternative, a claim that never expires, would lose the event for good. The
lease is far longer than a delivery can take (its time limit times its attempts and pauses), so a
slow live sender is never overtaken. A delivery that failed every attempt is claimed again by a later
run (a sync or check), until MAX_ATTEMPTS attempts in all.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, delete, or_, update
from sqlmodel import col, select

from grafient_tui.errors import ConfigError, NotFound
from grafient_tui.figures import AlertChannelInfo, IntegrationHealth
from grafient_tui.store.db import Database
from grafient_tui.store.models import AlertChannel, AlertDelivery
from grafient_tui.store.team import sealing_key
from grafient_tui.untrusted import quoted

if TYPE_CHECKING:
    from sqlalchemy.sql.dml import ReturningInsert

    from grafient_tui.secret import Secret
    from grafient_tui.store.vault import Vault

KINDS = ("slack", "teams", "webhook", "email")
LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 9  # three runs of three attempts each
MAX_OUTCOME = 300  # characters of a stored outcome sentence


@dataclass(frozen=True)
class StoredChannel:
    """A channel as a sender needs it: its plain settings, and the sealed secret to open."""

    info: AlertChannelInfo
    uid: str
    settings: dict[str, str]
    secret_scheme: str | None
    secret_ciphertext: bytes | None


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _settings(row: AlertChannel) -> dict[str, str]:
    try:
        value = json.loads(row.target)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ConfigError(
            f"the stored settings of alert channel {quoted(row.label)} cannot be read; remove it and add it again."
        )
    return value


def shown_url(url: str) -> str:
    """A webhook's URL as listed: its query and fragment as `?…` (a receiver's token often rides there,
    Azure Functions' `?code=...`), the rest as it is."""
    cut = min((at for at in (url.find("?"), url.find("#")) if at >= 0), default=-1)
    return url if cut < 0 else url[:cut] + "?…"


def describe_target(kind: str, settings: dict[str, str]) -> str:
    """Where a channel sends, without its secret."""
    if kind in ("slack", "teams"):
        return f"{settings.get('host', '?')} (webhook URL sealed)"
    if kind == "webhook":
        return shown_url(settings.get("url", "?")) + (" (signed)" if settings.get("signed") == "yes" else "")
    who = f"{settings.get('user')} at " if settings.get("user") else ""
    return f"{settings.get('to', '?')} via {who}{settings.get('smtp', '?')} ({settings.get('security', '?')})"


def _stored(row: AlertChannel) -> StoredChannel:
    assert row.id is not None
    try:
        settings = _settings(row)
        target = describe_target(row.kind, settings)
    except ConfigError:
        settings, target = {}, "(its stored settings cannot be read)"
    info = AlertChannelInfo(
        id=row.id,
        label=row.label,
        kind=row.kind,
        target=target,
        created=_aware(row.created_at) or row.created_at,
        last_delivery=_aware(row.last_delivery_at),
        last_outcome=row.last_outcome,
        last_ok=row.last_ok,
    )
    return StoredChannel(info, row.uid, settings, row.secret_scheme, row.secret_ciphertext)


def _aad_provider(kind: str) -> str:
    return f"alert-{kind}"


def add_channel(
    db: Database,
    vault: Vault,
    *,
    label: str,
    kind: str,
    settings: dict[str, str],
    secret: Secret | None,
    now: datetime,
) -> AlertChannelInfo:
    if kind not in KINDS:
        raise ValueError(f"unknown alert channel kind {kind!r}")
    uid = uuid.uuid4().hex
    with db.session(write=True) as session:
        if session.exec(select(AlertChannel).where(AlertChannel.label == label)).first() is not None:
            raise ConfigError(f"an alert channel is already labelled {quoted(label)}; choose another label.")
        blob = None
        if secret is not None:
            master_key = sealing_key(session, db, vault)
            blob = vault.encrypt(secret, uid=uid, provider=_aad_provider(kind), master_key=master_key)
        row = AlertChannel(
            uid=uid,
            label=label,
            kind=kind,
            target=json.dumps(settings, sort_keys=True),
            secret_scheme=None if secret is None else "aesgcm-v1",
            secret_ciphertext=blob,
            created_at=now,
        )
        session.add(row)
        session.flush()
        session.refresh(row)
        return _stored(row).info


def channels(db: Database) -> list[StoredChannel]:
    with db.session() as session:
        rows = session.exec(select(AlertChannel).order_by(col(AlertChannel.id))).all()
    return [_stored(row) for row in rows]


def find_channel(db: Database, label: str) -> StoredChannel:
    with db.session() as session:
        row = session.exec(select(AlertChannel).where(AlertChannel.label == label)).first()
    if row is None:
        raise NotFound(f"there is no alert channel labelled {quoted(label)} (see `grafient alert list`).")
    return _stored(row)


def open_secret(vault: Vault, channel: StoredChannel) -> Secret | None:
    if channel.secret_ciphertext is None or channel.secret_scheme is None:
        return None
    return vault.decrypt(
        channel.secret_ciphertext,
        uid=channel.uid,
        provider=_aad_provider(channel.info.kind),
        scheme=channel.secret_scheme,
    )


def remove_channel(db: Database, label: str) -> AlertChannelInfo:
    with db.session(write=True) as session:
        row = session.exec(select(AlertChannel).where(AlertChannel.label == label)).first()
        if row is None:
            raise NotFound(f"there is no alert channel labelled {quoted(label)} (see `grafient alert list`).")
        info = _stored(row).info
        session.exec(delete(AlertDelivery).where(col(AlertDelivery.channel_id) == row.id))
        session.exec(delete(AlertChannel).where(col(AlertChannel.id) == row.id))
    return info


# --------------------------------------------------------------------------- claims


def claim(db: Database, channel_id: int, event_key: str, now: datetime) -> bool:
    """True when this process now holds the delivery of `event_key` to the channel (see the module's
    docstring); False when another process has it, or has sent it, or it failed too often."""
    table = AlertDelivery.metadata.tables["alertdelivery"]
    with db.session(write=True) as session:
        inserted = session.execute(
            _insert_ignoring_duplicates(session.get_bind().dialect.name).values(
                channel_id=channel_id,
                event_key=event_key,
                state="sending",
                attempts=0,
                claimed_at=now,
                lease_until=now + LEASE,
            )
        ).first()
        if inserted is not None:
            return True
        taken = session.execute(
            update(table)
            .where(
                table.c.channel_id == channel_id,
                table.c.event_key == event_key,
                or_(
                    and_(table.c.state == "failed", table.c.attempts < MAX_ATTEMPTS),
                    and_(table.c.state == "sending", table.c.lease_until < now),
                ),
            )
            .values(state="sending", claimed_at=now, lease_until=now + LEASE)
            .returning(table.c.id)
        ).first()
        return taken is not None


def _insert_ignoring_duplicates(dialect: str) -> ReturningInsert[tuple[int]]:
    table = AlertDelivery.metadata.tables["alertdelivery"]
    # RETURNING rather than rowcount, which a driver may leave at -1 for such a statement (psycopg does).
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgres_insert

        return postgres_insert(table).on_conflict_do_nothing().returning(table.c.id)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing().returning(table.c.id)


def finish(
    db: Database, channel_id: int, event_key: str, *, ok: bool, attempts: int, outcome: str, now: datetime
) -> None:
    """Record how a claimed delivery ended, on the delivery and as the channel's last outcome."""
    outcome = outcome[:MAX_OUTCOME]
    table = AlertDelivery.metadata.tables["alertdelivery"]
    with db.session(write=True) as session:
        session.execute(
            update(table)
            .where(table.c.channel_id == channel_id, table.c.event_key == event_key)
            .values(
                state="sent" if ok else "failed",
                attempts=table.c.attempts + attempts,
                finished_at=now,
                outcome=outcome,
            )
        )
        note_outcome_in(session, channel_id, ok=ok, outcome=outcome, now=now)


def note_outcome(db: Database, channel_id: int, *, ok: bool, outcome: str, now: datetime) -> None:
    """A channel's last outcome, for a test message (no delivery row)."""
    with db.session(write=True) as session:
        note_outcome_in(session, channel_id, ok=ok, outcome=outcome[:MAX_OUTCOME], now=now)


def note_outcome_in(session: object, channel_id: int, *, ok: bool, outcome: str, now: datetime) -> None:
    from sqlmodel import Session

    assert isinstance(session, Session)
    channel = AlertChannel.metadata.tables["alertchannel"]
    session.execute(
        update(channel).where(channel.c.id == channel_id).values(last_delivery_at=now, last_outcome=outcome, last_ok=ok)
    )


def delivery_states(db: Database) -> list[tuple[int, str, str, int]]:
    """(channel id, event key, state, attempts) of every delivery: for tests and `alert list`'s counts."""
    with db.session() as session:
        rows = session.exec(select(AlertDelivery).order_by(col(AlertDelivery.id))).all()
    return [(row.channel_id, row.event_key, row.state, row.attempts) for row in rows]


# --------------------------------------------------------------------------- what the sources read


def integration_health(db: Database) -> list[IntegrationHealth]:
    """Each integration's last good sync and its last finished run's outcome and error family. The
    last run is the newest row (ids only grow), not the latest `started_at`: a pinned or coarse clock
    gives two runs the same start, or even the later one an earlier one."""
    from sqlalchemy import text

    query = text(
        "SELECT i.id, i.label, i.provider, i.created_at, "
        "(SELECT MAX(s.finished_at) FROM syncrun s WHERE s.integration_id = i.id AND s.outcome = 'success'), "
        "(SELECT r.outcome FROM syncrun r WHERE r.integration_id = i.id AND r.outcome <> 'running' "
        " ORDER BY r.id DESC LIMIT 1), "
        "(SELECT r.error_kind FROM syncrun r WHERE r.integration_id = i.id AND r.outcome <> 'running' "
        " ORDER BY r.id DESC LIMIT 1) "
        "FROM integration i ORDER BY i.id"
    )
    with db.session() as session:
        rows = session.execute(query).all()
    out = []
    for row in rows:
        created = _parse_moment(row[3])
        assert created is not None
        out.append(
            IntegrationHealth(
                integration_id=int(row[0]),
                label=str(row[1]),
                provider=str(row[2]),
                created=created,
                last_success=_parse_moment(row[4]),
                last_outcome=None if row[5] is None else str(row[5]),
                last_error_kind=None if row[6] is None else str(row[6]),
            )
        )
    return out


def _parse_moment(value: object) -> datetime | None:
    """A moment as a raw query returns it: a datetime (PostgreSQL) or SQLite's text."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return _aware(value)
    return _aware(datetime.fromisoformat(str(value)))

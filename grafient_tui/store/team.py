"""What a team shares in its database: settings every syncer follows, the master key's fingerprint,
and who may change anything at all.

Team settings (table teamsetting) hold the plan and, per provider, the requests per minute its keys
are paced to. On a shared (PostgreSQL) database they are the owner's to change (row-level security,
migration 0010), and they win over each machine's config.toml and
GRAFIENT_<NAME>_RPM, so every syncer backfills the same history and spends one key's rate limit at
one pace (the sync lock already lets only one of them sync an integration at a time); where the
team has set nothing, a machine's own settings apply. A SQLite home is one user's: its config.toml
and environment decide, and `grafient plan` keeps writing config.toml there.

The master key's fingerprint (an HMAC of the key, which reveals nothing of it) is recorded when a key
is first sealed, so that Grafient can tell "this machine has the team's master key" without opening
a stored API key, and so that add/rekey never seal with a second master key beside it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, text
from sqlmodel import Session, col, select

from grafient_tui.config import PLANS, Settings
from grafient_tui.errors import ConfigError, GrafientError, VaultError
from grafient_tui.store.models import Integration, TeamSetting
from grafient_tui.untrusted import cap, visible

if TYPE_CHECKING:
    from grafient_tui.store.db import Database
    from grafient_tui.store.vault import Vault

PLAN = "plan"
FINGERPRINT = "vault.master_key_fingerprint"
MAX_RPM = 100_000


def rpm_setting(provider: str) -> str:
    return f"rpm.{provider}"


class ViewerOnly(GrafientError):
    """This user may read the database but not change it (a read-only role, or no team master key)."""


_C0_AND_DEL = dict.fromkeys([*range(0x20), 0x7F])


def who_runs() -> tuple[str | None, str | None]:
    """(this machine's name, the operating-system user): recorded with each sync run and each team
    setting, since a shared database is changed from several machines. None where the system cannot say."""
    import getpass
    import socket

    def tidy(text: str) -> str | None:
        text = text.translate(_C0_AND_DEL).strip()[:255]
        return text or None

    try:
        host = tidy(socket.gethostname())
    except OSError:
        host = None
    try:
        user = tidy(getpass.getuser())
    except (OSError, KeyError, ImportError):
        user = None
    return host, user


# ---------------------------------------------------------------- settings


def read_settings(db: Database) -> dict[str, str]:
    with db.session() as session:
        return {row.name: row.value for row in session.exec(select(TeamSetting))}


def write_setting(db: Database, name: str, value: str) -> None:
    host, user = who_runs()
    by = "@".join(part for part in (user, host) if part) or None
    with db.session(write=True) as session:
        row = session.get(TeamSetting, name)
        if row is None:
            row = TeamSetting(name=name, value=value, updated_at=datetime.now(UTC), updated_by=by)
        else:
            row.value, row.updated_at, row.updated_by = value, datetime.now(UTC), by
        session.add(row)


def effective_settings(db: Database, settings: Settings) -> Settings:
    """`settings` as this database's team has set them (a shared database), else as they are."""
    if not db.is_postgres:
        return settings
    return apply(settings, read_settings(db))


def apply(settings: Settings, team: dict[str, str]) -> Settings:
    """`settings` with the team's plan and paces. A value this Grafient cannot use (anyone who may write
    the database may have written it) is not applied but noted in `team_problems` with its sentence."""
    changes: dict[str, object] = {}
    problems: dict[str, str] = {}
    plan = team.get(PLAN)
    if plan in PLANS:
        changes["team_plan"] = plan
    elif plan is not None:
        problems[PLAN] = (
            "the team's plan in the database is not free, pro or ultimate; set it again with `grafient plan PLAN`"
        )
    rpms = dict(settings.rpms)
    for name, value in team.items():
        if not name.startswith("rpm."):
            continue
        provider = name.removeprefix("rpm.")
        rpm = read_rpm(value)
        if rpm is None:
            problems[name] = (
                f"the team's pace for {visible(cap(provider, 40))} in the database is not a number of requests per "
                f"minute from 0 to {MAX_RPM:,}; set it again with `grafient pace {visible(cap(provider, 40))} RPM`"
            )
        elif provider == "cursor":
            changes["cursor_rpm"] = rpm
        else:
            rpms[provider] = rpm
    changes["rpms"] = rpms
    changes["team_problems"] = problems
    return dataclasses.replace(settings, **changes)  # type: ignore[arg-type]


def read_rpm(value: object) -> float | None:
    """A pace read from the database: a finite number of requests per minute in 0..MAX_RPM, else None."""
    if type(value) is not str or len(value) > 32:
        return None
    try:
        rpm = float(value)
    except ValueError:
        return None
    return rpm if math.isfinite(rpm) and 0 <= rpm <= MAX_RPM else None


def problem_for(settings: Settings, provider: str) -> str | None:
    """The sentence of a team setting a sync of `provider` depends on and cannot use, if any."""
    return settings.team_problems.get(rpm_setting(provider)) or settings.team_problems.get(PLAN)


def set_team_plan(db: Database, plan: str) -> None:
    if plan not in PLANS:
        raise ConfigError(f"plan must be one of free, pro, ultimate, not {plan!r}.")
    write_setting(db, PLAN, plan)


def set_team_rpm(db: Database, provider: str, rpm: float) -> None:
    if not math.isfinite(rpm) or not 0 <= rpm <= MAX_RPM:
        raise ConfigError(f"requests per minute must be between 0 (no pacing) and {MAX_RPM}, not {rpm:g}.")
    write_setting(db, rpm_setting(provider), f"{rpm:g}")


# ---------------------------------------------------------------- the master key


def fingerprint(master_key: bytes) -> str:
    """A name for a master key that reveals nothing of it."""
    return hmac.new(master_key, b"grafient master key fingerprint v1", hashlib.sha256).hexdigest()


def short(fingerprint_hex: str) -> str:
    return fingerprint_hex[:12]


def team_key_sentence(db: Database, recorded: str, *, have: str | None, stored: bool = True) -> str:
    """Why this machine cannot seal or open the team's keys, and how to get the team's master key.
    `stored`: keys are stored (else the database only records the team's key, with none sealed yet)."""
    where = f"the file {db.settings.master_key_file}"
    problem = (
        "this machine has no master key"
        if have is None
        else f"this machine's master key ({short(have)}…) is another one"
    )
    if not stored:
        return (
            f"this team database records its master key ({short(recorded)}…) and {problem}; supply the team's with "
            f"GRAFIENT_MASTER_KEY or {where} (only the database's owner can clear the record to start over with "
            "a new master key, see README, A shared team database)."
        )
    return (
        f"the stored API keys are sealed with the team's master key ({short(recorded)}…) and {problem}; "
        f"supply the team's with GRAFIENT_MASTER_KEY or {where} (a second master key is never made for a "
        "database that has one)."
    )


def local_fingerprint(vault: Vault) -> str | None:
    """The fingerprint of this machine's master key; None when it has none (or cannot read it)."""
    try:
        return fingerprint(vault.master_key())
    except VaultError:
        return None


def recorded_fingerprint(db: Database) -> str | None:
    with db.session() as session:
        row = session.get(TeamSetting, FINGERPRINT)
        return row.value if row is not None else None


def sealing_key(session: Session, db: Database, vault: Vault, *, replacing: int | None = None) -> bytes:
    """The master key to seal a new or replaced API key with, inside the writer's transaction; the
    fingerprint is recorded if it is not yet.

    While other keys are stored, only the master key they are sealed with will do: a missing one is
    never made anew and a different one is refused (VaultError with the sentence). With none stored
    (or only the one `replacing` replaces), any master key will do, and a new one is made if there is
    none. A SQLite home keeps its documented way back from a forgotten master key: `rekey` makes a new
    one, and each integration is rekeyed to use it (shared databases never do that)."""
    others = select(func.count()).select_from(Integration)
    if replacing is not None:
        others = others.where(Integration.id != replacing)
    stored = session.exec(others).one() > 0
    row = session.get(TeamSetting, FINGERPRINT)
    recorded = row.value if row is not None else None
    rekey_on_sqlite = replacing is not None and not db.is_postgres
    if stored and not rekey_on_sqlite:
        key = vault.master_key(create=False)  # missing: VaultError, as before there was a fingerprint
        have = fingerprint(key)
        if recorded is not None and not hmac.compare_digest(have, recorded):
            raise VaultError(f"cannot seal the key: {team_key_sentence(db, recorded, have=have)}")
    elif db.is_postgres and recorded is not None:
        # A shared database keeps the team's master key even with no integration left: its fingerprint
        # is the owner's to clear (README), never a syncer's to replace.
        try:
            key = vault.master_key(create=False)
        except VaultError:
            raise VaultError(
                f"cannot seal the key: {team_key_sentence(db, recorded, have=None, stored=False)}"
            ) from None
        have = fingerprint(key)
        if not hmac.compare_digest(have, recorded):
            raise VaultError(f"cannot seal the key: {team_key_sentence(db, recorded, have=have, stored=False)}")
    else:
        key = vault.master_key(create=True)
        have = fingerprint(key)
    if recorded != have:
        now = datetime.now(UTC)
        if row is None:
            row = TeamSetting(name=FINGERPRINT, value=have, updated_at=now)
        else:
            row.value, row.updated_at = have, now
        session.add(row)
    return key


def note_fingerprint(db: Database, vault: Vault) -> None:
    """After a stored key opened with this machine's master key: record its fingerprint if the
    database has none yet (a database from before fingerprints)."""
    with db.session() as session:
        if session.get(TeamSetting, FINGERPRINT) is not None:
            return
    have = local_fingerprint(vault)
    if have is None:
        return
    with db.session(write=True) as session:
        if session.get(TeamSetting, FINGERPRINT) is None:
            session.add(TeamSetting(name=FINGERPRINT, value=have, updated_at=datetime.now(UTC)))


# ---------------------------------------------------------------- who may change things


@dataclass(frozen=True)
class Access:
    """What this user can do with the store. `reason` says why not, in one sentence.

    `can_change`: sync, add, rekey, remove, budgets (a syncer, or the owner). `can_set_team`: the
    team's settings (plan, pace): the owner of a shared database's tables only; everyone on a SQLite
    home, whose settings are its config.toml."""

    can_change: bool
    reason: str | None = None
    can_set_team: bool = True
    team_reason: str | None = None

    def require(self) -> None:
        if not self.can_change:
            raise ViewerOnly(self.reason or "this database is open for reading only.")

    def require_team(self) -> None:
        """ViewerOnly unless this user may change the team's settings (the owner needs no master key)."""
        if not self.can_set_team:
            raise ViewerOnly(self.team_reason or "the team's settings are the database owner's to change.")


# What a syncer writes: costs, runs, integrations, the sync lock's rows, budgets and the alerts
# announced. teamsetting is read by all and changed by the owner only (migration 0010).
TABLES = (
    "integration",
    "dailycost",
    "dailymodelcost",
    "dailymembercost",
    "syncrun",
    "membercyclespend",
    "budget",
    "alertsent",
    "synclock",
)
# Not in TABLES: alertchannel and alertdelivery (migration 0011). A syncer whose grants predate them (no
# default privileges) keeps syncing; only its alerts fail, each with the database's sentence.
SERIAL_TABLES = tuple(table for table in TABLES if table != "synclock")


def access(db: Database, vault: Vault) -> Access:
    """A viewer reads everything and changes nothing: on a shared database, a role that may not write
    Grafient's tables, or a machine without the team's master key (so no sync runs there, and no local
    failure lands in the team's sync log). A SQLite home is its user's own: it can always change, and
    a missing master key fails the syncs that need it with its sentence, as it always has."""
    if not db.is_postgres:
        return Access(True)
    owner = table_owner(db)
    team_reason = (
        None
        if owner.is_owner
        else f"the team's settings are the database owner's to change (role {owner.owner!r}, which owns "
        f"Grafient's tables), and this role is {owner.me!r}; run it as the owner (see README, A shared team "
        "database)."
    )

    def answer(can_change: bool, reason: str | None = None) -> Access:
        return Access(can_change, reason, can_set_team=owner.is_owner, team_reason=team_reason)

    missing = _missing_privileges(db)
    if missing:
        return answer(
            False,
            f"this database role may read but not change Grafient's data (it lacks {missing}): you "
            "are a viewer; syncing, adding and removing are the syncers' (see README, A shared team "
            "database).",
        )
    with db.session() as session:
        first = session.exec(select(Integration).order_by(col(Integration.id))).first()
        row = session.get(TeamSetting, FINGERPRINT)
    if first is None:
        return answer(True)
    have = local_fingerprint(vault)
    recorded = row.value if row is not None else None
    if recorded is None:  # a database from before fingerprints: a stored key opens, or it does not
        try:
            vault.decrypt(first.key_ciphertext, uid=first.uid, provider=first.provider, scheme=first.key_scheme)
        except VaultError:
            return answer(False, _no_key_reason(db, None, have))
        note_fingerprint(db, vault)
        return answer(True)
    if have is None or not hmac.compare_digest(have, recorded):
        return answer(False, _no_key_reason(db, recorded, have))
    return answer(True)


@dataclass(frozen=True)
class TableOwner:
    owner: str  # the role that owns Grafient's tables
    me: str  # this session's role
    is_owner: bool  # this role has the owner's privileges (it is the owner, a member of it, or a superuser)


def table_owner(db: Database) -> TableOwner:
    """Who owns Grafient's tables on a shared database, and whether this role acts as that owner."""
    with db.engine.connect() as connection:
        owner, me, acts = connection.execute(
            text(
                "SELECT pg_get_userbyid(c.relowner), current_user, pg_has_role(current_user, c.relowner, 'USAGE') "
                "FROM pg_class c WHERE c.oid = CAST('teamsetting' AS regclass)"
            )
        ).one()
    return TableOwner(owner=str(owner), me=str(me), is_owner=bool(acts))


def _no_key_reason(db: Database, recorded: str | None, have: str | None) -> str:
    whose = f"the team's master key ({short(recorded)}…)" if recorded else "the team's master key"
    mine = "" if have is None else " (its own is another one)"
    return (
        f"this machine does not have {whose}{mine}, so it cannot open the stored API keys: it views only. To "
        f"sync, add, rekey or remove here, supply the team's key with GRAFIENT_MASTER_KEY or the file "
        f"{db.settings.master_key_file}."
    )


def _missing_privileges(db: Database) -> str | None:
    """The first privilege a syncer needs that this role lacks, as words; None when it has them all
    (one query: each privilege a column)."""
    checks = [
        (f"{privilege} on {table}", f"has_table_privilege('{table}', '{privilege}')")
        for table in TABLES
        for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE")
    ]
    checks.append(("SELECT on teamsetting", "has_table_privilege('teamsetting', 'SELECT')"))
    checks += [
        (
            f"USAGE on {table}'s id sequence",
            f"coalesce(has_sequence_privilege(pg_get_serial_sequence('{table}', 'id'), 'USAGE'), true)",
        )
        for table in SERIAL_TABLES
    ]
    with db.engine.connect() as connection:
        answers = connection.execute(text("SELECT " + ", ".join(sql for _, sql in checks))).one()
    return next((words for (words, _), granted in zip(checks, answers, strict=True) if not granted), None)

"""The tables. Money is integer micro-cents (1 cent = 1_000_000), summed exactly."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, Integer, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

# Ids are 64-bit everywhere. On SQLite a primary key must stay `INTEGER PRIMARY KEY` (the rowid alias,
# already 64-bit; a BIGINT primary key would be a plain column with no automatic ids).
ID = BigInteger().with_variant(Integer(), "sqlite")


def _id() -> Column:
    return Column(ID, primary_key=True, autoincrement=True)


def _integration_id(*, index: bool = False) -> Column:
    return Column(ID, ForeignKey("integration.id"), nullable=False, index=index)


class Integration(SQLModel, table=True):
    # AUTOINCREMENT: a removed integration's id is never handed out again, so nothing keyed by an
    # old id (a sync still running, a lock file, a script's `grafient sync 3`) lands on a new team.
    # One account, one integration: the account's fingerprint is unique per provider (an account that
    # could not be identified has none, and SQL lets NULLs repeat), so two adds racing for one account
    # cannot both win, on any database.
    __table_args__ = (
        Index("ix_integration_label_key", "label_key", unique=True),
        Index("ix_integration_account", "provider", "team_fingerprint", unique=True),
        {"sqlite_autoincrement": True},
    )
    id: int | None = Field(default=None, sa_column=_id())
    uid: str = Field(index=True, unique=True)  # bound into the key ciphertext as associated data
    provider: str = "cursor"
    label: str = Field(unique=True)
    # The label as compared (store/integrations.label_key: spaces and case do not count), computed in
    # Python and unique in the database: one rule on every database, and two adds racing for "Eng"
    # and "eng" cannot both win. Nullable only because older databases get it filled by a migration.
    label_key: str | None = None
    key_scheme: str  # version tag of the encryption scheme, e.g. "aesgcm-v1"
    key_ciphertext: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    key_hint: str
    created_at: datetime
    team_members: int | None = None
    team_fingerprint: str | None = None  # digest of the member list at validation: one team, one integration
    # The earliest day the provider ever returned usage for: its real history may be shorter than
    # the plan asks for, and a day before this is "nothing kept", not "$0".
    history_from: date | None = None
    # The provider refused (HTTP 400) a window older than one it answered: it keeps nothing before this
    # day, and backfills stop here instead of failing.
    history_limit: date | None = None
    # The provider's billing cycle (Cursor's subscriptionCycleStart, as a UTC day): cycles run monthly
    # from this day of the month. None: not known (other providers bill by the calendar month).
    cycle_start: date | None = None
    # The provider's account settings besides the key (providers/base.AccountField), as a small JSON
    # object of strings: {"org": "acme"} for GitHub Copilot, {"team_id": "…"} for xAI. Not secret.
    # NULL for providers without any. Checked again whenever it is read (store/integrations.account_of).
    account: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # How its dollars were made, as of the last sync that said (providers/base.CostBasis as a small
    # JSON object): an estimate from credits, a currency converted. NULL: billed in US dollars.
    # Checked again whenever it is read (store/integrations.cost_basis_of).
    cost_basis: str | None = Field(default=None, sa_column=Column(Text, nullable=True))

    def __repr__(self) -> str:  # the ciphertext is not secret, but it is noise
        return f"Integration(id={self.id!r}, label={self.label!r}, provider={self.provider!r}, key={self.key_hint})"

    __str__ = __repr__


def _money() -> Column:
    return Column(BigInteger, nullable=False, default=0)


def _maybe() -> Column:
    """A count or sum that may be unknown (NULL): a provider that does not report it, a report
    that failed. Unknown is never stored as 0."""
    return Column(BigInteger, nullable=True)


class DailyCost(SQLModel, table=True):
    """One UTC day of one integration, as its provider reported it when we synced.

    NULL is unknown or not applicable, never 0: the on-demand split where the provider bills
    everything per use, requests where it gives no count, tokens a report failed to bring."""

    __table_args__ = (UniqueConstraint("integration_id", "day"),)
    id: int | None = Field(default=None, sa_column=_id())
    integration_id: int = Field(sa_column=_integration_id(index=True))
    day: date
    cost_micro: int = Field(sa_column=_money())
    on_demand_micro: int | None = Field(default=None, sa_column=_maybe())
    included_micro: int | None = Field(default=None, sa_column=_maybe())
    requests: int | None = Field(default=None, sa_column=_maybe())
    request_units_micro: int = Field(sa_column=_money())
    input_tokens: int | None = Field(default=0, sa_column=_maybe())
    output_tokens: int | None = Field(default=0, sa_column=_maybe())
    cache_read_tokens: int | None = Field(default=0, sa_column=_maybe())
    cache_write_tokens: int | None = Field(default=0, sa_column=_maybe())
    reasoning_tokens: int | None = Field(default=None, sa_column=_maybe())
    byok_micro: int | None = Field(default=None, sa_column=_maybe())  # billed by another provider: beside the cost
    # Units billed instead of money (ElevenLabs' credits, in millionths) and the characters they
    # bought; NULL where the provider has none.
    credits_micro: int | None = Field(default=None, sa_column=_maybe())
    characters: int | None = Field(default=None, sa_column=_maybe())
    synced_at: datetime
    complete: bool  # the day had ended when it was synced (today never is)


class DailyModelCost(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("integration_id", "day", "model"),
        Index("ix_dailymodelcost_integration_day", "integration_id", "day"),
    )
    id: int | None = Field(default=None, sa_column=_id())
    integration_id: int = Field(sa_column=_integration_id())
    day: date
    model: str
    cost_micro: int = Field(sa_column=_money())
    requests: int | None = Field(default=None, sa_column=_maybe())
    input_tokens: int | None = Field(default=0, sa_column=_maybe())
    output_tokens: int | None = Field(default=0, sa_column=_maybe())
    cache_read_tokens: int | None = Field(default=0, sa_column=_maybe())
    cache_write_tokens: int | None = Field(default=0, sa_column=_maybe())
    reasoning_tokens: int | None = Field(default=None, sa_column=_maybe())
    credits_micro: int | None = Field(default=None, sa_column=_maybe())
    characters: int | None = Field(default=None, sa_column=_maybe())
    # The model's billed part where a plan or credits cover the rest (Cursor's on-demand); NULL on
    # rows written before it was kept (migration 0012): unknown, never 0.
    on_demand_micro: int | None = Field(default=None, sa_column=_maybe())


class DailyMemberCost(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("integration_id", "day", "email"),
        Index("ix_dailymembercost_integration_day", "integration_id", "day"),
    )
    id: int | None = Field(default=None, sa_column=_id())
    integration_id: int = Field(sa_column=_integration_id())
    day: date
    email: str  # the actor: a member's email, a workspace's or a project's name
    cost_micro: int = Field(sa_column=_money())
    requests: int | None = Field(default=None, sa_column=_maybe())


class SyncRun(SQLModel, table=True):
    """One sync attempt. A run still `running` when no process holds its lock was interrupted."""

    id: int | None = Field(default=None, sa_column=_id())
    integration_id: int = Field(sa_column=_integration_id(index=True))
    trigger: str  # backfill | daily | force
    started_at: datetime
    finished_at: datetime | None = None
    outcome: str = "running"  # running | success | failed | interrupted
    requests: int = 0
    rate_limited: int = 0
    retries: int = 0
    days_written: int = 0
    error: str | None = None
    host: str | None = None  # the machine that ran it (a shared database has several)
    username: str | None = None  # the operating-system user who ran it
    # The server process of the session holding this run's sync lock (a shared database): how a
    # lock's holder is told to be this run, and not some other session (sync/lock.py).
    lock_pid: int | None = None
    # The error's family (errors.py's class name: KeyRejected, Unreachable, ...): an alert for a
    # rejected key is told from other failures by it, not by the sentence.
    error_kind: str | None = None


class SyncLockRow(SQLModel, table=True):
    """One row per integration, locked (FOR UPDATE) by the session of the sync that runs it, on a
    shared database (sync/lock.py). Only roles that may change this table can lock it: not viewers."""

    __tablename__ = "synclock"
    integration_id: int = Field(sa_column=Column(ID, primary_key=True, autoincrement=False))


class TeamSetting(SQLModel, table=True):
    """A setting every syncer of this database follows (plan, pacing per provider key), and the
    fingerprint of the master key the stored API keys are sealed with. See store/team.py."""

    name: str = Field(primary_key=True)
    value: str
    updated_at: datetime
    updated_by: str | None = None  # user@host


class MemberCycleSpend(SQLModel, table=True):
    """One member's spend in the current billing cycle and their spend limit, as the provider last
    said (Cursor's /teams/spend). Replaced whole at every sync that reads it; never a daily cost."""

    __table_args__ = (UniqueConstraint("integration_id", "member"),)
    id: int | None = Field(default=None, sa_column=_id())
    integration_id: int = Field(sa_column=_integration_id(index=True))
    member: str  # the email; else the name or id the provider gives
    name: str | None = None
    spend_micro: int | None = Field(default=None, sa_column=_maybe())  # the cycle's total
    on_demand_micro: int | None = Field(default=None, sa_column=_maybe())
    limit_micro: int | None = Field(default=None, sa_column=_maybe())  # the effective limit; None: none sent
    synced_at: datetime


class Budget(SQLModel, table=True):
    """A spending budget on one integration or on all together, per calendar month or billing cycle.

    `target_key` is "all" or the integration's id as text: unique with the period, which a nullable
    integration id could not be (SQL counts NULLs as distinct, so two "all" budgets would both fit)."""

    __table_args__ = (UniqueConstraint("target_key", "period"),)
    id: int | None = Field(default=None, sa_column=_id())
    target_key: str
    integration_id: int | None = Field(  # None: every integration together
        default=None, sa_column=Column(ID, ForeignKey("integration.id"), nullable=True, index=True)
    )
    period: str  # month | cycle
    measure: str  # cost | on_demand
    amount_micro: int = Field(sa_column=_money())
    created_at: datetime
    updated_at: datetime


class AlertSent(SQLModel, table=True):
    """A threshold a budget crossed in one period, announced once: kept so a restart (or another
    app on a shared database) does not announce it again."""

    __table_args__ = (UniqueConstraint("budget_id", "period_start", "threshold"),)
    id: int | None = Field(default=None, sa_column=_id())
    budget_id: int = Field(sa_column=Column(ID, ForeignKey("budget.id"), nullable=False, index=True))
    period_start: date
    threshold: str  # 50 | 80 | 100 | forecast
    sent_at: datetime


class AlertChannel(SQLModel, table=True):
    """Where alerts go (store/alerts.py): a Slack or Teams webhook, a signed webhook, or email.
    `target` is the non-secret part as a small JSON object (a webhook's URL, email's recipients and
    server); the secret (a Slack or Teams URL, a signing secret, an SMTP password) is sealed in the
    vault like an API key, bound to `uid`."""

    id: int | None = Field(default=None, sa_column=_id())
    uid: str = Field(unique=True)
    label: str = Field(unique=True)
    kind: str  # slack | teams | webhook | email
    target: str = Field(sa_column=Column(Text, nullable=False))
    secret_scheme: str | None = None
    secret_ciphertext: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_at: datetime
    last_delivery_at: datetime | None = None
    last_outcome: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # one sentence, no secret
    last_ok: bool | None = Field(default=None, sa_column=Column(Boolean, nullable=True))


class AlertDelivery(SQLModel, table=True):
    """One event for one channel: claimed (state `sending`, until `lease_until`) before it is sent,
    then `sent` or `failed`. Unique per (channel, event key): the claim is the insert."""

    __table_args__ = (UniqueConstraint("channel_id", "event_key"),)
    id: int | None = Field(default=None, sa_column=_id())
    channel_id: int = Field(sa_column=Column(ID, ForeignKey("alertchannel.id"), nullable=False, index=True))
    event_key: str
    state: str  # sending | sent | failed
    attempts: int
    claimed_at: datetime
    lease_until: datetime
    finished_at: datetime | None = None
    outcome: str | None = Field(default=None, sa_column=Column(Text, nullable=True))

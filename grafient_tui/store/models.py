"""The tables. Money is integer micro-cents (1 cent = 1_000_000), summed exactly."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel


class Integration(SQLModel, table=True):
    # AUTOINCREMENT: a removed integration's id is never handed out again, so nothing keyed by an
    # old id (a sync still running, a lock file, a script's `grafient sync 3`) lands on a new team.
    __table_args__ = {"sqlite_autoincrement": True}
    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(index=True, unique=True)  # bound into the key ciphertext as associated data
    provider: str = "cursor"
    label: str = Field(unique=True)
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
    id: int | None = Field(default=None, primary_key=True)
    integration_id: int = Field(foreign_key="integration.id", index=True)
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
    synced_at: datetime
    complete: bool  # the day had ended when it was synced (today never is)


class DailyModelCost(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("integration_id", "day", "model"),
        Index("ix_dailymodelcost_integration_day", "integration_id", "day"),
    )
    id: int | None = Field(default=None, primary_key=True)
    integration_id: int = Field(foreign_key="integration.id")
    day: date
    model: str
    cost_micro: int = Field(sa_column=_money())
    requests: int | None = Field(default=None, sa_column=_maybe())
    input_tokens: int | None = Field(default=0, sa_column=_maybe())
    output_tokens: int | None = Field(default=0, sa_column=_maybe())
    cache_read_tokens: int | None = Field(default=0, sa_column=_maybe())
    cache_write_tokens: int | None = Field(default=0, sa_column=_maybe())
    reasoning_tokens: int | None = Field(default=None, sa_column=_maybe())


class DailyMemberCost(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("integration_id", "day", "email"),
        Index("ix_dailymembercost_integration_day", "integration_id", "day"),
    )
    id: int | None = Field(default=None, primary_key=True)
    integration_id: int = Field(foreign_key="integration.id")
    day: date
    email: str  # the actor: a member's email, a workspace's or a project's name
    cost_micro: int = Field(sa_column=_money())
    requests: int | None = Field(default=None, sa_column=_maybe())


class SyncRun(SQLModel, table=True):
    """One sync attempt. A run still `running` when no process holds its lock was interrupted."""

    id: int | None = Field(default=None, primary_key=True)
    integration_id: int = Field(foreign_key="integration.id", index=True)
    trigger: str  # backfill | daily | force
    started_at: datetime
    finished_at: datetime | None = None
    outcome: str = "running"  # running | success | failed | interrupted
    requests: int = 0
    rate_limited: int = 0
    retries: int = 0
    days_written: int = 0
    error: str | None = None


class MemberCycleSpend(SQLModel, table=True):
    """One member's spend in the current billing cycle and their spend limit, as the provider last
    said (Cursor's /teams/spend). Replaced whole at every sync that reads it; never a daily cost."""

    __table_args__ = (UniqueConstraint("integration_id", "member"),)
    id: int | None = Field(default=None, primary_key=True)
    integration_id: int = Field(foreign_key="integration.id", index=True)
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
    id: int | None = Field(default=None, primary_key=True)
    target_key: str
    integration_id: int | None = Field(default=None, foreign_key="integration.id", index=True)  # None: all
    period: str  # month | cycle
    measure: str  # cost | on_demand
    amount_micro: int = Field(sa_column=_money())
    created_at: datetime
    updated_at: datetime


class AlertSent(SQLModel, table=True):
    """A threshold a budget crossed in one period, announced once: kept so a restart (or another
    app on a shared database) does not announce it again."""

    __table_args__ = (UniqueConstraint("budget_id", "period_start", "threshold"),)
    id: int | None = Field(default=None, primary_key=True)
    budget_id: int = Field(foreign_key="budget.id", index=True)
    period_start: date
    threshold: str  # 50 | 80 | 100 | forecast
    sent_at: datetime

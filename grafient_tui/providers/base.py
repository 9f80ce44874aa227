"""What every cost source gives the sync engine: the Provider interface and its value types.

A provider validates a key and fetches whole UTC days of costs as generic cost lines; the engine
aggregates the lines and never learns which provider sent them. Nothing here imports httpx or
Textual, so the registry and the screens can read a provider's limits and help text cheaply.
"""

from __future__ import annotations

import datetime
import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from grafient_tui.errors import ConfigError
from grafient_tui.untrusted import MAX_NAME, cap, stored_name

if TYPE_CHECKING:
    import httpx

    from grafient_tui.config import Settings


@dataclass(slots=True)
class CostLine:
    """Usage of one UTC day, model, actor and billing kind, summed. Money in integer micro-cents.

    Unknown is never 0: `requests` is None when the provider gives no request count, a token count
    is None when it could not be fetched (Anthropic's usage report failed while its costs came),
    `reasoning_tokens` is None where the provider does not report them, and `byok_micro` is None
    where there is no bring-your-own-key spend to speak of (only OpenRouter has it). BYOK money is
    billed by another provider: it is kept beside `cost_micro`, never added to it.

    A line may also say nothing of a figure, which is a third state beside a count and unknown:
    `reports_requests` / `reports_tokens` False means this line does not report that figure (another
    line counts it, as OpenAI's and Anthropic's usage lines do for their cost lines, or nothing does,
    as for OpenAI's embeddings and web search and Cursor's events that are not token-based). Its
    value is then None and ignored. Summing (store/sums.py `reported_plus`) skips such a line rather
    than adding 0; a sum that no line reports is unknown, and one reported None makes it unknown."""

    day: datetime.date
    model: str
    actor: str  # who spent it: a member's email, a workspace, a project (see Capabilities.actor_kind)
    on_demand: bool  # billed on demand, else included in the plan
    cost_micro: int
    requests: int | None
    request_units_micro: int = 0
    input_tokens: int | None = 0
    output_tokens: int | None = 0
    cache_read_tokens: int | None = 0
    cache_write_tokens: int | None = 0
    reasoning_tokens: int | None = None
    byok_micro: int | None = None
    # What a provider bills in other units than money (ElevenLabs' credits), in millionths of a
    # credit, and the characters they bought; None where the provider has no such unit.
    credits_micro: int | None = None
    characters: int | None = None
    reports_requests: bool = True  # False: `requests` is not this line's to say (see above)
    reports_tokens: bool = True  # False: nor are the token counts


@dataclass(frozen=True)
class CostBasis:
    """How an integration's dollars were made, as of its last sync, where that needs saying beside
    them: an account billed in another currency and converted (Google), or dollars estimated from
    credits (ElevenLabs). Plain data: stored with the integration as JSON, shown by every output."""

    note: str  # one sentence fit to show: "converted from EUR at Google's daily rate"
    # The figures an estimate rests on, for `report --format json` (`tier`, `plan_price_usd`, ...).
    estimate: Mapping[str, str | int | None] | None = None
    # False: the provider cannot price this account (a plan without a list price); every dollar
    # figure of it is unknown ("—"), never $0, while its units (credits) are still kept.
    cost_known: bool = True
    currency: str | None = None  # the account's own currency when it is not USD

    def to_json(self) -> dict[str, object]:
        return {
            "note": self.note,
            "estimate": dict(self.estimate) if self.estimate is not None else None,
            "cost_known": self.cost_known,
            "currency": self.currency,
        }


@dataclass(frozen=True)
class AccountInfo:
    """What a good key says about the account it belongs to."""

    members: int  # people (Cursor), or the actors costs are split by: workspaces, projects
    # Who the account is, hashed (its member list, or the organization's id): the same fingerprint
    # means the same account, whichever key was used.
    fingerprint: str | None = field(default=None, compare=False)
    name: str | None = field(default=None, compare=False)  # the account's own name, if the API gives one


@dataclass(frozen=True)
class MemberSpend:
    """One member's spend in the current billing cycle and their spend limit, as the provider says.

    Money in integer micro-cents; None is not sent (or not readable), never 0."""

    member: str  # the email; else the name or id the provider gives
    name: str | None
    spend_micro: int | None  # the cycle's total, plan-included usage too
    on_demand_micro: int | None  # the on-demand part; None when the answer does not split it
    limit_micro: int | None  # the member's effective spend limit; None when there is none or it is not sent


@dataclass(frozen=True)
class Billing:
    """The current billing cycle: when it started and each member's spend in it."""

    cycle_start: datetime.date | None  # the UTC day the cycle started; None when not sent
    members: tuple[MemberSpend, ...] = ()


@dataclass(frozen=True)
class Limits:
    max_window_days: int  # the widest range one fetch may ask for
    history_days: Mapping[str, int]  # plan -> days of history a backfill asks for
    max_history_days: int  # for a plan it does not name
    settle_days: int  # how many recent finished days the provider may still change (re-fetched each sync)
    default_rpm: float  # requests per minute when the user sets none
    # The current UTC month so far is also re-fetched each sync (Google: credits and corrections of
    # the invoice month land late), on top of the settle days.
    settle_month: bool = False
    # One fetch for every day a sync needs, gaps between them included (Google: each query scans at
    # least 10 MB, so one wide query costs less than several narrow ones).
    one_window: bool = False

    def history_for(self, plan: str) -> int:
        return self.history_days.get(plan, self.max_history_days)


@dataclass(frozen=True)
class Capabilities:
    has_requests: bool  # cost lines carry request counts
    actor_kind: str  # what CostLine.actor names: "member", "workspace", "project"
    has_on_demand: bool = True  # the on-demand / included split means something (else stored as not applicable)
    requests_label: str = "requests"  # what its request count counts ("completion requests" for OpenAI)
    has_byok: bool = False  # cost lines may carry BYOK money, shown beside the cost
    has_today: bool = True  # today so far can be fetched (OpenRouter: completed days only)
    has_tokens: bool = True  # cost lines can carry token counts (GitHub's and xAI's reports give none)
    # The actor a day's whole cost falls under when the provider cannot split it by member, and then the
    # integration counts 0 members (GitHub Copilot without a readable seat list: "(all users)").
    whole_actor: str | None = None
    # "billed": the provider's own money; "estimate": dollars Grafient works out from other units
    # (ElevenLabs' credits), marked as an estimate wherever they are shown.
    cost_basis: str = "billed"
    # What covers the part of its cost that no invoice charges for usage (a plan's included usage,
    # included credits), where its on-demand / included split says so: its *billed* amount is then the
    # on-demand part and its cost the *usage value*. None: every dollar is billed (billed = usage value).
    covered_by: str | None = None
    # The days back from today it can have: its deepest history (Limits.max_history_days; OpenRouter's
    # API keeps 30). Older days are never "not synced" for it: no sync fetches them. None: no limit.
    keeps_days: int | None = None
    has_request_units: bool = False  # days carry request units beside the count (Cursor's requestsCosts)

    @property
    def actor_title(self) -> str:
        """The plural heading for actors: Members, Workspaces, Projects, API keys."""
        return {"member": "Members", "workspace": "Workspaces", "project": "Projects", "api_key": "API keys"}.get(
            self.actor_kind, self.actor_kind.title() + "s"
        )


@dataclass(frozen=True)
class AccountField:
    """One setting an integration of a provider carries besides its key: the GitHub organization or
    enterprise whose Copilot billing a token reads, the xAI team a management key belongs to.

    Not a secret (the key stays sealed in the vault): stored in the clear with the integration, shown by
    `list`, handed to the provider when it is built. Declared by the provider (`Provider.account_fields`,
    and for the CLI's flags without loading the provider, its registry row); `grafient add` grows a flag
    per field and the app's add form a field per field."""

    name: str  # the key in the stored JSON object and in `from_settings(account=...)`: "org"
    flag: str  # the command-line option: "--org"
    metavar: str  # in --help: "ORG"
    label: str  # the add form's label: "GitHub organization"
    help: str  # one line for --help and the form: what it is and where to find it
    pattern: str  # the value must match this regular expression whole
    invalid: str  # the one sentence when it does not (fixed text: it never quotes the value)
    # Fields sharing a group are alternatives: exactly one of them is given ("--org or --enterprise").
    # Outside a group, `required` decides whether the field may be left out.
    group: str | None = None
    required: bool = True
    placeholder: str = ""
    max_length: int = 256

    def clean(self, value: str) -> str:
        """The value as stored (surrounding spaces dropped); ConfigError with `invalid` when it does not
        fit. A value shaped like an API key is refused without being repeated anywhere."""
        from grafient_tui.secret import looks_like_key

        text = value.strip()
        if looks_like_key(text):
            raise ConfigError(f"{self.flag} does not take an API key; keys are read from standard input.")
        if len(text) > self.max_length or not text.isprintable() or not re.fullmatch(self.pattern, text):
            raise ConfigError(self.invalid)
        return text


def check_account(fields: tuple[AccountField, ...], values: Mapping[str, object], *, title: str) -> dict[str, str]:
    """The account settings of one integration, checked against its provider's fields: every value a
    string that fits its field, every required field there, exactly one of each group, no name the
    provider does not declare. Empty strings count as not given. ConfigError with one sentence else.

    Run where values come in (the CLI's flags, the add form) and again where they are read back (a
    database row is untrusted)."""
    known = {f.name: f for f in fields}
    given: dict[str, str] = {}
    for name, value in values.items():
        field_ = known.get(name)
        if field_ is None:
            flag = f"--{name.replace('_', '-')}"
            raise ConfigError(f"{title} integrations take no {flag} setting.")
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if not isinstance(value, str):
            raise ConfigError(field_.invalid)
        given[name] = field_.clean(value)
    groups: dict[str, list[AccountField]] = {}
    for field_ in fields:
        if field_.group is not None:
            groups.setdefault(field_.group, []).append(field_)
        elif field_.required and field_.name not in given:
            raise ConfigError(f"{title} needs {field_.flag} {field_.metavar}: {field_.help.rstrip('.')}.")
    for members in groups.values():
        chosen = [f for f in members if f.name in given]
        if len(chosen) != 1:
            options = " or ".join(f"{f.flag} {f.metavar}" for f in members)
            how = "only one" if chosen else "one"
            raise ConfigError(f"{title} needs {how} of {options}.")
    return given


def describe_account(fields: tuple[AccountField, ...], values: Mapping[str, str]) -> str:
    """`--org acme`: the settings as one line, in the provider's order ("" when it has none)."""
    return " ".join(f"{f.flag} {values[f.name]}" for f in fields if f.name in values)


@dataclass
class RequestStats:
    requests: int = 0
    rate_limited: int = 0
    retries: int = 0


class Provider(ABC):
    """One connected account of one cost source, open for the length of a sync or a key check."""

    name: ClassVar[str]  # the registry name, stored with each integration
    title: ClassVar[str]  # for sentences: "cannot reach the Cursor API at ..."
    key_kind: ClassVar[str]  # what kind of key, for a choice list: "Admin API, Enterprise"
    key_help: ClassVar[str]  # where to create the key and what kind it must be
    key_placeholder: ClassVar[str]
    limits: ClassVar[Limits]
    capabilities: ClassVar[Capabilities]
    # What an integration of this provider carries besides its key (see AccountField); () for most.
    account_fields: ClassVar[tuple[AccountField, ...]] = ()
    # The key is a document of several lines (Google's service-account JSON key file), not one token:
    # read whole from standard input, pasted into a multi-line field, never typed at a prompt.
    key_document: ClassVar[bool] = False
    # Why no key of this provider ever names the account it belongs to (ElevenLabs: its API names no
    # workspace), so "one account, one integration" can never be checked and every add needs
    # --allow-unidentified; said before a key is asked for. None: validate() names the account
    # (AccountInfo.fingerprint), or says it could not for this key.
    unnamed_account: ClassVar[str | None] = None

    stats: RequestStats
    # The sync's UTC today, set by the engine before the first window (tests and GRAFIENT_NOW pin it);
    # None: the clock's. Providers that treat today or yesterday apart (OpenRouter) read `utc_today()`.
    today: datetime.date | None = None

    # Set by a provider during a sync when its answers showed where its history ends inside a window
    # (GitHub: a day refused as too old after a newer day of the same window answered): the first day
    # it keeps. The engine writes what the window covered, records the edge as the integration's
    # history limit and asks for nothing older. None: no edge seen.
    history_edge: datetime.date | None = None
    # How many members (people, seat holders) the provider counted during this sync, for providers
    # whose member list can change after the key was added (GitHub's Copilot seats); the engine stores
    # it as the integration's member count. None: not counted, the count from the key check stands.
    members_seen: int | None = None

    def utc_today(self) -> datetime.date:
        return self.today or datetime.datetime.now(datetime.UTC).date()

    @classmethod
    @abstractmethod
    def from_settings(
        cls,
        api_key: str,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        account: Mapping[str, str] | None = None,
    ) -> Provider:
        """A provider for this key and account settings (checked against `account_fields`, ConfigError
        when they do not fit), configured from the user's settings."""

    @classmethod
    def check_key_text(cls, text: str) -> None:
        """What can be refused about a key without the network (a file that is not a service-account
        key), as a ProviderError with one sentence; nothing for a key whose shape only hints."""
        return None

    @abstractmethod
    async def validate(self) -> AccountInfo:
        """Check the key with the cheapest call there is; a ProviderError with one sentence if it is not good."""

    @abstractmethod
    def cost_lines(self, first: datetime.date, last: datetime.date) -> AsyncIterator[list[CostLine]]:
        """Every cost of the UTC days first..last (at most `limits.max_window_days`), in batches.

        A window that cannot be read whole raises: nothing partial is ever yielded as complete."""

    @classmethod
    def check_window(cls, first: datetime.date, last: datetime.date) -> None:
        """ValueError unless first..last is a window this provider reads (in order, at most
        `limits.max_window_days`): called by `cost_lines` before anything is sent."""
        if last < first:
            raise ValueError("last is before first")
        if (last - first).days + 1 > cls.limits.max_window_days:
            raise ValueError(f"{cls.title} is read at most {cls.limits.max_window_days} days per window")

    def days_covered(self, first: datetime.date, last: datetime.date) -> list[datetime.date]:
        """After `cost_lines(first, last)` ran to its end: the days of that window its answer speaks
        for. Each is written (a day with no lines is a $0 day); the others stay as they were ("never
        fetched" or their earlier figures). Every day by default; a provider whose answer can leave
        days out (Anthropic: no bucket; OpenRouter: today, and yesterday not yet reported) says so."""
        return [first + datetime.timedelta(days=i) for i in range((last - first).days + 1)]

    async def billing(self) -> Billing | None:
        """The current billing cycle and each member's spend and limit, for providers that tell
        (Cursor's /teams/spend); None for those that bill by the calendar month and give no limits.
        The engine calls it once per sync, after the cost windows; its failure never fails a sync."""
        return None

    def cost_basis(self) -> CostBasis | None:
        """After the cost windows of a sync: how this account's dollars were made, where that needs
        saying (an estimate, a converted currency); None for dollars billed as they are."""
        return None

    @abstractmethod
    async def aclose(self) -> None: ...

    async def __aenter__(self) -> Provider:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def distinct_names(named: Mapping[str, str], reserved: tuple[str, ...] = ()) -> dict[str, str]:
    """Actor id -> the name to show, unique: its own (as stored: cut to MAX_NAME with a visible mark),
    unless another actor (or a reserved name such as "Default workspace") has it too; then the name
    with the id's first 8 characters beside it (the whole id when two ids share those). Per-actor
    rows are keyed by what is shown, so two actors must never merge: a name that still collides
    after that (cut names, or a workspace really called "Research (wrk_1)") gets a number too."""
    clean = {actor: stored_name(name) for actor, name in named.items()}
    seen: dict[str, int] = dict.fromkeys(reserved, 1)
    for name in clean.values():
        seen[name] = seen.get(name, 0) + 1
    short = {actor[:8] for actor in named}
    cut = 8 if len(short) == len(named) else None  # ids alike in their first 8 characters: the whole id
    shown: dict[str, str] = {}
    taken = set(reserved)
    for actor, name in clean.items():
        if seen[name] == 1:
            shown[actor] = name
            taken.add(name)
    for actor, name in clean.items():
        if actor in shown:
            continue
        suffix = f" ({stored_name(actor[:cut], 64)})"
        candidate = cap(name, MAX_NAME - len(suffix)) + suffix
        number = 2
        while candidate in taken:
            tail = f"{suffix[:-1]} #{number})"
            candidate = cap(name, MAX_NAME - len(tail)) + tail
            number += 1
        shown[actor] = candidate
        taken.add(candidate)
    return {actor: shown[actor] for actor in named}

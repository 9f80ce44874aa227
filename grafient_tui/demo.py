"""Demo mode: one simulated account per provider in a throwaway GRAFIENT_HOME.

`grafient --demo` runs the real app, the real provider clients and the real sync
engine; only the network is replaced, by an httpx.MockTransport that routes each
request to the simulated account of its host and key (an unknown key gets that
provider's own 401). Nothing here imports Textual
and nothing touches the user's own data: the home is a fresh temporary
directory, removed on exit.

Fixed stored histories for snapshots and benchmarks are built by
tests/factories.py (`seed_history`), through the sync engine's writer.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from grafient_tui.config import DEFAULT_API_URLS, OTHER_URLS, Settings
from grafient_tui.ending import Ending, ending_on_signals
from grafient_tui.secret import Secret
from grafient_tui.service import IntegrationToAdd

if TYPE_CHECKING:
    import httpx

    from grafient_tui.providers.cursor.fake import FakeCursorTeam


DEMO_MODELS = [
    "claude-4.5-sonnet",
    "claude-4-sonnet-thinking",
    "gpt-5",
    "gpt-5-codex",
    "default",
    "gemini-2.5-pro",
    "claude-4.1-opus",
    "o3",
    "grok-code-fast-1",
]
FIRST_NAMES = [
    "maya",
    "liam",
    "sofia",
    "noah",
    "ava",
    "kenji",
    "priya",
    "lucas",
    "amara",
    "jonas",
    "elena",
    "omar",
    "hana",
    "mateo",
    "zoe",
    "ravi",
]
LAST_NAMES = ["chen", "okafor", "garcia", "muller", "rossi", "tanaka", "patel", "silva", "novak", "kim"]


@dataclass(frozen=True)
class DemoTeamSpec:
    label: str
    seed: int
    days: int  # how much history Cursor holds for it
    members: int
    weekday_events: int
    weekend_events: int
    growth: float  # events per day grow by this fraction over the history


DEMO_TEAMS = (
    DemoTeamSpec("Acme Engineering", seed=7, days=365, members=14, weekday_events=70, weekend_events=14, growth=0.8),
)
# A team the demo serves but does not add: its key is shown in the add form, so the whole add
# flow (check, store, backfill) can be tried without a real key.
TRY_TEAM = DemoTeamSpec("Acme Data", seed=11, days=90, members=5, weekday_events=26, weekend_events=4, growth=0.3)
# A real team leans on a few models: Sonnet and Auto most, Opus rarely but dearly.
DEMO_MODEL_WEIGHTS = [34, 6, 16, 9, 14, 5, 3, 8, 5]
# Weekday rhythm: Monday to Friday (Friday a little lighter), then the weekend.
WEEKDAY_SHAPE = (1.0, 1.08, 1.05, 1.0, 0.82, 0.2, 0.15)
# The other providers' demo accounts: (label, provider, seed); each fake module's demo_account()
# gives its own spending shape (an API workload, an office-hours product, bursty prototypes, seats
# whose allowance runs out late in the month, a growing backend with twice-weekly evaluation runs).
DEMO_ACCOUNTS = (
    ("Acme Labs API", "anthropic", 3),
    ("Acme Chat", "openai", 5),
    ("Acme Prototypes", "openrouter", 9),
    ("Acme Copilot", "copilot", 13),
    ("Acme Grok", "xai", 17),
    ("Acme Gemini", "google", 13),
    ("Acme Voice", "elevenlabs", 17),  # credits on the Creator plan: every dollar of it an estimate
)
# The account settings besides the key of the demo accounts that need them (as their fakes serve them).
DEMO_ACCOUNT_SETTINGS: dict[str, dict[str, str]] = {
    "copilot": {"org": "acme"},
    "xai": {"team_id": "65c1e471-205f-4566-9c5a-07198bcdf4ce"},  # the xAI fake's DEMO_TEAM_ID
}
# A second simulated account of each other provider, served but not added (as TRY_TEAM is for Cursor):
# the add form offers its key for the provider chosen (f2 fills it in), so adding can be tried with any
# provider. Each is another account than the one the demo adds (a connected account is refused twice):
# its own seed, and below the settings that name it. Built on the first request with its key.
TRY_ACCOUNTS = (
    ("Acme Research", "anthropic", 23),
    ("Acme Support", "openai", 29),
    ("Acme Experiments", "openrouter", 31),
    ("Acme Mobile", "copilot", 37),
    ("Acme Agents", "xai", 41),
    ("Acme Vertex", "google", 43),
    ("Acme Podcasts", "elevenlabs", 47),
)
TRY_ACCOUNT_SETTINGS: dict[str, dict[str, str]] = {
    "copilot": {"org": "acme-mobile"},
    "xai": {"team_id": "2b7e9c40-8d1a-4f63-a5e2-3c9f0d81b7a4"},
    "google": {"table": "billing-admin.billing_export.gcp_billing_export_resource_v1_0A1B2C_7E8F90_1A2B3C"},
}
# Where each provider's requests go in demo mode: its documented host (from its registry row), and
# Google's sign-in's (the same simulated account answers).
DEMO_HOSTS = {
    name: urlsplit(url).hostname or url
    for name, url in {**DEFAULT_API_URLS, "google_token": OTHER_URLS["google_token"][1]}.items()
}
# Each provider's documented key prefix, so the demo keys look like the real ones.
KEY_PREFIXES = {
    "cursor": "key_",
    "anthropic": "sk-ant-admin01-",
    "openai": "sk-admin-",
    "openrouter": "sk-or-v1-",
    "copilot": "ghp_",
    "xai": "xai-token-",
    "elevenlabs": "sk_",
}


def demo_key(label: str, provider: str = "cursor") -> str:
    """A made-up key in the provider's documented shape (for Cursor, key_ + 64 characters), the same every
    run; for Google a service-account JSON key (its RSA key made for this run, its ids the same)."""
    digest = hashlib.sha256(f"grafient-demo:{label}".encode()).hexdigest()
    if provider == "google":
        from grafient_tui.providers.google.fake import service_account_key

        return service_account_key(seed=int(digest[:8], 16), project_id="acme-gemini-reader", name="grafient")
    if provider == "elevenlabs":
        return KEY_PREFIXES[provider] + digest[:48]
    return KEY_PREFIXES[provider] + digest


def request_key(request: httpx.Request) -> str | None:
    """The key a request carries, however its provider sends it (x-api-key, Bearer, Basic user)."""
    if key := request.headers.get("x-api-key") or request.headers.get("xi-api-key"):
        return key
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer":
        return value
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value).decode("utf-8").split(":", 1)[0]
        except (ValueError, UnicodeDecodeError):
            return None
    return None


def demo_members(seed: int, count: int, domain: str) -> list[str]:
    emails = []
    for i in range(count):
        first = FIRST_NAMES[(seed + i * 5) % len(FIRST_NAMES)]
        last = LAST_NAMES[(seed * 3 + i * 7) % len(LAST_NAMES)]
        emails.append(f"{first}.{last}@{domain}")
    return sorted(set(emails))


@dataclass(frozen=True)
class TryKey:
    """A key the demo's add form offers: a simulated account served but not added, the label it
    suggests and the account settings besides the key that name it."""

    provider: str
    label: str
    key: str = field(repr=False)
    account: dict[str, str] = field(default_factory=dict)


class TryKeys:
    """The demo key of each provider (`tries("openai")`), made when first asked for; its simulated
    account is built on the first request bearing it (`serve`), so the demo starts no slower."""

    def __init__(self, today: date, by_host: dict[str, dict[str, object]], cursor: TryKey) -> None:
        self._today = today
        self._by_host = by_host
        self._made: dict[str, TryKey] = {"cursor": cursor}
        self._unbuilt: dict[str, tuple[TryKey, int]] = {}  # key -> (its offer, its seed)

    def __call__(self, provider: str) -> TryKey | None:
        """The demo key offered for `provider`; None for a provider the demo has none for."""
        from grafient_tui import providers

        if provider not in self._made:
            spec = next(((label, seed) for label, name, seed in TRY_ACCOUNTS if name == provider), None)
            if spec is None or provider not in providers.names():
                return None
            label, seed = spec
            offer = TryKey(provider, label, demo_key(label, provider), dict(TRY_ACCOUNT_SETTINGS.get(provider, {})))
            self._made[provider] = offer
            self._unbuilt[offer.key] = (offer, seed)
            if provider == "google":  # its requests carry no key to build it by (a signed token)
                self.serve(None, offer.key)
        return self._made[provider]

    def serve(self, host: str | None, key: str) -> object | None:
        """The simulated account of an offered key, built now if it is the first request with it."""
        if key in self._unbuilt:
            import importlib

            offer, seed = self._unbuilt.pop(key)
            fake = importlib.import_module(f"grafient_tui.providers.{offer.provider}.fake")
            account = fake.demo_account(key, self._today, seed)
            for name, value in offer.account.items():  # the settings that make it another account
                setattr(account, name, value)
            self._by_host.setdefault(DEMO_HOSTS[offer.provider], {})[key] = account
            if offer.provider == "google":
                self._by_host.setdefault(DEMO_HOSTS["google_token"], {})[key] = account
        return self._by_host.get(host or "", {}).get(key)


@dataclass
class DemoEnvironment:
    home: Path
    settings: Settings
    transport: httpx.MockTransport
    teams: list[IntegrationToAdd]  # for the app to add through its own add path
    # (target, amount, period, on-demand) for the app to set through the service once the teams are added
    budgets: list[tuple[str, str, str, bool]] = field(default_factory=list)
    fakes: dict[str, object] = field(default_factory=dict)  # label -> the simulated account
    try_keys: TryKeys | None = None  # the key the add form offers for each provider: served, not added

    def cleanup(self) -> None:
        remove_home(self.home)


def remove_home(home: Path) -> None:
    # Again while it is there: a thread of the app still running (an add in progress creates the
    # home's folders anew) can put something back while the tree is being removed.
    for _ in range(5):
        shutil.rmtree(home, ignore_errors=True)
        if not home.exists():
            return


class DemoRun:
    """One `grafient --demo`: its throwaway home and its app, each as soon as it exists.

    `stop_on_signals()` is entered before the home is made: SIGTERM, SIGHUP and a hung-up terminal
    (a closed window, a killed tmux, a dropped SSH connection) stop the app if there is one yet,
    and remove the home if there is one yet, even while the demo's history is still being built and
    when the app cannot end by itself and the process is ended under it (see ending.py)."""

    def __init__(self) -> None:
        self.home: Path | None = None
        self.app: Any = None  # a GrafientApp (this module imports no Textual)

    def stop_on_signals(self) -> contextlib.AbstractContextManager[Ending]:
        return ending_on_signals(self.stop, cleanup=self.cleanup)

    def new_home(self) -> Path:
        self.home = Path(tempfile.mkdtemp(prefix="grafient-demo-"))
        return self.home

    def stop(self) -> None:
        """Called from a thread: App.exit is thread-safe (its message goes through call_soon_threadsafe)."""
        if self.app is not None:
            self.app.exit()

    def cleanup(self) -> None:
        if self.home is not None:
            remove_home(self.home)


def build_demo(*, now: datetime | None = None, latency: float = 0.04, home: Path | None = None) -> DemoEnvironment:
    """A temporary home, two simulated teams and the transport that serves them.

    `latency` (seconds per request) makes the backfill take a second or two, so the
    sparklines are seen filling in; 0 for tests.
    """
    import importlib

    import httpx

    from grafient_tui import providers
    from grafient_tui.providers.cursor.fake import make_events

    FakeCursorTeam = providers.fake("cursor")  # noqa: N806 (a class, resolved through the registry)

    now = (now or datetime.now(UTC)).astimezone(UTC)
    home = home or Path(tempfile.mkdtemp(prefix="grafient-demo-"))
    settings = Settings.from_env(
        {
            "GRAFIENT_HOME": str(home),
            # No pacing: the simulated latency sets the pace.
            **{f"GRAFIENT_{name.upper()}_RPM": "0" for name in DEMO_HOSTS},
            "GRAFIENT_BACKOFF_BASE": "0",
        }
    )
    settings.ensure_dirs()
    settings.set_plan("pro")

    now_ms = int(now.timestamp() * 1000)
    fakes: dict[str, object] = {}
    teams: list[IntegrationToAdd] = []
    by_host: dict[str, dict[str, object]] = {}  # host -> key -> account
    for spec in (*DEMO_TEAMS, TRY_TEAM):
        key = demo_key(spec.label)
        today = now.date()
        start = today - timedelta(days=spec.days - 1)
        domain = "acme.dev" if "Engineering" in spec.label else "data.acme.dev"
        members = demo_members(spec.seed, spec.members, domain)
        events = make_events(
            seed=spec.seed,
            start=start,
            days=spec.days,
            per_day=_rhythm(spec, start, today),
            members=members,
            models=DEMO_MODELS,
            model_weights=DEMO_MODEL_WEIGHTS,
            member_weights=[1 / (i + 1) ** 0.9 for i in range(len(members))],
        )
        # Today's events stop at "now": the rest of the day has not happened yet.
        events = [e for e in events if int(e["timestamp"]) <= now_ms]
        team = FakeCursorTeam(api_key=key, events=events, cycle_start=today - timedelta(days=DEMO_CYCLE_DAY - 1))
        team.limits = demo_limits(team)
        fakes[spec.label] = team
        by_host.setdefault(DEMO_HOSTS["cursor"], {})[key] = fakes[spec.label]
        if spec is not TRY_TEAM:
            teams.append(IntegrationToAdd(spec.label, "cursor", Secret(key)))
    for label, provider, seed in DEMO_ACCOUNTS:
        if provider not in providers.names():
            continue  # not in this build
        key = demo_key(label, provider)
        account = importlib.import_module(f"grafient_tui.providers.{provider}.fake").demo_account(key, now.date(), seed)
        fakes[label] = account
        by_host.setdefault(DEMO_HOSTS[provider], {})[key] = account
        account_settings = dict(DEMO_ACCOUNT_SETTINGS.get(provider, {}))
        if provider == "google":
            by_host.setdefault(DEMO_HOSTS["google_token"], {})[key] = account
            account_settings["table"] = account.table  # the simulated export's own table
        # The demo's ElevenLabs workspace is added once, and its API names no workspace: the demo says so
        # as a user would (`--allow-unidentified`); every other demo account is named by its provider.
        unnamed = providers.get(provider).unnamed_account is not None
        teams.append(IntegrationToAdd(label, provider, Secret(key), account_settings, allow_unidentified=unnamed))

    tries = TryKeys(now.date(), by_host, TryKey("cursor", TRY_TEAM.label, demo_key(TRY_TEAM.label)))

    async def route(request: httpx.Request) -> httpx.Response:
        # GitHub is asked once per day (and per person for a month): about 1,100 calls for the demo's two
        # years, which any latency would stretch over minutes. Its calls come back at once.
        if latency and request.url.host != DEMO_HOSTS["copilot"]:
            await asyncio.sleep(latency)
        accounts = by_host.get(request.url.host)
        if not accounts:
            return httpx.Response(404, json={"error": "not_found", "message": "no such host in the demo"})
        key = request_key(request)
        account = accounts.get(key or "") or (tries.serve(request.url.host, key) if key else None)
        if account is None and len(accounts) > 1:
            # Google's requests carry a signed token, then an access token, not the key: the first
            # account that accepts it (the others refuse it as Google would, 400 or 401); a wrong
            # key is refused by all.
            for candidate in accounts.values():
                response: httpx.Response = candidate.handler(request)  # type: ignore[attr-defined]
                if response.status_code not in (400, 401):
                    break
            return response
        account = account or next(iter(accounts.values()))  # a wrong key: the first account's 401
        return account.handler(request)  # type: ignore[attr-defined]

    return DemoEnvironment(
        home=home,
        settings=settings,
        transport=httpx.MockTransport(route),
        teams=teams,
        fakes=fakes,
        budgets=demo_budgets(fakes),
        try_keys=tries,
    )


def _rhythm(spec: DemoTeamSpec, start: date, today: date) -> Callable[[date], int]:
    """Events per day: a weekday rhythm, growth over the history, a hackathon spike 9 days ago and
    a quiet company holiday 17 days ago (both inside the default 30-day period)."""
    spike, holiday = today - timedelta(days=9), today - timedelta(days=17)

    def per_day(day: date) -> int:
        base = spec.weekday_events * WEEKDAY_SHAPE[day.weekday()]
        if day.weekday() >= 5:
            base = max(base, spec.weekend_events)
        grown = base * (1 + spec.growth * (day - start).days / max(1, spec.days))
        if day == spike:
            grown *= 2.6
        elif day == holiday:
            grown *= 0.12
        return int(grown)

    return per_day


DEMO_CYCLE_DAY = 20  # the demo's Cursor team is on day 20 of its billing cycle, whatever the date


def demo_limits(team: FakeCursorTeam) -> dict[str, float | None]:
    """Spend limits that put two members near theirs (about 92% and 84%) and leave the others well
    under, from the team's own cycle spend, so every run of the demo shows the marks."""
    import math

    spend = sorted(team.cycle_spend().items(), key=lambda kv: (-kv[1][1], kv[0]))
    limits: dict[str, float | None] = {}
    for rank, (email, (_, on_demand)) in enumerate(spend):
        dollars = on_demand / 100_000_000
        share = (0.92, 0.84)[rank] if rank < 2 else 0.4
        limits[email] = max(1, math.ceil(dollars / share)) if rank < 6 else None  # whole dollars
    return limits


def demo_budgets(fakes: dict[str, object]) -> list[tuple[str, str, str, bool]]:
    """A budget the Cursor team's cycle is already over (set at 85% of what it has spent), and one on
    everything together per calendar month."""
    budgets = []
    for spec in DEMO_TEAMS:  # the teams the app adds (not the one the add form offers to try)
        team = fakes[spec.label]
        spent = sum(total for total, _ in team.cycle_spend().values())  # type: ignore[attr-defined]
        budgets.append((spec.label, str(max(50, int(spent * 0.85 / 100_000_000) // 50 * 50)), "cycle", False))
    budgets.append(("all", "7500", "month", False))  # the eight accounts forecast about $9,500 a month
    return budgets

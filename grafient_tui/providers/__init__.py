"""The providers Grafient can sync from, by the name stored with each integration: one row each.

Importing this package loads no provider (and so no httpx) and defines no dataclass: a row names its
client, fake and account fields as "module:attribute", resolved on first use, and its capabilities as
plain keywords, made into `base.Capabilities` on first use. Adding a provider is one package and one
row here (ARCHITECTURE.md, "Where to add things").
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, NamedTuple, Required, TypedDict

from grafient_tui.errors import ConfigError

if TYPE_CHECKING:
    from grafient_tui.providers.base import AccountField, Capabilities, Provider


class CapabilityRow(TypedDict, total=False):
    """`base.Capabilities`' fields, as a row states them (see there for what each means)."""

    has_requests: Required[bool]
    actor_kind: Required[str]
    has_on_demand: bool
    requests_label: str
    has_byok: bool
    has_today: bool
    has_tokens: bool
    whole_actor: str | None
    cost_basis: str
    covered_by: str | None
    keeps_days: int | None
    has_request_units: bool


class ProviderRow(NamedTuple):
    """Everything Grafient knows of a provider without loading it."""

    title: str  # its name for people, for screens that must not load a provider to show a card
    client: str  # "module:attribute" of its Provider class
    fake: str  # "module:attribute" of its in-memory account (the demo's, and the contract suite's)
    base_url: str  # its documented API address (GRAFIENT_<NAME>_API_URL overrides it: config.py)
    capabilities: CapabilityRow  # what its figures hold: the report and the screens read it unloaded
    colour: str  # its band in the stacked chart and its legend mark, as Grafient's web dashboard has it
    # "module:attribute" of the settings an integration carries besides its key (base.AccountField), in
    # a module that imports no httpx, so the CLI grows its flags without loading the provider; the
    # provider class declares the same tuple. None: it has none.
    account_fields: str | None = None


_ROWS: dict[str, ProviderRow] = {
    "cursor": ProviderRow(
        title="Cursor",
        client="grafient_tui.providers.cursor.api:CursorClient",
        fake="grafient_tui.providers.cursor.fake:FakeCursorTeam",
        base_url="https://api.cursor.com",
        capabilities={
            "has_requests": True,
            "actor_kind": "member",
            "covered_by": "the plan's included usage",
            "has_request_units": True,
            "keeps_days": 365,
        },
        colour="#6b9bf2",
    ),
    "anthropic": ProviderRow(
        title="Anthropic",
        client="grafient_tui.providers.anthropic.api:AnthropicClient",
        fake="grafient_tui.providers.anthropic.fake:FakeAnthropicOrg",
        base_url="https://api.anthropic.com",
        capabilities={"has_requests": False, "actor_kind": "workspace", "has_on_demand": False, "keeps_days": 365},
        colour="#d97757",
    ),
    "openai": ProviderRow(
        title="OpenAI",
        client="grafient_tui.providers.openai.api:OpenAIClient",
        fake="grafient_tui.providers.openai.fake:FakeOpenAIOrg",
        base_url="https://api.openai.com",
        capabilities={
            "has_requests": True,
            "actor_kind": "project",
            "has_on_demand": False,
            "requests_label": "completion requests",
            "keeps_days": 180,
        },
        colour="#10a37f",
    ),
    "openrouter": ProviderRow(
        title="OpenRouter",
        client="grafient_tui.providers.openrouter.api:OpenRouterClient",
        fake="grafient_tui.providers.openrouter.fake:FakeOpenRouterAccount",
        base_url="https://openrouter.ai/api",
        capabilities={
            "has_requests": True,
            "actor_kind": "workspace",
            "has_on_demand": False,
            "has_byok": True,
            "has_today": False,
            "keeps_days": 30,
        },
        colour="#a78bfa",
    ),
    # GitHub's and xAI's reports, Google's billing export and ElevenLabs' credits carry no tokens.
    "copilot": ProviderRow(
        title="GitHub Copilot",
        client="grafient_tui.providers.copilot.api:CopilotClient",
        fake="grafient_tui.providers.copilot.fake:FakeCopilotAccount",
        base_url="https://api.github.com",
        capabilities={
            "has_requests": False,
            "actor_kind": "member",
            "has_on_demand": True,
            "has_tokens": False,
            # the actor of a day GitHub does not split per person (copilot/costs.ALL_USERS reads it here)
            "whole_actor": "(all users)",
            "covered_by": "the included AI credits",
            "keeps_days": 730,
        },
        colour="#e3b341",
        account_fields="grafient_tui.providers.copilot.fields:ACCOUNT_FIELDS",
    ),
    "xai": ProviderRow(
        title="xAI",
        client="grafient_tui.providers.xai.api:XaiClient",
        fake="grafient_tui.providers.xai.fake:FakeXaiTeam",
        base_url="https://management-api.x.ai",
        capabilities={
            "has_requests": False,
            "actor_kind": "api_key",
            "has_on_demand": False,
            "has_tokens": False,
            "keeps_days": 90,
        },
        colour="#ff5370",
        account_fields="grafient_tui.providers.xai.fields:ACCOUNT_FIELDS",
    ),
    # Apart from the six above on the colour wheel (Google's own yellow was Copilot's amber, ElevenLabs'
    # pink xAI's coral): cyan and lime.
    "google": ProviderRow(
        title="Google Gemini",
        client="grafient_tui.providers.google.api:GoogleBillingClient",
        fake="grafient_tui.providers.google.fake:FakeBillingExport",
        base_url="https://bigquery.googleapis.com",
        capabilities={
            "has_requests": False,
            "actor_kind": "project",
            "has_on_demand": True,
            "has_tokens": False,
            "covered_by": "credits",
            "keeps_days": 365,
        },
        colour="#22d3ee",
        account_fields="grafient_tui.providers.google.fields:ACCOUNT_FIELDS",
    ),
    "elevenlabs": ProviderRow(
        title="ElevenLabs",
        client="grafient_tui.providers.elevenlabs.api:ElevenLabsClient",
        fake="grafient_tui.providers.elevenlabs.fake:FakeElevenLabsWorkspace",
        base_url="https://api.elevenlabs.io",
        capabilities={
            "has_requests": False,
            "actor_kind": "workspace",
            "has_on_demand": False,
            "has_tokens": False,
            "cost_basis": "estimate",
            "keeps_days": 90,
        },
        colour="#a3e635",
    ),
}

OTHER_COLOUR = "#8a8a8a"  # a provider this version does not know

_CAPABILITIES: dict[str, Capabilities] = {}


def names() -> tuple[str, ...]:
    """Every registered provider name, in the order they are offered."""
    return tuple(_ROWS)


def row(name: str) -> ProviderRow:
    """The registry's row of provider `name`; ConfigError for a name Grafient does not know."""
    found = _ROWS.get(name)
    if found is None:
        known = ", ".join(names())
        raise ConfigError(f"unknown provider {name!r} (Grafient knows {known})")
    return found


def title(name: str) -> str:
    """`Anthropic` for "anthropic"; a name this version does not know is shown as it is."""
    found = _ROWS.get(name)
    return found.title if found is not None else name


def colour(name: str) -> str:
    """Provider `name`'s colour in charts; grey for a name this version does not know."""
    found = _ROWS.get(name)
    return found.colour if found is not None else OTHER_COLOUR


def _load(target: str) -> object:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def get(name: str) -> type[Provider]:
    """The provider class registered under `name`; ConfigError for a name Grafient does not know."""
    return _load(row(name).client)  # type: ignore[return-value]


def account_fields(name: str) -> tuple[AccountField, ...]:
    """The account settings provider `name` declares (() for most, and for a name this version does
    not know), loaded without the provider itself."""
    found = _ROWS.get(name)
    if found is None or found.account_fields is None:
        return ()
    return _load(found.account_fields)  # type: ignore[return-value]


def capabilities(name: str) -> Capabilities:
    """What provider `name`'s figures hold, without loading it (a provider's class takes its own from
    here: `capabilities = providers.capabilities("cursor")`); ConfigError for a name Grafient does not
    know."""
    made = _CAPABILITIES.get(name)
    if made is None:
        from grafient_tui.providers.base import Capabilities

        made = _CAPABILITIES[name] = Capabilities(**row(name).capabilities)
    return made


def fake(name: str) -> type:
    """The in-memory fake account class of provider `name` (it serves its API as an httpx handler)."""
    found = _ROWS.get(name)
    if found is None:
        raise ConfigError(f"provider {name!r} has no fake")
    return _load(found.fake)  # type: ignore[return-value]


__all__ = [
    "OTHER_COLOUR",
    "CapabilityRow",
    "ProviderRow",
    "account_fields",
    "capabilities",
    "colour",
    "fake",
    "get",
    "names",
    "row",
    "title",
]

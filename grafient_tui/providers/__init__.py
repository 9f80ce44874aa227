"""The providers Grafient can sync from, by the name stored with each integration.

Importing this package loads no provider (and so no httpx): each entry is "module:attribute",
resolved on first use. A new provider is one package and one line here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from grafient_tui.errors import ConfigError

if TYPE_CHECKING:
    from grafient_tui.providers.base import AccountField, Capabilities, Provider

_REGISTRY: dict[str, str] = {
    "cursor": "grafient_tui.providers.cursor.api:CursorClient",
    "anthropic": "grafient_tui.providers.anthropic.api:AnthropicClient",
    "openai": "grafient_tui.providers.openai.api:OpenAIClient",
    "openrouter": "grafient_tui.providers.openrouter.api:OpenRouterClient",
    "copilot": "grafient_tui.providers.copilot.api:CopilotClient",
    "xai": "grafient_tui.providers.xai.api:XaiClient",
    "google": "grafient_tui.providers.google.api:GoogleBillingClient",
    "elevenlabs": "grafient_tui.providers.elevenlabs.api:ElevenLabsClient",
}
# Each provider's in-memory fake (the demo's, and what the contract tests run against).
_FAKES: dict[str, str] = {
    "cursor": "grafient_tui.providers.cursor.fake:FakeCursorTeam",
    "anthropic": "grafient_tui.providers.anthropic.fake:FakeAnthropicOrg",
    "openai": "grafient_tui.providers.openai.fake:FakeOpenAIOrg",
    "openrouter": "grafient_tui.providers.openrouter.fake:FakeOpenRouterAccount",
    "copilot": "grafient_tui.providers.copilot.fake:FakeCopilotAccount",
    "xai": "grafient_tui.providers.xai.fake:FakeXaiTeam",
    "google": "grafient_tui.providers.google.fake:FakeBillingExport",
    "elevenlabs": "grafient_tui.providers.elevenlabs.fake:FakeElevenLabsWorkspace",
}

# The settings an integration carries besides its key (providers/base.AccountField), for providers that
# have any: "module:attribute" of a tuple in a module that imports no httpx, so the CLI can grow its
# flags (and `--help` list them) without loading a provider. The provider class declares the same tuple.
_ACCOUNT_FIELDS: dict[str, str] = {
    "copilot": "grafient_tui.providers.copilot.fields:ACCOUNT_FIELDS",
    "xai": "grafient_tui.providers.xai.fields:ACCOUNT_FIELDS",
    "google": "grafient_tui.providers.google.fields:ACCOUNT_FIELDS",
}

# Each provider's name for people, for screens that must not load a provider to show a card.
_TITLES: dict[str, str] = {
    "cursor": "Cursor",
    "anthropic": "Anthropic",
    "openai": "OpenAI",
    "openrouter": "OpenRouter",
    "copilot": "GitHub Copilot",
    "xai": "xAI",
    "google": "Google Gemini",
    "elevenlabs": "ElevenLabs",
}


def _capabilities_table() -> dict[str, Capabilities]:
    """What each provider's figures hold: the report and the screens read them without loading the
    provider, and with it httpx. A provider's class takes its row from here
    (`capabilities = providers.capabilities("cursor")`); a new provider adds its row with its
    registry line. Built on first use, so that importing the registry (the app's first paint,
    `grafient --help`) defines no dataclass."""
    from grafient_tui.providers.base import Capabilities

    return {
        "cursor": Capabilities(
            has_requests=True,
            actor_kind="member",
            covered_by="the plan's included usage",
            has_request_units=True,
            keeps_days=365,
        ),
        "anthropic": Capabilities(has_requests=False, actor_kind="workspace", has_on_demand=False, keeps_days=365),
        "openai": Capabilities(
            has_requests=True,
            actor_kind="project",
            has_on_demand=False,
            requests_label="completion requests",
            keeps_days=180,
        ),
        "openrouter": Capabilities(
            has_requests=True,
            actor_kind="workspace",
            has_on_demand=False,
            has_byok=True,
            has_today=False,
            keeps_days=30,
        ),
        # GitHub's and xAI's reports, Google's billing export and ElevenLabs' credits carry no tokens.
        "copilot": Capabilities(  # the whole actor: copilot/costs.ALL_USERS, a day GitHub does not split
            has_requests=False,
            actor_kind="member",
            has_on_demand=True,
            has_tokens=False,
            whole_actor="(all users)",
            covered_by="the included AI credits",
            keeps_days=730,
        ),
        "xai": Capabilities(
            has_requests=False, actor_kind="api_key", has_on_demand=False, has_tokens=False, keeps_days=90
        ),
        "google": Capabilities(
            has_requests=False,
            actor_kind="project",
            has_on_demand=True,
            has_tokens=False,
            covered_by="credits",
            keeps_days=365,
        ),
        "elevenlabs": Capabilities(
            has_requests=False,
            actor_kind="workspace",
            has_on_demand=False,
            has_tokens=False,
            cost_basis="estimate",
            keeps_days=90,
        ),
    }


_CAPABILITIES: dict[str, Capabilities] = {}


def title(name: str) -> str:
    """`Anthropic` for "anthropic"; a name this version does not know is shown as it is."""
    return _TITLES.get(name, name)


def names() -> tuple[str, ...]:
    """Every registered provider name, in the order they are offered."""
    return tuple(_REGISTRY)


def _load(target: str) -> object:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def get(name: str) -> type[Provider]:
    """The provider class registered under `name`; ConfigError for a name Grafient does not know."""
    target = _REGISTRY.get(name)
    if target is None:
        known = ", ".join(names())
        raise ConfigError(f"unknown provider {name!r} (Grafient knows {known})")
    return _load(target)  # type: ignore[return-value]


def account_fields(name: str) -> tuple[AccountField, ...]:
    """The account settings provider `name` declares (() for most, and for a name this version does
    not know), loaded without the provider itself."""
    target = _ACCOUNT_FIELDS.get(name)
    if target is None:
        return ()
    return _load(target)  # type: ignore[return-value]


def capabilities(name: str) -> Capabilities:
    """What provider `name`'s figures hold, without loading it when the table above lists it (a
    provider it does not list is loaded and asked); ConfigError for a name Grafient does not know."""
    if not _CAPABILITIES:
        _CAPABILITIES.update(_capabilities_table())
    found = _CAPABILITIES.get(name)
    return found if found is not None else get(name).capabilities


def fake(name: str) -> type:
    """The in-memory fake account class of provider `name` (it serves its API as an httpx handler)."""
    target = _FAKES.get(name)
    if target is None:
        raise ConfigError(f"provider {name!r} has no fake")
    return _load(target)  # type: ignore[return-value]


__all__ = ["account_fields", "capabilities", "fake", "get", "names", "title"]

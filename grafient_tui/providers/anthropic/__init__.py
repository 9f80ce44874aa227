"""Anthropic: the Admin API provider (api), its cost rules (costs) and the demo's in-memory organization (fake)."""

from grafient_tui.providers.anthropic.api import (
    DEFAULT_RPM,
    MAX_PAGES,
    MAX_WINDOW_DAYS,
    AnthropicClient,
    organization_fingerprint,
)
from grafient_tui.providers.anthropic.costs import (
    DEFAULT_WORKSPACE,
    MAX_MODELS_PER_WINDOW,
    MAX_WORKSPACES_PER_WINDOW,
    OTHER,
    CostSums,
    TokenSums,
    amount_micro,
)

__all__ = [
    "DEFAULT_RPM",
    "DEFAULT_WORKSPACE",
    "MAX_MODELS_PER_WINDOW",
    "MAX_PAGES",
    "MAX_WINDOW_DAYS",
    "MAX_WORKSPACES_PER_WINDOW",
    "OTHER",
    "AnthropicClient",
    "CostSums",
    "TokenSums",
    "amount_micro",
    "organization_fingerprint",
]

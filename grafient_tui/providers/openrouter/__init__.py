"""OpenRouter: the management-key provider (api), its cost rules (costs) and the demo's account (fake)."""

from grafient_tui.errors import ActivityFormatError, NotManagementKey
from grafient_tui.providers.openrouter.api import (
    DEFAULT_RPM,
    MAX_WINDOW_DAYS,
    REJECTED_SENTENCE,
    WRONG_KIND_SENTENCE,
    OpenRouterClient,
)
from grafient_tui.providers.openrouter.costs import (
    DEFAULT_WORKSPACE,
    MAX_MODELS,
    MAX_ROWS,
    MAX_WORKSPACES,
    MICRO_PER_USD,
    Activity,
    ActivityRow,
    cost_lines,
    days_reported,
    parse_activity,
    workspace_names,
)

__all__ = [
    "DEFAULT_RPM",
    "DEFAULT_WORKSPACE",
    "MAX_MODELS",
    "MAX_ROWS",
    "MAX_WINDOW_DAYS",
    "MAX_WORKSPACES",
    "MICRO_PER_USD",
    "REJECTED_SENTENCE",
    "WRONG_KIND_SENTENCE",
    "Activity",
    "ActivityFormatError",
    "ActivityRow",
    "NotManagementKey",
    "OpenRouterClient",
    "cost_lines",
    "days_reported",
    "parse_activity",
    "workspace_names",
]

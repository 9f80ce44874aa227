"""ElevenLabs: the API-key provider (api), its credits and estimate rules (costs) and the demo's workspace (fake)."""

from grafient_tui.errors import MissingPermissions
from grafient_tui.providers.elevenlabs.api import (
    MAX_WINDOW_DAYS,
    NO_USAGE_SENTENCE,
    REJECTED_SENTENCE,
    RETIRED_SENTENCE,
    ElevenLabsClient,
)
from grafient_tui.providers.elevenlabs.costs import (
    MICRO_PER_CREDIT,
    TIER_PRICES_USD,
    WORKSPACE,
    Plan,
    cost_lines,
    read_plan,
    read_series,
)

__all__ = [
    "MAX_WINDOW_DAYS",
    "MICRO_PER_CREDIT",
    "NO_USAGE_SENTENCE",
    "REJECTED_SENTENCE",
    "RETIRED_SENTENCE",
    "TIER_PRICES_USD",
    "WORKSPACE",
    "ElevenLabsClient",
    "MissingPermissions",
    "Plan",
    "cost_lines",
    "read_plan",
    "read_series",
]

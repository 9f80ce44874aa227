"""OpenAI: the Admin API provider (api), its cost rules (costs) and the demo's in-memory organization (fake)."""

from grafient_tui.errors import ProjectsDenied
from grafient_tui.providers.openai.api import (
    DEFAULT_RPM,
    MAX_PAGES,
    MAX_WINDOW_DAYS,
    USAGE_CHUNK_DAYS,
    OpenAIClient,
    display_names,
    projects_fingerprint,
)
from grafient_tui.providers.openai.costs import (
    MAX_MODELS_PER_WINDOW,
    MAX_PROJECTS,
    MICRO_PER_USD,
    NO_PROJECT,
    OTHER_MODEL,
    day_start,
    model_of,
)

__all__ = [
    "DEFAULT_RPM",
    "MAX_MODELS_PER_WINDOW",
    "MAX_PAGES",
    "MAX_PROJECTS",
    "MAX_WINDOW_DAYS",
    "MICRO_PER_USD",
    "NO_PROJECT",
    "OTHER_MODEL",
    "USAGE_CHUNK_DAYS",
    "OpenAIClient",
    "ProjectsDenied",
    "day_start",
    "display_names",
    "model_of",
    "projects_fingerprint",
]

"""Cursor: the Admin API provider (api), its cost rules (costs) and the demo's in-memory team (fake).

The public names are re-exported here, so `from grafient_tui.providers.cursor import CursorClient,
parse_event` reads as before the package was split.
"""

from grafient_tui.errors import (
    AnswerTooLarge,
    ApiTimeout,
    BadResponse,
    EventFormatError,
    KeyRejected,
    LimitExceeded,
    NotEnterprise,
    RateLimited,
    RequestRejected,
    ServerError,
    Unreachable,
)
from grafient_tui.errors import ProviderError as CursorError
from grafient_tui.providers.base import RequestStats
from grafient_tui.providers.cursor.api import (
    MAX_MEMBERS_PER_WINDOW,
    MAX_MODELS_PER_WINDOW,
    MAX_PAGES,
    MAX_WINDOW_DAYS,
    MAX_WINDOW_MS,
    NOT_ENTERPRISE_SENTENCE,
    PAGE_SIZE,
    CursorClient,
    TeamInfo,
    team_fingerprint,
)
from grafient_tui.providers.cursor.costs import (
    DAY_MS,
    MICRO,
    UNATTRIBUTED,
    UsageEvent,
    cost_lines,
    day_bounds_ms,
    event_cost_micro,
    not_charged,
    on_demand_kind,
    parse_event,
)
from grafient_tui.providers.http import TokenBucket, bucket_for_key
from grafient_tui.secret import key_hint

__all__ = [
    "DAY_MS",
    "MAX_MEMBERS_PER_WINDOW",
    "MAX_MODELS_PER_WINDOW",
    "MAX_PAGES",
    "MAX_WINDOW_DAYS",
    "MAX_WINDOW_MS",
    "MICRO",
    "NOT_ENTERPRISE_SENTENCE",
    "PAGE_SIZE",
    "UNATTRIBUTED",
    "AnswerTooLarge",
    "ApiTimeout",
    "BadResponse",
    "CursorClient",
    "CursorError",
    "EventFormatError",
    "KeyRejected",
    "LimitExceeded",
    "NotEnterprise",
    "RateLimited",
    "RequestRejected",
    "RequestStats",
    "ServerError",
    "TeamInfo",
    "TokenBucket",
    "Unreachable",
    "UsageEvent",
    "bucket_for_key",
    "cost_lines",
    "day_bounds_ms",
    "event_cost_micro",
    "key_hint",
    "not_charged",
    "on_demand_kind",
    "parse_event",
    "team_fingerprint",
]

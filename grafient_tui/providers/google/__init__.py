"""Google Gemini: spend read from the Cloud Billing detailed export in BigQuery (api), the service-account
sign-in (auth), the query and its cost rules (costs) and the demo's billing account (fake)."""

from grafient_tui.providers.google.api import (
    MAX_WINDOW_DAYS,
    GoogleBillingClient,
    TokenExpired,
    table_fingerprint,
)
from grafient_tui.providers.google.auth import (
    NOT_A_KEY,
    NotAServiceAccountKey,
    ServiceAccount,
    parse_service_account,
    signed_assertion,
)
from grafient_tui.providers.google.costs import (
    FIELDS,
    NO_PROJECT,
    QUERY,
    TABLE,
    ExportFormatError,
    ExportRow,
    cost_lines,
    model_of,
    query_body,
    read_page,
)

__all__ = [
    "FIELDS",
    "MAX_WINDOW_DAYS",
    "NOT_A_KEY",
    "NO_PROJECT",
    "QUERY",
    "TABLE",
    "ExportFormatError",
    "ExportRow",
    "GoogleBillingClient",
    "NotAServiceAccountKey",
    "ServiceAccount",
    "TokenExpired",
    "cost_lines",
    "model_of",
    "parse_service_account",
    "query_body",
    "read_page",
    "signed_assertion",
    "table_fingerprint",
]

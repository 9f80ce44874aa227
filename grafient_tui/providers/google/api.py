"""Google Gemini spend, read from the Cloud Billing detailed export in BigQuery, as a Provider.

Pacing, retries, deadlines, size caps and error sentences come from the shared HTTP client (two of
them: Google's token endpoint and BigQuery); what is Google's own is here: a service-account key
traded for an access token (auth.py), the table named by the integration, one `jobs.query` per
window polled while `jobComplete` is false and paged by `pageToken`, and refusals told by BigQuery's
`reason`, not only its status (a 403 `rateLimitExceeded` is waited out, never a refused key).

Choices where Google's documentation is silent (shared/google-billing-export.md):
- The access token is renewed a minute before `expires_in` runs out; a 401 from BigQuery gets a
  new token once, then fails.
- `location` is left out of `jobs.query` (BigQuery finds the dataset's); `getQueryResults` sends the
  one the job reference names.
- An unfinished query is polled at most MAX_POLLS times (each waits up to POLL_TIMEOUT_MS at
  BigQuery); the sync's own time limit bounds it too.
- The validation's query is for yesterday, in the query project: it proves Job User there and read
  access to the data, for the 10 MB minimum.
- The account's fingerprint is the Cloud Billing account, which Google writes into the export table's
  name (gcp_billing_export_resource_v1_<ACCOUNT ID, dashes as underscores>): two tables of one account
  (an export moved to another dataset, a copy) are one account, refused as already connected. A table
  named otherwise (a view, a renamed copy) is its own account: the table is the fingerprint.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any, Unpack

import httpx

from grafient_tui import providers
from grafient_tui.errors import (
    AccessDenied,
    BadResponse,
    KeyRejected,
    LimitExceeded,
    ProviderError,
    RequestRejected,
    ShapeError,
    TokenExpired,
)
from grafient_tui.providers.base import (
    AccountInfo,
    CostBasis,
    CostLine,
    Limits,
    check_account,
)
from grafient_tui.providers.google.auth import GRANT_TYPE, ServiceAccount, parse_service_account, signed_assertion
from grafient_tui.providers.google.costs import (
    SAVED_NOTHING,
    STANDARD_TABLE,
    ExportSums,
    JobReference,
    QueryPage,
    cost_lines,
    query_body,
    read_page,
    unreadable,
)
from grafient_tui.providers.google.fields import ACCOUNT_FIELDS
from grafient_tui.providers.http_provider import BearerAuth, HttpProvider, ProviderKeywords, Wiring
from grafient_tui.providers.jsonstream import JsonObject
from grafient_tui.secret import remember_secret

if TYPE_CHECKING:
    from grafient_tui.config import Settings

DEFAULT_TOKEN_URL = "https://oauth2.googleapis.com/token"
DEFAULT_RPM = 60  # BigQuery's quotas are far above a sync's few calls; this only spaces a runaway
MAX_WINDOW_DAYS = 366  # one query for the whole range a sync needs (the plan's 365 days and today)
PAGE_ROWS = 10_000
QUERY_TIMEOUT_MS = 20_000
POLL_TIMEOUT_MS = 20_000
MAX_POLLS = 90  # half an hour of 20-second waits at BigQuery
MAX_PAGES = 200  # PAGE_ROWS a page: two million rows, four times MAX_ROWS
TOKEN_MARGIN = 60.0  # seconds before its end a token is renewed
VALIDATE_ATTEMPTS = 3

log = logging.getLogger("grafient.google")

KEY_REFUSED = (
    "Google Gemini: Google refused this service-account key (HTTP {status}): it was deleted or rotated, or its "
    "service account was removed; create a new JSON key in IAM & Admin → Service accounts → Keys"
)
CLOCK_OFF = (
    "Google Gemini: Google refused the sign-in because this machine's clock is off by more than a few minutes; "
    "set the clock right (NTP) and try again"
)
SCOPE_REFUSED = "Google Gemini: Google refused the BigQuery read-only scope for this service-account key"


def _token_refusal(status: int, path: str, message: str) -> ProviderError | None:
    # Our own sentences only: `error_description` is text from outside (the client gives it as
    # "error: description", scrubbed), read to choose a sentence, never shown.
    folded = message.casefold()
    if message:
        log.debug("token endpoint -> HTTP %d: %s", status, message)
    if "short-lived" in folded or "timeframe" in folded:
        return KeyRejected(CLOCK_OFF)
    if folded.startswith("invalid_scope"):
        return KeyRejected(SCOPE_REFUSED)
    return KeyRejected(KEY_REFUSED.format(status=status))


def _reasons(data: Any) -> set[str]:
    """The `reason`s of a BigQuery error body ({"error": {"errors": [{"reason": ...}]}})."""
    error = data.get("error") if type(data) is dict else None
    errors = error.get("errors") if type(error) is dict else None
    if type(errors) is not list:
        return set()
    return {e["reason"] for e in errors if type(e) is dict and type(e.get("reason")) is str}


def _is_rate_limit(status: int, data: Any) -> bool:
    """A 403 (or any 4xx) whose reason is a quota or rate limit is waited out, not a refusal."""
    return bool(_reasons(data) & {"rateLimitExceeded", "quotaExceeded"})


# The billing account's id in the name Google gives an export table (the standard export's too).
_ACCOUNT_IN_TABLE = re.compile(
    r"gcp_billing_export_(?:resource_)?v1_([0-9A-Fa-f]{6})_([0-9A-Fa-f]{6})_([0-9A-Fa-f]{6})"
)


def billing_account(table: str) -> str | None:
    """The Cloud Billing account id (`01A2B3-C4D5E6-F7A8B9`) a table's name carries, or None."""
    found = _ACCOUNT_IN_TABLE.fullmatch(table.rsplit(".", 1)[-1])
    return "-".join(found.groups()).upper() if found else None


def account_fingerprint(table: str) -> str:
    """The same billing account gives the same fingerprint, whichever of its export tables and keys
    read it; a table whose name carries no account is an account of its own."""
    account = billing_account(table)
    if account is not None:
        return hashlib.sha256(f"google-billing-account:{account}".encode()).hexdigest()
    return hashlib.sha256(f"google-billing-export:{table}".encode()).hexdigest()


class GoogleBillingClient(HttpProvider):
    """The calls Grafient makes to Google (a token, then BigQuery), with pacing, retries and sentences."""

    name = "google"
    title = providers.title(name)
    key_kind = "Service-account JSON key, billing export"
    key_help = (
        "A JSON key of a service account with BigQuery Data Viewer on the billing export's dataset and "
        "BigQuery Job User on the query project (IAM & Admin → Service accounts → Keys), and the detailed "
        "export's table, PROJECT.DATASET.gcp_billing_export_resource_v1_…"
    )
    key_placeholder = '{"type": "service_account", … } (paste the whole JSON key)'
    limits = Limits(
        max_window_days=MAX_WINDOW_DAYS,
        history_days={"free": 30, "pro": 365, "ultimate": 365},
        max_history_days=365,
        settle_days=5,
        default_rpm=DEFAULT_RPM,
        settle_month=True,
        one_window=True,
    )
    capabilities = providers.capabilities(name)
    account_fields = ACCOUNT_FIELDS
    api_title = "Google BigQuery"
    key_document = True

    @classmethod
    def check_key_text(cls, text: str) -> None:
        """Not JSON, not a service account, a field missing, a key that cannot be read: refused here."""
        parse_service_account(text)

    def __init__(
        self,
        api_key: str,
        *,
        account: Mapping[str, str],
        token_url: str = DEFAULT_TOKEN_URL,
        monotonic: Callable[[], float] = time.monotonic,
        **options: Unpack[ProviderKeywords],
    ) -> None:
        """Two clients of the same options: the token endpoint's and BigQuery's."""
        self._account: ServiceAccount = parse_service_account(api_key)  # refused here, before any call
        fields = check_account(ACCOUNT_FIELDS, account, title=self.title)  # ConfigError when they do not fit
        self.table = fields["table"]
        # Default: the key's own project (the contract's), else the table's.
        self.query_project = fields.get("query_project") or self._account.project_id or self.table.split(".", 1)[0]
        self._auth = BearerAuth()
        super().__init__(api_key, **options)
        token = httpx.URL(token_url)
        self._token_path = token.raw_path.decode("ascii") or "/"
        self._oauth = self.client(
            str(token.copy_with(raw_path=b"", query=None, fragment=None)),
            title="Google sign-in",
            refusal=_token_refusal,
        )
        self._monotonic = monotonic
        self._token_until = 0.0
        self._currency: str | None = None

    def wiring(self) -> Wiring:
        return {
            "auth": self._auth,
            "refusal": self._refusal,
            "rate_limit_sign": _is_rate_limit,
        }

    @classmethod
    def settings_keywords(cls, settings: Settings) -> dict[str, Any]:
        return {"token_url": settings.api_url("google_token")}

    # ------------------------------------------------------------------ refusals

    def _refusal(self, status: int, path: str, message: str) -> ProviderError | None:
        if message:  # scrubbed of the key by the client; for whoever reads the debug log
            log.debug("%s -> HTTP %d: %s", path, status, message)
        if status == 401:
            return TokenExpired("Google BigQuery refused the access token (HTTP 401)")
        if status == 403 and "jobs.create" in message:
            return AccessDenied(
                f"Google Gemini: the service account needs BigQuery Job User on project {self.query_project} "
                "to run the query, or pass --query-project with a project where it has it"
            )
        if status == 403:
            return AccessDenied(
                f"Google Gemini: the service account cannot read the table {self.table}: give it BigQuery "
                "Data Viewer on the export's dataset (or the table)"
            )
        if status == 404 and "/queries/" in path:
            return RequestRejected("Google BigQuery lost the query job (HTTP 404); sync again", status=404)
        if status == 404:
            return RequestRejected(
                f"Google Gemini: BigQuery does not know the table {self.table} (HTTP 404): check --table "
                "(PROJECT.DATASET.TABLE of the detailed export); a new export takes a few hours to write its "
                "first rows",
                status=404,
            )
        return RequestRejected(f"Google BigQuery refused Grafient's request (HTTP {status})", status=status)

    # ------------------------------------------------------------------ the token

    async def _sign_in(self, attempts: int | None = None) -> None:
        """An access token for BigQuery, reused while it has more than a minute left."""
        if self._auth.header is not None and self._monotonic() < self._token_until:
            return
        started = self._monotonic()
        assertion = signed_assertion(self._account, self.options.wall_clock())
        answer = await self._oauth.request(
            "POST", self._token_path, None, attempts, form={"grant_type": GRANT_TYPE, "assertion": assertion}
        )
        token, lifetime = answer.get("access_token"), answer.get("expires_in")
        if type(token) is not str or not (8 <= len(token) <= 4096) or not token.isascii() or not token.isprintable():
            raise BadResponse(
                "Google's token endpoint answered without an access token; is GRAFIENT_GOOGLE_TOKEN_URL right?"
            )
        if type(lifetime) is not int or lifetime <= 0:
            lifetime = 3600 if lifetime is None else 0  # absent: Google's usual hour; nonsense: use it once
        remember_secret(token)
        self._auth.header = f"Bearer {token}"
        self._token_until = started + max(0.0, min(lifetime, 86_400) - TOKEN_MARGIN)

    async def _bigquery(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        attempts: int | None = None,
        *,
        params: Any = None,
    ) -> JsonObject:
        """A BigQuery call with a current token, its answer walked (never decoded whole: a page of rows
        is read row by row); on a 401, one new token and one more try."""
        await self._sign_in(attempts)
        try:
            return await self._api.request_json(method, path, body, attempts, params=params)
        except TokenExpired:
            self._auth.header = None
            await self._sign_in(attempts)
            return await self._api.request_json(method, path, body, attempts, params=params)

    # ------------------------------------------------------------------ the key

    def _table_path(self) -> str:
        project, dataset, table = self.table.split(".")
        return f"/bigquery/v2/projects/{project}/datasets/{dataset}/tables/{table}"

    async def validate(self) -> AccountInfo:
        """The key (read above), a token, the table (the detailed export), then yesterday's query."""
        attempts = min(VALIDATE_ATTEMPTS, self._api.max_attempts)
        described = await self._bigquery("GET", self._table_path(), None, attempts)
        schema = described.get("schema")  # a table's schema is a few kB: decoded whole
        fields = schema.get("fields") if type(schema) is dict else None
        if type(fields) is not list:
            raise BadResponse("Google BigQuery described the table without a schema; is GRAFIENT_GOOGLE_API_URL right?")
        if not any(type(f) is dict and f.get("name") == "resource" for f in fields):
            standard = STANDARD_TABLE.fullmatch(self.table.rsplit(".", 1)[1]) is not None
            raise AccessDenied(
                "Google Gemini: this is the standard export"
                + ("" if standard else " (its schema has no resource field)")
                + "; enable Detailed usage cost data and use its gcp_billing_export_resource_v1_… table"
            )
        yesterday = self.utc_today() - datetime.timedelta(days=1)
        sums = await self._query(yesterday, yesterday, attempts)
        return AccountInfo(members=sums.projects, fingerprint=account_fingerprint(self.table))

    # ------------------------------------------------------------------ the query

    async def _query(self, first: datetime.date, last: datetime.date, attempts: int | None = None) -> ExportSums:
        """Every result row for first..last, summed as it arrives: the query, polled until it finishes,
        then page after page. Each page's text is let go before the next is asked for."""
        body = query_body(self.table, first, last, max_results=PAGE_ROWS, timeout_ms=QUERY_TIMEOUT_MS)
        path = f"/bigquery/v2/projects/{self.query_project}/queries"
        sums = ExportSums()
        page = self._read(await self._bigquery("POST", path, body, attempts), first, last, sums)
        polls = 0
        while not page.complete:
            polls += 1
            if polls > MAX_POLLS:
                raise LimitExceeded(
                    f"Google BigQuery had not finished the query after {MAX_POLLS} polls; {SAVED_NOTHING}"
                )
            page = self._read(await self._results(page.job, None, attempts), first, last, sums)
        total, job = page.total_rows, page.job
        seen: set[str] = set()
        pages = 1
        while page.page_token is not None:
            if page.page_token in seen:
                raise BadResponse(unreadable("a pageToken seen before"))
            seen.add(page.page_token)
            pages += 1
            if pages > MAX_PAGES or job is None:
                raise LimitExceeded(
                    f"Google BigQuery still had more pages after {MAX_PAGES}; {SAVED_NOTHING}"
                    if job is not None
                    else f"Google BigQuery paged a query without its jobReference; {SAVED_NOTHING}"
                )
            page = self._read(await self._results(job, page.page_token, attempts), first, last, sums)
            if not page.complete:
                raise BadResponse(unreadable("a page of a finished query that says it is unfinished"))
        if sums.rows != total:
            raise BadResponse(unreadable(f"{sums.rows:,} rows where it announced {total:,}"))
        self._currency = sums.currency
        return sums

    @staticmethod
    def _read(answer: JsonObject, first: datetime.date, last: datetime.date, sums: ExportSums) -> QueryPage:
        try:
            return read_page(answer, first, last, sums)
        except ShapeError as exc:
            detail = exc.detail
        raise BadResponse(unreadable(detail))

    async def _results(self, job: JobReference | None, token: str | None, attempts: int | None) -> JsonObject:
        assert job is not None  # read_page gives every unfinished answer its job
        params: dict[str, str | int] = {"maxResults": PAGE_ROWS, "timeoutMs": POLL_TIMEOUT_MS}
        if job.location is not None:
            params["location"] = job.location
        if token is not None:
            params["pageToken"] = token
        path = f"/bigquery/v2/projects/{job.project_id}/queries/{job.job_id}"
        return await self._bigquery("GET", path, None, attempts, params=params)

    def cost_lines(self, first: datetime.date, last: datetime.date) -> AsyncIterator[list[CostLine]]:
        """The UTC days first..last as cost lines, from one query. Checked here, before anything is sent."""
        if last < first:
            raise ValueError("last is before first")
        if (last - first).days + 1 > MAX_WINDOW_DAYS:
            raise ValueError(f"Google is read at most {MAX_WINDOW_DAYS} days per query")
        return self._cost_lines(first, last)

    async def _cost_lines(self, first: datetime.date, last: datetime.date) -> AsyncIterator[list[CostLine]]:
        sums = await self._query(first, last)
        try:
            lines = cost_lines(sums)
        except ShapeError as exc:
            raise BadResponse(unreadable(exc.detail)) from None
        if lines:
            yield lines

    def cost_basis(self) -> CostBasis | None:
        """A non-USD account's dollars are converted at Google's own daily rate, and say so."""
        if self._currency is None or self._currency == "USD":
            return None
        return CostBasis(note=f"converted from {self._currency} at Google's daily rate", currency=self._currency)

"""The OpenAI Admin API (Costs and Usage) as a Provider: key check, costs and completions usage per window.

Pacing, retries, deadlines, size caps and error sentences come from the shared HTTP client; what
is OpenAI's own is here: Bearer auth, deciding a 401/403 by whether its message names the
`api.usage.read` scope (never showing a 401's message, which quotes a masked piece of the key),
`has_more`/`next_page` paging, project names for the actors, and what a window may make us hold.

Choices where OpenAI's documentation is silent (see /work/shared/openai-admin-api.md):
- Rate limits are not published: DEFAULT_RPM is 30, half of a typical "once a second" API budget,
  which still reads a 180-day window (1 costs page, 6 usage pages, a projects page) in one burst.
- A 200 page without a `data` list or a boolean `has_more`, `has_more` without a usable
  `next_page`, a cursor seen before, or a second bucket for a day already read is malformed:
  the window fails and nothing of it is saved (days are written as $0 only from complete answers).
- Requests and tokens come from /usage/completions grouped by model and project, so the per-project
  split has them too. If that endpoint fails while the costs came (any ProviderError but a rejected
  key), the costs are kept and their requests and tokens are unknown (None), never 0.
- Project names come from /projects (archived included). Two projects with the same name, or one
  named "No project", are told apart by their id. A key that may read costs but not list projects
  (a restricted Admin key) still syncs, with project ids for names and 0 members.
- Members are the organization's projects that are not archived; the fingerprint is the sha256 of
  the sorted ids of all its projects (the costs answer names no organization).
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Unpack

from grafient_tui import providers
from grafient_tui.errors import AccessDenied, BadResponse, KeyRejected, LimitExceeded, ProjectsDenied, ProviderError
from grafient_tui.providers.base import (
    AccountInfo,
    CostLine,
    Limits,
    distinct_names,
)
from grafient_tui.providers.http_provider import HttpProvider, ProviderKeywords, Wiring
from grafient_tui.providers.openai.costs import (
    MAX_PROJECTS,
    NO_PROJECT,
    CostSums,
    FormatError,
    Seen,
    UsageSums,
    add_cost_result,
    add_usage_result,
    bucket_day,
    cost_lines,
    day_start,
    usage_lines,
)
from grafient_tui.untrusted import stored_name

MAX_WINDOW_DAYS = 180  # the costs endpoint's largest page of daily buckets: one call per window
USAGE_CHUNK_DAYS = 31  # the usage endpoint's largest page of daily buckets
DEFAULT_RPM = 30
COSTS_PATH = "/v1/organization/costs"
USAGE_PATH = "/v1/organization/usage/completions"
PROJECTS_PATH = "/v1/organization/projects"
PROJECTS_PAGE = 100
# Limits on what one window of answers may make us hold. A real organization is far inside them;
# past them the answer is broken or hostile, and the window fails with one sentence.
MAX_PAGES = 1000  # of one paged call
VALIDATE_ATTEMPTS = 3
USAGE_SCOPE = "api.usage.read"
NOT_SAVED = "nothing from this window was saved"

log = logging.getLogger("grafient.openai")


def _names_scope(message: str) -> bool:
    folded = message.casefold()
    return "missing scope" in folded or "insufficient permissions" in folded


def _refusal_for(api_key: str) -> Callable[[int, str, str], ProviderError | None]:
    """OpenAI's 401 and 403 as our sentences. Whether a key of the wrong kind gets 401 or 403 is
    ambiguous, so the message decides; it is read, never shown (a 401 quotes a masked key)."""
    project_key = api_key.startswith("sk-proj-")
    admin_shape = api_key.startswith("sk-admin-")

    def refusal(status: int, path: str, message: str) -> ProviderError | None:
        if status not in (401, 403):
            return None
        if USAGE_SCOPE in message or (_names_scope(message) and path != PROJECTS_PATH):
            what = "read usage (requests and tokens)" if path == USAGE_PATH else "read costs"
            if project_key:
                return AccessDenied(
                    f"OpenAI: this is a project key (sk-proj-…), which cannot {what}; create an Admin key with "
                    f"Read only permission (it needs the {USAGE_SCOPE} scope)"
                )
            return AccessDenied(
                f"OpenAI: this key cannot {what}; create an Admin key with Read only permission "
                f"(it needs the {USAGE_SCOPE} scope)"
            )
        if path == PROJECTS_PATH and (_names_scope(message) or status == 403):
            return ProjectsDenied("OpenAI: this key may not list the organization's projects")
        if status == 401:
            hint = "" if admin_shape else " (Admin keys start sk-admin-)"
            return KeyRejected(
                f"OpenAI rejected this key as invalid or revoked; use an Admin key with Read only permission{hint}"
            )
        return AccessDenied(
            f"OpenAI refused this key access to {path} (HTTP 403); use an Admin key with Read only permission"
        )

    return refusal


def projects_fingerprint(project_ids: list[str]) -> str | None:
    """A digest of the organization's project ids (archived included), or None when it lists none."""
    if not project_ids:
        return None
    return hashlib.sha256("\n".join(sorted(set(project_ids))).encode("utf-8", "surrogatepass")).hexdigest()


def display_names(projects: list[tuple[str, str, bool]]) -> dict[str, str]:
    """Project id -> the name to show: its own, unless another project (or the projectless costs)
    shares it; then the name with its id, so their costs never merge under one name."""
    return distinct_names({pid: name for pid, name, _ in projects}, (NO_PROJECT,))


class OpenAIClient(HttpProvider):
    """The Admin API calls Grafient makes, with pacing, retries and readable errors."""

    name = "openai"
    title = providers.title(name)
    key_kind = "Admin key, Read only"
    key_help = (
        "An Admin key of your OpenAI organization with Read only permission: platform.openai.com → "
        "Settings → Organization → Admin keys (an Owner creates it; shown once). It needs the "
        "api.usage.read scope; project keys (sk-proj-…) cannot read costs."
    )
    key_placeholder = "sk-admin-… (Organization settings → Admin keys)"
    limits = Limits(
        max_window_days=MAX_WINDOW_DAYS,
        history_days={"free": 30, "pro": 180, "ultimate": 180},
        max_history_days=180,
        settle_days=3,
        default_rpm=DEFAULT_RPM,
    )
    capabilities = providers.capabilities(name)

    def __init__(self, api_key: str, **options: Unpack[ProviderKeywords]) -> None:
        super().__init__(api_key, **options)
        # id -> display name, read once per client (one sync); None: the key may not list projects
        self._names: dict[str, str] | None = None
        self._projects: list[tuple[str, str, bool]] | None = None

    def wiring(self) -> Wiring:
        return {"headers": {"Authorization": f"Bearer {self._key}"}, "refusal": _refusal_for(self._key)}

    # ------------------------------------------------------------------ calls

    async def validate(self) -> AccountInfo:
        """One day of costs (it proves api.usage.read itself), then the projects to count."""
        today = self.utc_today()
        params = [
            ("start_time", day_start(today - datetime.timedelta(days=1))),
            ("end_time", day_start(today)),
            ("limit", 1),
        ]
        data = await self._api.request(
            "GET", COSTS_PATH, None, min(VALIDATE_ATTEMPTS, self._api.max_attempts), params=params
        )
        # `{}` or any other 200 without the documented list is not a yes: a proxy, a captive portal
        # or a wrong GRAFIENT_OPENAI_API_URL can answer 200 to anything.
        if type(data.get("data")) is not list:
            raise BadResponse(
                f"the OpenAI API sent an unexpected answer to {COSTS_PATH} (no data list); "
                "is GRAFIENT_OPENAI_API_URL right?"
            )
        projects = await self._project_list()
        if projects is None:
            return AccountInfo(members=0)
        active = sum(1 for _, _, archived in projects if not archived)
        return AccountInfo(members=active, fingerprint=projects_fingerprint([pid for pid, _, _ in projects]))

    async def _project_list(self) -> list[tuple[str, str, bool]] | None:
        """(id, name, archived) of every project, archived included; None when the key may not list them."""
        if self._projects is not None:
            return self._projects
        projects: list[tuple[str, str, bool]] = []
        seen_cursors: set[str] = set()
        params: list[tuple[str, Any]] = [("include_archived", "true"), ("limit", PROJECTS_PAGE)]
        for _ in range(MAX_PAGES):
            try:
                data = await self._api.request_json("GET", PROJECTS_PATH, params=params)
            except ProjectsDenied:
                log.info("this key may not list projects; project ids stand in for their names")
                return None
            rows = data.array("data")
            if rows is None:
                raise BadResponse(f"the OpenAI API answered {PROJECTS_PATH} without a data list; {NOT_SAVED}")
            listed = 0
            # Only (id, name, archived) is kept, the name cut as it arrives, and the count is checked on
            # the project that passes it: a page of a million projects never sits in memory.
            for row in rows.values():
                if type(row) is not dict or type(row.get("id")) is not str:
                    raise BadResponse(f"the OpenAI API sent a project without an id; {NOT_SAVED}")
                name = row.get("name")
                name = name if type(name) is str and name.strip() else row["id"]
                archived = row.get("status") == "archived" or row.get("archived_at") is not None
                projects.append((row["id"], stored_name(name), archived))
                listed += 1
                if len(projects) > MAX_PROJECTS:
                    raise LimitExceeded(
                        f"the OpenAI API listed more than {MAX_PROJECTS:,} projects, more than Grafient keeps; "
                        f"{NOT_SAVED}"
                    )
            if data.get("has_more") is not True:
                break
            after = data.get("last_id")
            if type(after) is not str or not after:
                after = projects[-1][0] if listed else None
            if after is None or after in seen_cursors:
                raise BadResponse(f"the OpenAI API sent {PROJECTS_PATH} pages that do not follow on; {NOT_SAVED}")
            seen_cursors.add(after)
            params = [("include_archived", "true"), ("limit", PROJECTS_PAGE), ("after", after)]
        else:
            raise LimitExceeded(f"the OpenAI API still listed more projects after {MAX_PAGES:,} pages; {NOT_SAVED}")
        self._projects = projects
        return projects

    async def _project_names(self) -> dict[str, str]:
        if self._names is None:
            projects = await self._project_list()
            self._names = display_names(projects or [])
        return self._names

    async def _buckets(
        self, path: str, params: list[tuple[str, Any]], first: datetime.date, last: datetime.date
    ) -> AsyncIterator[tuple[datetime.date, Iterator[Any]]]:
        """(day, results) of every daily bucket of first..last, following `next_page` while `has_more`;
        the results are read one at a time (see jsonstream), so a page costs its text, not 23 times it.
        A page of the wrong shape raises BadResponse: a window is read whole or not at all."""
        seen_cursors: set[str] = set()
        seen_days: set[datetime.date] = set()
        page: str | None = None
        for _ in range(MAX_PAGES):
            data = await self._api.request_json(
                "GET", path, params=params if page is None else [*params, ("page", page)]
            )
            buckets = data.array("data")
            has_more = data.get("has_more")
            if buckets is None or type(has_more) is not bool:
                raise BadResponse(f"the OpenAI API answered {path} without a data list and has_more; {NOT_SAVED}")
            for bucket in buckets.objects():
                try:
                    day, results = bucket_day(bucket, first, last)
                except FormatError as exc:
                    raise BadResponse(f"the OpenAI API sent {exc.detail} to {path}; {NOT_SAVED}") from None
                if day in seen_days:
                    raise BadResponse(f"the OpenAI API sent two buckets for {day.isoformat()} to {path}; {NOT_SAVED}")
                seen_days.add(day)
                yield day, results
            if not has_more:
                return
            page = data.get("next_page")
            del data, buckets  # the page's text goes before the next one arrives (its last bucket too)
            bucket = ""
            if type(page) is not str or not page or page in seen_cursors:
                raise BadResponse(
                    f"the OpenAI API sent {path} pages that do not follow on (has_more without a "
                    f"new next_page); {NOT_SAVED}"
                )
            seen_cursors.add(page)
        raise LimitExceeded(
            f"the OpenAI API still reported more of {path} after {MAX_PAGES:,} pages for one window; {NOT_SAVED}"
        )

    async def window_costs(self, first: datetime.date, last: datetime.date) -> CostSums:
        """Exact dollars per day, model (line item) and project id of first..last."""
        sums: CostSums = {}
        seen = Seen(COSTS_PATH)
        params = [
            ("start_time", day_start(first)),
            ("end_time", day_start(last + datetime.timedelta(days=1))),
            ("bucket_width", "1d"),
            ("group_by[]", "line_item"),
            ("group_by[]", "project_id"),
            ("limit", MAX_WINDOW_DAYS),
        ]
        async for day, results in self._buckets(COSTS_PATH, params, first, last):
            detail = ""
            try:
                for result in results:
                    add_cost_result(sums, day, result, seen)
            except FormatError as exc:
                detail = exc.detail
            if detail:
                raise BadResponse(f"the OpenAI API sent {detail} to {COSTS_PATH}; {NOT_SAVED}")
        return sums

    async def window_usage(self, first: datetime.date, last: datetime.date) -> UsageSums:
        """Requests and tokens per day, model and project id of first..last, in 31-day calls."""
        sums: UsageSums = {}
        seen = Seen(USAGE_PATH)
        start = first
        while start <= last:
            end = min(last, start + datetime.timedelta(days=USAGE_CHUNK_DAYS - 1))
            params = [
                ("start_time", day_start(start)),
                ("end_time", day_start(end + datetime.timedelta(days=1))),
                ("bucket_width", "1d"),
                ("group_by[]", "model"),
                ("group_by[]", "project_id"),
                ("limit", USAGE_CHUNK_DAYS),
            ]
            async for day, results in self._buckets(USAGE_PATH, params, start, end):
                detail = ""
                try:
                    for result in results:
                        add_usage_result(sums, day, result, seen)
                except FormatError as exc:
                    detail = exc.detail
                if detail:
                    raise BadResponse(f"the OpenAI API sent {detail} to {USAGE_PATH}; {NOT_SAVED}")
            start = end + datetime.timedelta(days=1)
        return sums

    # ------------------------------------------------------------------ the Provider's window

    def cost_lines(self, first: datetime.date, last: datetime.date) -> AsyncIterator[list[CostLine]]:
        """The UTC days first..last as cost lines (money by line item and project) and usage lines
        (completion requests and tokens by model and project, no money)."""
        if last < first:
            raise ValueError("last is before first")
        if (last - first).days + 1 > MAX_WINDOW_DAYS:
            raise ValueError(f"the OpenAI API serves at most {MAX_WINDOW_DAYS} days per request")
        return self._cost_lines(first, last)

    async def _cost_lines(self, first: datetime.date, last: datetime.date) -> AsyncIterator[list[CostLine]]:
        costs = await self.window_costs(first, last)
        names = await self._project_names()
        try:
            usage: UsageSums | None = await self.window_usage(first, last)
        except KeyRejected:
            raise
        except ProviderError as exc:
            # The costs are whole without it; requests and tokens become unknown, not 0.
            log.warning("kept the costs of %s..%s without requests and tokens: %s", first, last, exc.sentence)
            usage = None
        lines = cost_lines(costs, names, usage_known=usage is not None)
        if lines:
            yield lines
        if usage:
            yield usage_lines(usage, names)

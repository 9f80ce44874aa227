"""Google's cost rules: the query Grafient sends to the billing export, its answer read exactly, and
the rows summed into cost lines (shared/google-billing-export.md).

Money: BigQuery sums `cost` and `credits.amount` as NUMERIC and sends decimal strings, in the
billing account's currency, read by the one money parser (money.exact_amount: exact, refused past any
plausible bill). Per row: bill = cost + credits (credits are negative), converted to USD by dividing
by the row's `usd_rate`, at 60 significant digits, summed per day, model and project, and rounded
once, half to even, at the micro-cent (1e-8 USD; money.micro_of, bounded per line). Never through a
binary float.

A page is walked row by row (jsonstream), never decoded whole, and each row is summed as it arrives
(ExportSums): what a window keeps is its sums and each project's id -> name, never its rows. Rows,
projects and the distinct (day, model, project) sums are counted as they arrive.

Each (day, model, project) gives two cost lines: the bill (what the invoice charges, after every
credit) as the on-demand part, and the credits (as a positive amount) as the included part, so the
day's total is the usage value before credits and both figures are kept.

Pure: no network, no Textual. Every shape error is a ShapeError (its `detail` never quotes a value):
the client completes the sentence (`unreadable`).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Any

from grafient_tui.errors import MAX_SUMS_PER_WINDOW, ShapeError, too_many_sums
from grafient_tui.money import BadAmount, exact_amount
from grafient_tui.providers import amounts
from grafient_tui.providers.base import CostLine, distinct_names
from grafient_tui.providers.google.fields import PROJECT_PATTERN, TABLE_PATTERN
from grafient_tui.providers.jsonstream import JsonObject
from grafient_tui.untrusted import stored_name

MICRO_PER_USD = 100_000_000
NO_PROJECT = "No project"  # the actor of charges tied to no project (some credits and adjustments)
SAVED_NOTHING = "nothing from this window was saved"
MAX_ROWS = 500_000  # result rows of one query: a year of a busy account is a few tens of thousands
MAX_PROJECTS = 10_000  # projects one query's rows may name (id -> name kept for each)

TABLE = re.compile(TABLE_PATTERN)
PROJECT = re.compile(PROJECT_PATTERN)
STANDARD_TABLE = re.compile(r"gcp_billing_export_v1_[A-Za-z0-9_]+")

# The query, verbatim from the contract apart from whitespace; {table} is checked against TABLE
# first (BigQuery cannot take a table as a parameter), the two days are parameters.
QUERY = """SELECT
  FORMAT_DATE('%F', DATE(usage_start_time)) AS day,
  service.description AS service,
  TRIM(sku.description) AS sku,
  project.id AS project_id,
  ANY_VALUE(project.name) AS project_name,
  currency,
  CAST(currency_conversion_rate AS STRING) AS usd_rate,
  SUM(CAST(cost AS NUMERIC(38, 9))) AS cost,
  SUM(IFNULL((SELECT SUM(CAST(c.amount AS NUMERIC(38, 9))) FROM UNNEST(credits) AS c), 0)) AS credits,
  COUNT(*) AS row_count
FROM `{table}`
WHERE (_PARTITIONTIME IS NULL OR _PARTITIONTIME >= TIMESTAMP(DATE_SUB(@first_day, INTERVAL 1 DAY)))
  AND usage_start_time >= TIMESTAMP(@first_day)
  AND usage_start_time < TIMESTAMP(DATE_ADD(@last_day, INTERVAL 1 DAY))
  AND IFNULL(cost_type, 'regular') NOT IN ('tax', 'rounding_error')
  AND (service.description IN ('Gemini API', 'Generative Language API')
       OR (service.description = 'Vertex AI' AND LOWER(sku.description) LIKE '%gemini%'))
GROUP BY day, service, sku, project_id, currency, usd_rate
ORDER BY day, service, sku, project_id, currency, usd_rate"""

FIELDS = ("day", "service", "sku", "project_id", "project_name", "currency", "usd_rate", "cost", "credits", "row_count")

_CTX = Context(prec=60)  # our own: a caller's decimal context cannot change our sums
_MODEL = re.compile(r"(?i)gemini[\s-]+(\d+(?:\.\d+)?)[\s-]+(flash[\s-]+lite|flash|pro|ultra|nano)\b")
_CURRENCY = re.compile(r"[A-Z]{3}")


def malformed(what: str) -> ShapeError:
    """A BigQuery answer of a shape Grafient cannot read: an error for its window (see `unreadable`)."""
    return ShapeError(what)


def unreadable(detail: str) -> str:
    """The sentence of a ShapeError met reading a query's answer."""
    return f"Google BigQuery sent a query answer Grafient cannot read ({detail}); {SAVED_NOTHING}"


def query_body(
    table: str, first: datetime.date, last: datetime.date, *, max_results: int, timeout_ms: int
) -> dict[str, Any]:
    """The body of `jobs.query` for the UTC days first..last (standard SQL, named DATE parameters)."""
    if not TABLE.fullmatch(table):
        raise ValueError("the table is not PROJECT.DATASET.TABLE")

    def day(name: str, value: datetime.date) -> dict[str, Any]:
        return {"name": name, "parameterType": {"type": "DATE"}, "parameterValue": {"value": value.isoformat()}}

    return {
        "query": QUERY.replace("{table}", table),
        "useLegacySql": False,
        "parameterMode": "NAMED",
        "queryParameters": [day("first_day", first), day("last_day", last)],
        "timeoutMs": timeout_ms,
        "maxResults": max_results,
    }


def model_of(sku: str) -> str:
    """`gemini-2.5-flash-lite` from "Generate content input token count gemini 2.5 flash lite text";
    a SKU that names no Gemini model keeps its own (trimmed) description."""
    found = _MODEL.search(sku)
    if found is None:
        return sku.strip()
    variant = "-".join(found.group(2).lower().split())
    return f"gemini-{found.group(1)}-{variant.replace('--', '-')}"


# --------------------------------------------------------------------------- reading an answer


@dataclass(frozen=True, slots=True)
class JobReference:
    project_id: str
    job_id: str
    location: str | None


@dataclass(frozen=True, slots=True)
class ExportRow:
    """One result row: a day, service, SKU, project, currency and rate, as BigQuery summed them."""

    day: datetime.date
    service: str
    sku: str
    project_id: str | None
    project_name: str | None
    currency: str
    usd_rate: Decimal
    cost: Decimal  # in the account's currency, before credits
    credits: Decimal  # in the account's currency, negative


@dataclass(frozen=True, slots=True)
class QueryPage:
    complete: bool
    job: JobReference | None
    total_rows: int | None  # of the whole result, on a complete answer
    rows: int  # how many this page had (summed into the window's ExportSums as they were read)
    page_token: str | None


_JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,1024}")
_LOCATION = re.compile(r"[A-Za-z0-9-]{1,64}")
_PAGE_TOKEN = re.compile(r"[\x21-\x7e]{1,4096}")


def _job(value: Any) -> JobReference | None:
    if value is None:
        return None
    if type(value) is not dict:
        raise malformed("a jobReference that is not an object")
    project, job, location = value.get("projectId"), value.get("jobId"), value.get("location")
    # They go into the next request's path: checked before use.
    if type(project) is not str or not PROJECT.fullmatch(project):
        raise malformed("a jobReference without a project id Grafient can use")
    if type(job) is not str or not _JOB_ID.fullmatch(job):
        raise malformed("a jobReference without a job id Grafient can use")
    if location is not None and (type(location) is not str or not _LOCATION.fullmatch(location)):
        raise malformed("a jobReference with a location Grafient cannot use")
    return JobReference(project, job, location)


def _whole(value: Any, what: str) -> int:
    """An INTEGER as BigQuery sends it: a string of digits (an int is tolerated)."""
    if type(value) is int and value >= 0:
        return value
    if type(value) is str and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    raise malformed(f"{what} is not a whole number")


def money(value: Any) -> Decimal | None:
    """The exact Decimal of a NUMERIC or FLOAT64 as BigQuery sends it (a decimal string, exponents
    accepted), through the one money parser; None when it is not a string or no plausible amount."""
    if type(value) is not str:
        return None
    try:
        return exact_amount(value)
    except BadAmount:
        return None  # the caller words it: a rate is checked apart from the money


def _amount(cell: Any, index: int, what: str) -> Decimal:
    """The cost or the credits of a row: a decimal string, through the one money parser."""
    not_decimal = f"row {index + 1}: the cost or the credits are not a decimal string"
    if type(cell) is not str:
        raise malformed(not_decimal)
    return amounts.exact(
        cell,
        lambda reason: malformed(
            not_decimal if reason.startswith("not a number") else f"row {index + 1}: the {what} is {reason}"
        ),
    )


def _text(cell: Any, index: int, what: str, *, required: bool) -> str | None:
    if cell is None:
        if required:
            raise malformed(f"row {index + 1}: no {what}")
        return None
    if type(cell) is not str:
        raise malformed(f"row {index + 1}: {what} is not a string")
    return cell


def parse_row(index: int, raw: Any, first: datetime.date, last: datetime.date) -> ExportRow:
    if type(raw) is not dict or type(raw.get("f")) is not list or len(raw["f"]) != len(FIELDS):
        raise malformed(f"row {index + 1} is not a row of {len(FIELDS)} fields")
    cells = []
    for cell in raw["f"]:
        if type(cell) is not dict or "v" not in cell:
            raise malformed(f"row {index + 1} has a field without a value")
        cells.append(cell["v"])
    day_text = cells[0]
    try:
        if type(day_text) is not str or len(day_text) != 10:
            raise ValueError
        day = datetime.date.fromisoformat(day_text)
    except ValueError:
        raise malformed(f"row {index + 1}: the day is not YYYY-MM-DD") from None
    if not first <= day <= last:
        raise malformed(f"row {index + 1}: the day {day.isoformat()} is outside {first} .. {last}")
    service = _text(cells[1], index, "service", required=True) or ""
    sku = _text(cells[2], index, "SKU", required=False)
    currency = _text(cells[5], index, "currency", required=True) or ""
    if not _CURRENCY.fullmatch(currency):
        raise malformed(f"row {index + 1}: the currency is not a three-letter code")
    rate = money(cells[6])
    if rate is None or rate <= 0:
        raise malformed(f"row {index + 1}: the currency conversion rate is missing, zero or not a decimal")
    cost, credits = _amount(cells[7], index, "cost"), _amount(cells[8], index, "credits")
    _whole(cells[9], f"row {index + 1}: row_count")
    return ExportRow(
        day=day,
        service=service,
        sku=sku if sku is not None and sku.strip() else service,
        project_id=_text(cells[3], index, "project id", required=False),
        project_name=_text(cells[4], index, "project name", required=False),
        currency=currency,
        usd_rate=rate,
        cost=cost,
        credits=credits,
    )


def read_page(answer: JsonObject, first: datetime.date, last: datetime.date, sums: ExportSums) -> QueryPage:
    """One answer of jobs.query or getQueryResults, its rows summed into `sums` one at a time;
    ShapeError when it cannot be trusted."""
    complete = answer.get("jobComplete")
    if type(complete) is not bool:
        raise malformed("no jobComplete")
    job = _job(answer.get("jobReference"))
    if not complete:
        if job is None:
            raise malformed("an unfinished query without a jobReference")
        return QueryPage(False, job, None, 0, None)  # never "no rows": the rows are still to come
    schema = answer.get("schema")
    fields = schema.get("fields") if type(schema) is dict else None
    names = [f.get("name") if type(f) is dict else None for f in fields] if type(fields) is list else None
    if names is None:
        raise malformed("a finished query without a schema")
    if tuple(names) != FIELDS:
        raise malformed("columns other than the query's")
    if answer.get("totalRows") is None:
        raise malformed("a finished query without totalRows")
    total = _whole(answer.get("totalRows"), "totalRows")
    token = answer.get("pageToken")
    if token is not None and (type(token) is not str or not _PAGE_TOKEN.fullmatch(token)):
        raise malformed("a pageToken Grafient cannot use")
    rows = answer.array("rows")
    if rows is None and answer.kind("rows") != "missing":
        raise malformed("rows that are not a list")
    count = 0
    for raw in rows.values() if rows is not None else ():
        sums.add(parse_row(sums.rows, raw, first, last))
        count += 1
    return QueryPage(True, job, total, count, token or None)


class ExportSums:
    """One window's rows, summed as they arrive: exact USD per (day, model, project id), each project's
    name (id -> name), the account's one currency, and the rows counted. Bounded: MAX_ROWS rows,
    MAX_PROJECTS projects, MAX_SUMS_PER_WINDOW sums, each counted on the row that brings a new one."""

    __slots__ = ("currency", "names", "no_project", "rows", "sums")

    def __init__(self) -> None:
        self.sums: dict[tuple[datetime.date, str, str | None], list[Decimal]] = {}  # -> [bill, credits]
        self.names: dict[str, str] = {}  # project id -> its display name (the id without one)
        self.no_project = False  # charges of no project were met
        self.currency: str | None = None
        self.rows = 0

    @property
    def projects(self) -> int:
        """How many projects (and "No project") the rows named."""
        return len(self.names) + (1 if self.no_project else 0)

    def add(self, row: ExportRow) -> None:
        self.rows += 1
        if self.rows > MAX_ROWS:
            raise malformed(f"more than {MAX_ROWS:,} rows")
        if self.currency is None:
            self.currency = row.currency
        elif row.currency != self.currency:
            raise malformed("a currency that changes within one billing account")
        project = row.project_id
        if project is None:
            self.no_project = True
        else:
            project = stored_name(project)
            known = self.names.get(project)
            if known is None or (known == project and row.project_name):
                name = row.project_name
                self.names[project] = stored_name(name) if name and name.strip() else project
                if len(self.names) > MAX_PROJECTS:
                    raise malformed(f"more than {MAX_PROJECTS:,} projects")
        key = (row.day, stored_name(model_of(row.sku)), project)
        bill = _CTX.divide(_CTX.add(row.cost, row.credits), row.usd_rate)
        credits = _CTX.divide(_CTX.minus(row.credits), row.usd_rate)
        s = self.sums.get(key)
        if s is None:
            if len(self.sums) >= MAX_SUMS_PER_WINDOW:
                raise too_many_sums("Google BigQuery", "billing export rows", MAX_SUMS_PER_WINDOW)
            self.sums[key] = [bill, credits]
        else:
            s[0], s[1] = _CTX.add(s[0], bill), _CTX.add(s[1], credits)


# --------------------------------------------------------------------------- cost lines


_DAY_SUM = amounts.shape("a day of one model and project")


def project_names(sums: ExportSums) -> dict[str | None, str]:
    """Project id -> the name to show: its display name (the id without one); two projects of one
    name get their id's first characters beside it; charges of no project are "No project"."""
    shown: dict[str | None, str] = {None: NO_PROJECT}
    shown.update(distinct_names(sums.names, (NO_PROJECT,)))
    return shown


def cost_lines(sums: ExportSums) -> list[CostLine]:
    """Per day, model and project: the bill (cost + credits, in USD) as the on-demand line and the
    credits (−credits, in USD) as the included line; requests and tokens unknown."""
    names = project_names(sums)
    lines: list[CostLine] = []
    for (day, model, project), (bill, credits) in sums.sums.items():
        for on_demand, usd in ((True, bill), (False, credits)):
            lines.append(
                CostLine(
                    day,
                    model,
                    names[project],
                    on_demand,
                    amounts.micro_of_sum(usd, _DAY_SUM),
                    None,
                    input_tokens=None,
                    output_tokens=None,
                    cache_read_tokens=None,
                    cache_write_tokens=None,
                )
            )
    return lines


__all__ = [
    "FIELDS",
    "MAX_ROWS",
    "NO_PROJECT",
    "PROJECT",
    "QUERY",
    "STANDARD_TABLE",
    "TABLE",
    "ExportRow",
    "ExportSums",
    "JobReference",
    "QueryPage",
    "cost_lines",
    "malformed",
    "model_of",
    "money",
    "parse_row",
    "project_names",
    "query_body",
    "read_page",
    "unreadable",
]

"""`grafient report --format focus`: the stored charges as FinOps Foundation FOCUS 1.2 CSV (the
Cost and Usage dataset). No network, no Textual.

README's FOCUS section is the mapping, column by column; COLUMNS is the order. Money is exact
decimal dollars with at least six places (`12.340000`), quantities decimals (`1.0`: FOCUS types an
integer-looking cell as no decimal). An unknown figure is an empty cell, never 0. Every text cell
is neutralised as the report's CSV does (untrusted.csv_cell): nothing from a provider runs as a
formula, and control characters are made visible.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

from grafient_tui import providers
from grafient_tui.figures import FocusCharge, FocusExport
from grafient_tui.model_keys import model_key
from grafient_tui.money import usd
from grafient_tui.untrusted import csv_cell

SERVICE_CATEGORY = "AI and Machine Learning"
SERVICE_SUBCATEGORY = "Generative AI"
# Each row prices one day of a model's (or an actor's) usage as a whole: the providers' own unit
# prices (per token, per request, per credit) are not stored, so the quantity is that one day.
PRICING_QUANTITY = "1.0"
PRICING_UNIT = "Day"

COLUMNS = (
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ContractedCost",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "ServiceCategory",
    "ServiceName",
    "ServiceSubcategory",
    "SubAccountId",
    "SubAccountName",
    "x_IntegrationId",
    "x_Member",
    "x_ApiKey",
    "x_Model",
    "x_ModelKey",
    "x_UsageValue",
    "x_Requests",
    "x_CompleteDay",
    "x_BilledCostSplit",
    "x_CostBasis",
)
SUB_ACCOUNT_KINDS = ("workspace", "project")  # the actors FOCUS calls a sub account


def money(micro: int) -> str:
    """Exact decimal dollars, at least six places: `12.340000`, `0.12345678`, `-3.500000`."""
    value = usd(micro)
    six = value.quantize(Decimal("0.000001"))
    return format(six if six == value else value, "f")


def instant(day: date) -> str:
    """The UTC midnight starting `day`, as FOCUS writes a date-time."""
    return f"{day.isoformat()}T00:00:00Z"


def _description(charge: FocusCharge) -> str:
    what = f"usage of {charge.model}" if charge.model is not None else "usage not split by model"
    who = f" by {charge.actor}" if charge.actor is not None else ""
    return f"{providers.title(charge.provider)} {what}{who} on {charge.day.isoformat()} UTC"


def row(charge: FocusCharge) -> list[str]:
    """One charge's cells, in COLUMNS' order (text cells not yet neutralised)."""
    title = providers.title(charge.provider)
    sub_account = charge.actor if charge.actor_kind in SUB_ACCOUNT_KINDS else None
    billed = money(charge.billed_micro)
    usage_value = money(charge.usage_value_micro)
    cells = {
        "BilledCost": billed,
        "BillingAccountId": charge.account_id,
        "BillingAccountName": charge.label,
        "BillingCurrency": "USD",
        "BillingPeriodEnd": instant(charge.billing_end + timedelta(days=1)),
        "BillingPeriodStart": instant(charge.billing_start),
        "ChargeCategory": "Usage",
        "ChargeClass": "",
        "ChargeDescription": _description(charge),
        "ChargeFrequency": "Usage-Based",
        "ChargePeriodEnd": instant(charge.day + timedelta(days=1)),
        "ChargePeriodStart": instant(charge.day),
        "ContractedCost": usage_value,
        "EffectiveCost": billed,
        "InvoiceIssuerName": title,
        "ListCost": usage_value,
        "PricingQuantity": PRICING_QUANTITY,
        "PricingUnit": PRICING_UNIT,
        "ProviderName": title,
        "PublisherName": title,
        "ServiceCategory": SERVICE_CATEGORY,
        "ServiceName": title,
        "ServiceSubcategory": SERVICE_SUBCATEGORY,
        "SubAccountId": sub_account or "",
        "SubAccountName": sub_account or "",
        "x_IntegrationId": str(charge.integration_id),
        "x_Member": charge.actor if charge.actor is not None and charge.actor_kind == "member" else "",
        "x_ApiKey": charge.actor if charge.actor is not None and charge.actor_kind == "api_key" else "",
        "x_Model": charge.model or "",
        "x_ModelKey": model_key(charge.model) if charge.model is not None else "",
        "x_UsageValue": usage_value,
        "x_Requests": "" if charge.requests is None else str(charge.requests),
        "x_CompleteDay": "true" if charge.complete else "false",
        "x_BilledCostSplit": "exact" if charge.billed_exact else "proportional",
        "x_CostBasis": "estimate" if charge.estimated else "billed",
    }
    return [cells[name] for name in COLUMNS]


def render_focus(export: FocusExport) -> str:
    """The export as FOCUS 1.2 CSV: the header, then one line per charge."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for charge in export.charges:
        writer.writerow([csv_cell(cell) for cell in row(charge)])
    return buffer.getvalue()

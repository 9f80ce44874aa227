"""What a Google integration carries besides its key: the billing export's table and, optionally, the
project its queries run in. A module of its own that imports no httpx, so the CLI can grow the flags
(and `--help` list them) without loading the provider (see providers/__init__._ACCOUNT_FIELDS)."""

from __future__ import annotations

from grafient_tui.providers.base import AccountField

# PROJECT.DATASET.TABLE, checked before the table goes into the SQL text (BigQuery cannot take a
# table as a parameter); a project id alone.
TABLE_PATTERN = r"[a-z][a-z0-9-]{4,62}\.[A-Za-z0-9_]{1,1024}\.[A-Za-z0-9_]{1,1024}"
PROJECT_PATTERN = r"[a-z][a-z0-9-]{4,62}"

ACCOUNT_FIELDS = (
    AccountField(
        name="table",
        flag="--table",
        metavar="PROJECT.DATASET.TABLE",
        label="Billing export table",
        help=(
            "The Cloud Billing detailed export's table in BigQuery: "
            "PROJECT.DATASET.gcp_billing_export_resource_v1_<billing account id, dashes as underscores>"
        ),
        pattern=TABLE_PATTERN,
        invalid=(
            "--table is PROJECT.DATASET.TABLE of the detailed billing export, e.g. "
            "my-project.billing_export.gcp_billing_export_resource_v1_0A1B2C_3D4E5F_6A7B8C"
        ),
        placeholder="my-project.billing_export.gcp_billing_export_resource_v1_…",
        max_length=2100,
    ),
    AccountField(
        name="query_project",
        flag="--query-project",
        metavar="P",
        label="Query project",
        help=(
            "The project the query runs in (the service account needs BigQuery Job User there; "
            "the few MB scanned are billed there); default: the key's own project"
        ),
        pattern=PROJECT_PATTERN,
        invalid="--query-project is a Google Cloud project id: 6 to 63 lower-case letters, digits and hyphens",
        required=False,
        placeholder="the key's project",
    ),
)

"""Google Gemini: spend read from the Cloud Billing detailed export in BigQuery (api), the service-account
sign-in (auth), the query and its cost rules (costs), the integration's table and query project (fields)
and the demo's billing account (fake).

Nothing is re-exported here: the CLI reads `fields` without loading httpx, and importing a module of
a package runs the package's `__init__` first.
"""

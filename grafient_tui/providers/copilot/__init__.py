"""GitHub Copilot: the billing API provider (api), its cost rules (costs), its account settings (fields)
and the demo's in-memory organization (fake). See /work/shared/copilot-billing-api.md.

Nothing is re-exported here: the registry reads `fields` without loading httpx."""

"""xAI: the Management API provider (api), its cost rules (costs), its account settings (fields) and the
demo's in-memory team (fake). See /work/shared/xai-management-api.md.

Nothing is re-exported here: the registry reads `fields` without loading httpx."""

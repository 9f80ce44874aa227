"""The account setting an xAI integration carries besides its management key: the team whose billing it
reads (a key alone does not say). Imports nothing heavy: the CLI reads it for its flags."""

from __future__ import annotations

from grafient_tui.providers.base import AccountField

TEAM_ID = AccountField(
    name="team_id",
    flag="--team-id",
    metavar="UUID",
    label="xAI team ID",
    help="The team's ID, a UUID (xAI Console → team settings).",
    pattern=r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}",
    invalid="The xAI team ID is a UUID (xAI Console → team settings).",
    placeholder="65c1e471-205f-4566-9c5a-07198bcdf4ce",
)
ACCOUNT_FIELDS = (TEAM_ID,)

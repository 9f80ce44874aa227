"""Connecting an integration: the one path the CLI and the TUI share.

The key is checked against the provider before anything is stored; a label
that is taken is refused before the network is touched.
"""

from __future__ import annotations

from datetime import datetime

import httpx

from grafient_tui.config import Settings
from grafient_tui.errors import ConfigError
from grafient_tui.providers.cursor import CursorClient
from grafient_tui.secret import Secret
from grafient_tui.store.db import Database
from grafient_tui.store.integrations import add_integration, clean_label, label_taken
from grafient_tui.store.models import Integration
from grafient_tui.store.vault import Vault


def free_label(db: Database, label: str) -> str:
    """The cleaned label, or ConfigError if it is empty, odd or already used."""
    label = clean_label(label)
    if label_taken(db, label):
        raise ConfigError(f"an integration labelled {label!r} already exists; pick another label.")
    return label


async def check_key(key: Secret, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None) -> int:
    """Validate a key with Cursor; the team's member count, or a CursorError with its sentence."""
    async with CursorClient.from_settings(key.reveal(), settings, transport=transport) as client:
        return (await client.validate()).members


async def connect_integration(db: Database, vault: Vault, settings: Settings, *, label: str, provider: str,
                              key: Secret, transport: httpx.AsyncBaseTransport | None = None,
                              now: datetime | None = None) -> Integration:
    label = free_label(db, label)
    members = await check_key(key, settings, transport=transport)
    return add_integration(db, vault, label=label, provider=provider, api_key=key, team_members=members, now=now)

"""Connecting an integration: the one path the CLI and the TUI share.

The key is checked against the provider before anything is stored; a label that is taken, or a
key that is already stored, is refused before the network is touched, and a key whose team is
already connected (the same members) is refused after the check: one team, one integration, or
every total counts it twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime

import httpx

from grafient_tui import providers
from grafient_tui.config import Settings
from grafient_tui.errors import ApiTimeout, ConfigError, Unidentified
from grafient_tui.providers.base import AccountInfo
from grafient_tui.secret import Secret
from grafient_tui.store.accounts import account_settings
from grafient_tui.store.db import Database
from grafient_tui.store.integrations import (
    account_of,
    add_integration,
    find_label_owner,
    label_taken_sentence,
    replace_key,
    same_key_owner,
    same_key_sentence,
    same_team_owner,
    same_team_sentence,
)
from grafient_tui.store.labels import clean_label
from grafient_tui.store.models import Integration
from grafient_tui.store.vault import Vault
from grafient_tui.sync.threads import in_daemon_thread


def free_label(db: Database, label: str) -> str:
    """The cleaned label, or ConfigError if it is empty, odd or already used (case and spaces aside)."""
    label = clean_label(label)
    existing = find_label_owner(db, label)
    if existing is not None:
        raise ConfigError(label_taken_sentence(existing))
    return label


def unidentified_sentence(provider: str) -> str:
    chosen = providers.get(provider)
    account = "team" if chosen.capabilities.actor_kind == "member" else "account"
    article = "an" if account == "account" else "a"
    twice = f"({article} {account} added twice counts twice in every total)"
    if chosen.unnamed_account is not None:  # never named, whatever the key: said before a key is asked for
        return (
            f"{chosen.unnamed_account}, so Grafient cannot check that this {account} is not connected already "
            f"{twice}; if you are sure it is not, add it with --allow-unidentified. Nothing was stored."
        )
    return (
        f"the key works, but {chosen.title} did not say which {account} it belongs to (the key may not list its "
        f"{chosen.capabilities.actor_title.lower()}), so Grafient cannot check that this {account} is not connected "
        f"already {twice}; if you are sure it is not, add it again with --allow-unidentified. Nothing was stored."
    )


def require_identifiable(provider: str, *, allow_unidentified: bool) -> None:
    """Unidentified before any key is asked for or sent, for a provider that never names an account
    (ElevenLabs), unless the user said the account is not connected yet."""
    if providers.get(provider).unnamed_account is not None and not allow_unidentified:
        raise Unidentified(unidentified_sentence(provider))


async def check_key(
    key: Secret,
    settings: Settings,
    *,
    provider: str,
    account: Mapping[str, str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> AccountInfo:
    """Validate a key (with its account settings: the organization, the team) with its provider; the
    account it belongs to, or a ProviderError with its sentence.

    The whole check (every page of a member, project or workspace list) has one deadline,
    GRAFIENT_CHECK_DEADLINE: each request has its own, but an endless list of slow pages would
    otherwise hold `add` for hours."""
    limit = settings.check_deadline
    try:
        async with asyncio.timeout(limit):
            async with providers.get(provider).from_settings(
                key.reveal(), settings, transport=transport, account=account
            ) as client:
                return await client.validate()
    except TimeoutError:
        pass
    raise ApiTimeout(
        f"checking the key with {providers.title(provider)} took longer than {limit:g} s, so nothing was stored "
        "(GRAFIENT_CHECK_DEADLINE raises the limit)"
    )


async def connect_integration(
    db: Database,
    vault: Vault,
    settings: Settings,
    *,
    label: str,
    provider: str,
    key: Secret,
    account: Mapping[str, object] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    now: datetime | None = None,
    allow_unidentified: bool = False,
) -> Integration:
    # The account settings first: a team id that is not one is refused before anything is asked.
    settings_given = account_settings(provider, account or {})
    require_identifiable(provider, allow_unidentified=allow_unidentified)
    # Every store call in a thread: the app awaits this on its event loop, and another process may
    # hold the database's write lock.
    label = await in_daemon_thread(free_label, db, label)
    owner = await in_daemon_thread(same_key_owner, db, vault, key)
    if owner is not None:
        raise ConfigError(same_key_sentence(owner))
    team = await check_key(key, settings, provider=provider, account=settings_given, transport=transport)
    if team.fingerprint is None and not allow_unidentified:
        raise Unidentified(unidentified_sentence(provider))
    twin = await in_daemon_thread(same_team_owner, db, team.fingerprint, provider=provider)
    if twin is not None:
        raise ConfigError(same_team_sentence(twin))
    return await in_daemon_thread(
        add_integration,
        db,
        vault,
        label=label,
        provider=provider,
        api_key=key,
        team_members=team.members,
        team_fingerprint=team.fingerprint,
        account=settings_given,
        now=now,
    )


async def rekey_integration(
    db: Database,
    vault: Vault,
    settings: Settings,
    integration: Integration,
    key: Secret,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> tuple[Integration, AccountInfo]:
    """Replace an integration's key after checking it; a key or team that belongs to another
    integration is refused."""
    owner = await in_daemon_thread(same_key_owner, db, vault, key, skip_unreadable=True)
    if owner is not None and owner.id != integration.id:
        raise ConfigError(same_key_sentence(owner))
    team = await check_key(
        key, settings, provider=integration.provider, account=account_of(integration), transport=transport
    )
    twin = await in_daemon_thread(
        same_team_owner, db, team.fingerprint, provider=integration.provider, exclude=integration.id
    )
    if twin is not None:
        raise ConfigError(same_team_sentence(twin))
    assert integration.id is not None  # a stored integration
    row = await in_daemon_thread(replace_key, db, vault, integration.id, key, team_fingerprint=team.fingerprint)
    return row, team

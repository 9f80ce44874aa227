"""An integration's account settings besides its key (the GitHub organization, the xAI team): checked
against its provider's fields as they come in, and read back from the store as untrusted.

Light on purpose (no SQLAlchemy, no httpx): `grafient list` reads them with plain reads.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from grafient_tui import providers
from grafient_tui.errors import ConfigError, StoreError
from grafient_tui.providers.base import check_account

MAX_ACCOUNT_TEXT = 4096  # the stored JSON of an integration's account settings: a few short strings


def account_settings(provider: str, values: Mapping[str, object]) -> dict[str, str]:
    """`values` checked against the fields `provider` declares (ConfigError with one sentence)."""
    return check_account(providers.account_fields(provider), values, title=providers.title(provider))


def stored_account(integration_id: int, provider: str, text: str | None) -> dict[str, str]:
    """An integration's stored account settings, read back as untrusted: a JSON object of strings, of
    a bounded size, that fits its provider's fields; StoreError with one sentence when it does not."""
    if text is None or text == "":
        values: object = {}
    else:
        try:
            values = json.loads(text) if len(text) <= MAX_ACCOUNT_TEXT else None
        except (ValueError, RecursionError):
            values = None
    if not isinstance(values, dict):
        raise StoreError(
            f"the stored account settings of integration {integration_id} cannot be read; "
            "remove it and add it again (`grafient remove`, `grafient add`)."
        )
    try:
        return account_settings(provider, values)
    except ConfigError as exc:
        raise StoreError(
            f"the stored account settings of integration {integration_id} do not fit its provider "
            f"({exc.sentence.rstrip('.')}); remove it and add it again."
        ) from None

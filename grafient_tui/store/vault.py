"""API keys at rest: AES-256-GCM with a per-install master key.

The ciphertext is bound to its integration by associated data (the row's uid
and provider), so a ciphertext copied into another row does not decrypt. The
master key lives in its own 0600 file in the config dir, away from the
database; GRAFIENT_MASTER_KEY (base64) replaces it for headless use.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from grafient_tui.config import Settings, check_trusted, tighten_key_file, write_private_file
from grafient_tui.errors import VaultError
from grafient_tui.secret import Secret

SCHEME = "aesgcm-v1"
NONCE_BYTES = 12


def _aad(scheme: str, provider: str, uid: str) -> bytes:
    return f"grafient:{scheme}:{provider}:{uid}".encode()


class Vault:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def master_key(self, *, create: bool = False) -> bytes:
        """The 32-byte master key; created (0600) only when `create` and none exists."""
        raw = self.settings.master_key_b64
        source = "GRAFIENT_MASTER_KEY"
        if raw is None:
            path = self.settings.master_key_file
            source = str(path)
            # Another user's master.key would seal your API keys with a key they hold (check_trusted).
            check_trusted(path.parent, "a master key", fixable=True)
            check_trusted(path, "the key that seals your API keys", fixable=True)
            tighten_key_file(path)  # an old install, a restored backup or a copy may have left it 0644
            try:
                raw = path.read_text(encoding="ascii").strip()
            except FileNotFoundError:
                if not create:
                    raise VaultError(
                        f"cannot decrypt stored keys: the master key file {path} is missing "
                        "(restore it, or set GRAFIENT_MASTER_KEY)."
                    ) from None
                key = AESGCM.generate_key(bit_length=256)
                write_private_file(path, base64.b64encode(key) + b"\n")
                return key
            except (OSError, UnicodeDecodeError):
                raise VaultError(f"cannot decrypt stored keys: the master key file {path} cannot be read.") from None
        try:
            key = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise VaultError(f"cannot decrypt stored keys: {source} is not valid base64.") from None
        if len(key) != 32:
            raise VaultError(f"cannot decrypt stored keys: {source} must hold 32 bytes, not {len(key)}.")
        return key

    def encrypt(
        self, api_key: Secret, *, uid: str, provider: str, create: bool = True, master_key: bytes | None = None
    ) -> bytes:
        """Seal `api_key` for its integration, with `master_key` (store/team.sealing_key chooses it)
        or else this install's."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(master_key if master_key is not None else self.master_key(create=create)).encrypt(
            nonce, api_key.reveal().encode("utf-8"), _aad(SCHEME, provider, uid)
        )
        return nonce + sealed

    def decrypt(self, blob: bytes, *, uid: str, provider: str, scheme: str) -> Secret:
        if scheme != SCHEME:
            raise VaultError(f"cannot decrypt stored keys: unknown encryption scheme {scheme!r}.")
        key = self.master_key()
        nonce, sealed = blob[:NONCE_BYTES], blob[NONCE_BYTES:]
        try:
            plain = AESGCM(key).decrypt(nonce, sealed, _aad(scheme, provider, uid))
        except (InvalidTag, ValueError):
            raise VaultError(
                "cannot decrypt stored keys: the master key does not match, or the stored key was altered or "
                "copied from another integration."
            ) from None
        return Secret(plain.decode("utf-8"))


def new_master_key_b64() -> str:
    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()

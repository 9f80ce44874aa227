"""A Google service-account key, read and checked locally, and the signed JWT it trades for a token.

No Google library: `cryptography` (already a dependency, for the vault) signs RS256, and the token
request is one form POST through the shared HTTP client. google-auth would bring its own transport
(requests or its aiohttp adapter), its own retries and its own token cache beside ours, and three
more packages, for the 20 lines below.

The key is user input. What is read from it: `type`, `client_email`, `private_key`, and
`private_key_id` (the JWT's `kid`) and `project_id` (the default query project) when present.
Its `token_uri` is never used: a planted one would receive a signed assertion (the token URL is
Google's, or GRAFIENT_GOOGLE_TOKEN_URL). Nothing here puts the key, or any part of it, in a
sentence, a repr or a log.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from grafient_tui.errors import NotAServiceAccountKey
from grafient_tui.secret import remember_secret

SCOPE = "https://www.googleapis.com/auth/bigquery.readonly"
# The JWT's audience is always Google's token endpoint, also when GRAFIENT_GOOGLE_TOKEN_URL sends
# the request elsewhere (a proxy, the tests' fake): that is what Google checks.
AUDIENCE = "https://oauth2.googleapis.com/token"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_SECONDS = 3600  # Google's most
MAX_KEY_CHARS = 64 * 1024  # a real key file is about 2.3 kB

NOT_A_KEY = (
    "This is not a service-account key: create a JSON key for a service account in "
    "IAM & Admin → Service accounts → Keys"
)
UNREADABLE_KEY = (
    "The service-account key's private_key cannot be read (it is not an RSA key in PEM form); "
    "create a new JSON key in IAM & Admin → Service accounts → Keys"
)

_EMAIL = re.compile(r"[^@\s]{1,256}@[A-Za-z0-9.-]{1,256}")
_PROJECT = re.compile(r"[a-z][a-z0-9-]{4,62}")
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


@dataclass(frozen=True, repr=False)
class ServiceAccount:
    """What Grafient uses of a service-account key. Its repr names the account, never the key."""

    client_email: str
    private_key_id: str | None
    project_id: str | None  # the key's own project: the default query project
    signer: rsa.RSAPrivateKey = field(compare=False)

    def __repr__(self) -> str:
        return f"ServiceAccount({self.client_email})"


def parse_service_account(text: str) -> ServiceAccount:
    """The service account of a JSON key file's text; NotAServiceAccountKey with one sentence if it
    is not one (not JSON, another kind of credential, a field missing, a key that cannot be read)."""
    if len(text) > MAX_KEY_CHARS:
        raise NotAServiceAccountKey(NOT_A_KEY)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise NotAServiceAccountKey(NOT_A_KEY) from None
    if type(data) is not dict or data.get("type") != "service_account":
        raise NotAServiceAccountKey(NOT_A_KEY)
    pem, email = data.get("private_key"), data.get("client_email")
    if type(pem) is not str or "PRIVATE KEY-----" not in pem or type(email) is not str or not _EMAIL.fullmatch(email):
        raise NotAServiceAccountKey(NOT_A_KEY)
    remember_secret(pem)  # before anything can fail: every last-resort output is scrubbed of it
    try:
        signer = serialization.load_pem_private_key(pem.encode("utf-8", "surrogatepass"), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise NotAServiceAccountKey(UNREADABLE_KEY) from None
    if not isinstance(signer, rsa.RSAPrivateKey):
        raise NotAServiceAccountKey(UNREADABLE_KEY)
    key_id = data.get("private_key_id")
    project = data.get("project_id")
    return ServiceAccount(
        client_email=email,
        private_key_id=key_id if type(key_id) is str and _KEY_ID.fullmatch(key_id) else None,
        project_id=project if type(project) is str and _PROJECT.fullmatch(project) else None,
        signer=signer,
    )


def _segment(value: dict[str, object]) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def signed_assertion(account: ServiceAccount, now: float) -> str:
    """The JWT Google's token endpoint trades for an access token: RS256 (RSASSA-PKCS1-v1_5 with
    SHA-256), issued `now` (Unix seconds) and valid for an hour, for BigQuery read-only."""
    header: dict[str, object] = {"alg": "RS256", "typ": "JWT"}
    if account.private_key_id is not None:
        header["kid"] = account.private_key_id
    issued = int(now)
    claims: dict[str, object] = {
        "iss": account.client_email,
        "scope": SCOPE,
        "aud": AUDIENCE,
        "iat": issued,
        "exp": issued + ASSERTION_SECONDS,
    }
    signing_input = f"{_segment(header)}.{_segment(claims)}"
    signature = account.signer.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    assertion = f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode('ascii')}"
    remember_secret(assertion)  # it stands for the key for an hour
    return assertion


__all__ = [
    "AUDIENCE",
    "GRANT_TYPE",
    "NOT_A_KEY",
    "SCOPE",
    "UNREADABLE_KEY",
    "NotAServiceAccountKey",
    "ServiceAccount",
    "parse_service_account",
    "signed_assertion",
]

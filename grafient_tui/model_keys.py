"""One name for one model, whichever provider billed it: `claude-sonnet-4.5` for Cursor's
`claude-4.5-sonnet`, Anthropic's `claude-sonnet-4-5-20250929`, OpenRouter's `anthropic/claude-sonnet-4.5`
and Google's `Claude Sonnet 4.5 (Vertex AI Model Garden)`.

A key is the model's family and version, lower case, its vendor prefix, release date, hosting note,
mode suffix (`-thinking`) and kind (GitHub's `Auto:`, xAI's `Chat`) dropped: what a manager asks
"what do we spend per model" about. The raw names are never replaced: every table built on keys
lists the names (and providers) each key covers. Pure: a few rules, tried in order, each a regular
expression over the cleaned name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# A vendor prefix (OpenRouter's `anthropic/`, `x-ai/`), a parenthesised note (Google's `(Vertex AI
# Model Garden)`), a release date at the end (`-20250929`, `-2025-08-07`, `@20250929`), a mode the
# same model runs in (Cursor's `-thinking`, `-max`), and a `-latest` alias.
_PREFIX = re.compile(r"^[a-z0-9_.-]+/(?=[^/]+$)")
_NOTE = re.compile(r"\s*\([^)]*\)\s*$")
_KIND = re.compile(r"^(?:auto:|chat|image)\s+")  # GitHub's `Auto: …`, xAI's `Chat …` and `Image …`
_DATE = re.compile(r"[-@](?:20\d{6}|20\d\d-\d\d-\d\d)$")
_MODE = re.compile(r"-(?:thinking|max|latest)$")


def _version(major: str, minor: str | None) -> str:
    return major if minor is None else f"{major}.{minor}"


# Claude: `claude-4.5-sonnet` and `claude-3-5-sonnet` (version first), `claude-sonnet-4-5` and
# `claude-sonnet-4.5` (family first). A minor version is one digit: `-4-5-2025…` is 4.5, not 4.52025.
_CLAUDE_VERSION_FIRST = re.compile(r"^claude-(?P<major>\d+)(?:[.-](?P<minor>\d))?-(?P<family>sonnet|opus|haiku)$")
_CLAUDE_FAMILY_FIRST = re.compile(r"^claude-(?P<family>sonnet|opus|haiku)-(?P<major>\d+)(?:[.-](?P<minor>\d))?$")
# Any other family with a dotted or dashed version: `gemini-2-5-flash` reads as `gemini-2.5-flash`.
_DASHED_VERSION = re.compile(r"^(?P<family>gemini|llama|grok)-(?P<major>\d+)-(?P<minor>\d)(?P<rest>(?:-.*)?)$")


def model_key(raw: str) -> str:
    """The one key of a model's raw name (see the module's docstring); a name no rule reads is kept
    as it is, lower case, its vendor prefix and release date dropped."""
    name = " ".join(raw.split()).lower()
    name = _KIND.sub("", _NOTE.sub("", name)).replace(" ", "-")
    name = _PREFIX.sub("", name)
    for rule in (_DATE, _MODE, _DATE):  # `-thinking` may follow the date, or the date the mode
        name = rule.sub("", name)
    for pattern in (_CLAUDE_VERSION_FIRST, _CLAUDE_FAMILY_FIRST):
        found = pattern.match(name)
        if found:
            return f"claude-{found['family']}-{_version(found['major'], found['minor'])}"
    found = _DASHED_VERSION.match(name)
    if found:
        return f"{found['family']}-{found['major']}.{found['minor']}{found['rest']}"
    return name or raw


def by_key(costs: Mapping[str, int]) -> dict[str, int]:
    """Costs by raw model name summed by key: what "the most expensive model" is chosen from."""
    out: dict[str, int] = {}
    for raw, cost in costs.items():
        key = model_key(raw)
        out[key] = out.get(key, 0) + cost
    return out


__all__ = ["by_key", "model_key"]

"""The account settings a GitHub Copilot integration carries besides its token: the organization or the
enterprise whose billing it reads (exactly one). Imports nothing heavy: the CLI reads it for its flags."""

from __future__ import annotations

from grafient_tui.providers.base import AccountField

# GitHub's rules for names: an organization login is letters, digits and single hyphens, at most 39
# characters, not starting or ending with a hyphen; an enterprise slug is the same in lower case (the
# part of github.com/enterprises/SLUG). Checked loosely here (consecutive hyphens pass); GitHub decides.
ORG = AccountField(
    name="org",
    flag="--org",
    metavar="ORG",
    label="GitHub organization",
    help="The organization whose Copilot billing the token reads (github.com/ORG).",
    pattern=r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?",
    invalid="A GitHub organization name is letters, digits and hyphens (at most 39, no hyphen at either end).",
    group="owner",
    placeholder="acme (github.com/acme)",
)
ENTERPRISE = AccountField(
    name="enterprise",
    flag="--enterprise",
    metavar="SLUG",
    label="GitHub enterprise",
    help="The enterprise whose Copilot billing the token reads (github.com/enterprises/SLUG); classic tokens only.",
    pattern=r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,58}[A-Za-z0-9])?",
    invalid="A GitHub enterprise slug is letters, digits and hyphens (github.com/enterprises/SLUG).",
    group="owner",
    placeholder="acme-corp (github.com/enterprises/acme-corp)",
)
ACCOUNT_FIELDS = (ORG, ENTERPRISE)

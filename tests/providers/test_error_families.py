"""The provider errors are families in errors.py: a caller catches the family without loading a
provider, every provider's own error is a member of the family it refines, and the old names still
name the same classes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from grafient_tui import errors
from tests.helpers import PATIENCE

FAMILIES = {
    errors.KeyRejected: [errors.NotAServiceAccountKey, errors.TokenExpired],
    errors.AccessDenied: [
        errors.NotEnterprise,
        errors.NotManagementKey,
        errors.ProjectsDenied,
        errors.SeatsDenied,
        errors.MissingPermissions,
    ],
    errors.BadResponse: [errors.ShapeError, errors.AnswerTooLarge, errors.LimitExceeded, errors.ActivityFormatError],
    errors.ProviderError: [
        errors.KeyRejected,
        errors.AccessDenied,
        errors.Unreachable,
        errors.ApiTimeout,
        errors.RateLimited,
        errors.ServerError,
        errors.RequestRejected,
        errors.BadResponse,
        errors.EventFormatError,
    ],
}


@pytest.mark.parametrize("family", list(FAMILIES), ids=lambda family: family.__name__)
def test_each_error_is_a_member_of_its_family_and_a_sentence(family: type[errors.ProviderError]) -> None:
    assert issubclass(family, errors.GrafientError)
    for member in FAMILIES[family]:
        assert issubclass(member, family), member
        sentence = "the Example API refused this key"
        error = errors.ShapeError(sentence) if member is errors.ShapeError else member(sentence)
        assert str(error) == error.sentence == sentence and error.exit_code == 2


def test_a_rejected_request_keeps_its_status_and_a_shape_error_its_detail() -> None:
    assert errors.RequestRejected("refused", status=404).status == 404
    assert errors.ShapeError("a bucket without results").detail == "a bucket without results"
    limit = errors.too_many_sums("OpenAI", "costs")
    assert isinstance(limit, errors.LimitExceeded) and "more than 100,000 different days" in limit.sentence


def test_the_old_names_are_the_same_classes() -> None:
    """Code and tests that named an error beside the provider keep catching the same thing."""
    from grafient_tui.providers import cursor, elevenlabs, http, openrouter
    from grafient_tui.providers.cursor import costs as cursor_costs
    from grafient_tui.providers.google import api as google_api
    from grafient_tui.providers.google import auth as google_auth
    from grafient_tui.providers.openai import costs as openai_costs

    for name in ("ProviderError", "KeyRejected", "AccessDenied", "BadResponse", "ShapeError", "RequestRejected"):
        assert getattr(http, name) is getattr(errors, name)
    assert http.too_many_sums is errors.too_many_sums
    assert cursor.NotEnterprise is errors.NotEnterprise and cursor.CursorError is errors.ProviderError
    assert cursor_costs.EventFormatError is errors.EventFormatError
    assert openai_costs.FormatError is errors.ShapeError  # OpenAI's name for a shape error
    assert openrouter.NotManagementKey is errors.NotManagementKey
    assert openrouter.ActivityFormatError is errors.ActivityFormatError
    assert elevenlabs.MissingPermissions is errors.MissingPermissions
    assert google_auth.NotAServiceAccountKey is errors.NotAServiceAccountKey
    assert google_api.TokenExpired is errors.TokenExpired


def test_the_add_screen_catches_the_family_for_a_pasted_key_that_is_not_one() -> None:
    from grafient_tui.tui.screens.add import describe_key_document

    assert describe_key_document('{"type": "service_account"') == "not a service-account JSON key (yet)"


PROBE = """
import sys
from grafient_tui.errors import KeyRejected, NotAServiceAccountKey, ShapeError, too_many_sums
loaded = sorted(m for m in sys.modules if m.split(".")[0] == "httpx" or m.startswith("grafient_tui.providers"))
print("LOADED", loaded)
"""


def test_catching_a_family_loads_no_provider_and_no_httpx() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=PATIENCE)
    assert result.returncode == 0, result.stderr
    assert "LOADED []" in result.stdout, result.stdout

"""The rules of a provider's account settings (providers/base.AccountField and check_account): what is
accepted, what is refused, and that every refusal is one sentence that never repeats a key."""

from __future__ import annotations

import subprocess
import sys

import pytest

from grafient_tui import providers
from grafient_tui.errors import ConfigError
from grafient_tui.providers.base import check_account, describe_account
from tests.account_provider import FIELDS, KEY

TITLE = "Example"


def check(**values: object) -> dict[str, str]:
    return check_account(FIELDS, values, title=TITLE)


def refusal(**values: object) -> str:
    with pytest.raises(ConfigError) as raised:
        check(**values)
    sentence = raised.value.sentence
    assert "\n" not in sentence and sentence.endswith(".")
    return sentence


def test_good_values_are_kept_trimmed_and_empty_ones_count_as_not_given() -> None:
    assert check(region=" eu ", org="acme", enterprise="", project=None) == {"region": "eu", "org": "acme"}
    assert check(region="us", enterprise="acme-corp", project="billing-1") == {
        "region": "us",
        "enterprise": "acme-corp",
        "project": "billing-1",
    }


def test_a_required_field_left_out_names_its_flag_and_what_it_is() -> None:
    sentence = refusal(org="acme")
    assert sentence == "Example needs --region REGION: The region the account lives in: eu or us."


def test_alternatives_take_exactly_one() -> None:
    assert refusal(region="eu") == "Example needs one of --org ORG or --enterprise SLUG."
    assert refusal(region="eu", org="acme", enterprise="acme-corp") == (
        "Example needs only one of --org ORG or --enterprise SLUG."
    )


@pytest.mark.parametrize(
    ("values", "sentence"),
    [
        ({"region": "mars", "org": "acme"}, "The region is eu or us."),
        ({"region": "eu", "org": "-acme"}, "An organization name is letters, digits and hyphens."),
        (
            {"region": "eu", "org": "acme", "project": "X"},
            "A project id is 3 to 30 lower-case letters, digits and hyphens.",
        ),
        ({"region": "eu", "org": "ac\x1bme"}, "An organization name is letters, digits and hyphens."),
        ({"region": "eu", "org": "a" * 300}, "An organization name is letters, digits and hyphens."),
        ({"region": "eu", "org": 7}, "An organization name is letters, digits and hyphens."),
        ({"region": "eu", "org": "acme", "colour": "red"}, "Example integrations take no --colour setting."),
    ],
)
def test_a_value_that_does_not_fit_is_its_fields_sentence(values: dict[str, object], sentence: str) -> None:
    assert refusal(**values) == sentence


def test_a_key_pasted_into_a_field_is_refused_without_being_repeated() -> None:
    sentence = refusal(region="eu", org=KEY)
    assert KEY not in sentence and KEY[-8:] not in sentence and "--org" in sentence


def test_describe_puts_the_settings_in_the_providers_order() -> None:
    assert (
        describe_account(FIELDS, {"project": "p-1", "org": "acme", "region": "eu"})
        == "--region eu --org acme --project p-1"
    )
    assert describe_account((), {}) == ""


def test_providers_without_settings_take_none() -> None:
    for name in providers.names():
        declared = providers.account_fields(name)
        assert providers.get(name).account_fields == declared  # the registry's row and the class agree
        if not declared:
            assert check_account((), {}, title=name) == {}
            with pytest.raises(ConfigError):
                check_account((), {"org": "acme"}, title=name)


def test_reading_a_providers_settings_loads_no_provider_and_no_httpx() -> None:
    """The CLI grows its flags from them on every start, `--help` included: that must stay cheap."""
    probe = (
        "import sys\n"
        "from grafient_tui import providers\n"
        "fields = [f for n in providers.names() for f in providers.account_fields(n)]\n"
        "heavy = sorted(m for m in sys.modules if m.startswith(('httpx', 'textual', 'sqlalchemy'))"
        " or m.endswith('.api') or m == 'grafient_tui.providers.http')\n"
        "assert not heavy, heavy\n"
        "print('FIELDS', len(fields))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("FIELDS")

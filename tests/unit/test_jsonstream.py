"""providers/jsonstream.py: an answer walked entry by entry reads what json.loads reads, and refuses
what json.loads refuses, at a cost bounded by the answer's size."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grafient_tui.providers import jsonstream
from grafient_tui.providers.jsonstream import (
    EntryTooLarge,
    JsonArray,
    JsonObject,
    JsonShapeError,
    NotAnObject,
    decode_at,
    parse_object,
    skip_at,
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.decimals(allow_nan=False, allow_infinity=False, places=6),
    st.text(max_size=30),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=6), st.dictionaries(st.text(max_size=8), inner, max_size=6)),
    max_leaves=40,
)


def walked(value: Any, where: JsonObject | JsonArray | None = None) -> Any:
    """The value rebuilt by walking: objects member by member, lists item by item."""
    if isinstance(where, JsonObject):
        return {
            name: walked(None, where.object(name))
            if where.kind(name) == "an object"
            else walked(None, where.array(name))
            if where.kind(name) == "a list"
            else where.get(name)
            for name in where._members
        }
    if isinstance(where, JsonArray):
        out = []
        for item in where.objects():
            if isinstance(item, JsonObject):
                out.append(walked(None, item))
            else:
                out.append("<" + item + ">")
        return out
    return value


def kinds(value: Any) -> Any:
    """What `walked` makes of a decoded list: objects rebuilt, other items named by their kind."""
    if isinstance(value, dict):
        return {k: kinds(v) if isinstance(v, (dict, list)) else v for k, v in value.items()}
    if isinstance(value, list):
        return [
            kinds(v)
            if isinstance(v, dict)
            else "<"
            + {list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(type(v), "a number")
            + ">"
            for v in value
        ]
    return value


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=8), values, max_size=8), st.sampled_from([None, 2, 0]))
def test_walking_reads_what_json_loads_reads(answer: dict, indent: int | None) -> None:
    text = json.dumps(answer, indent=indent, default=str)
    expected = json.loads(text, parse_float=Decimal)
    root = parse_object(text)
    assert walked(None, root) == kinds(expected)
    assert root.decode(len(text)) == expected


def test_a_number_cut_by_a_slice_is_read_whole() -> None:
    # The first slice ends inside the number: it must be grown, not read as 1234.
    text = "[" + " " * 50 + "123456789012345678901234567890.5]"
    array = JsonArray(text, 0)
    assert list(array.values()) == [Decimal("123456789012345678901234567890.5")]
    assert decode_at('{"a": 10000000000000000000000000000001}', 6, hint=4)[0] == 10**31 + 1


@pytest.mark.parametrize(
    "text",
    ['{"a": }', '{"a": 1', '{"a": [1, 2}', '{"a" 1}', '{"a": tru}', '{"a": 1} x', '{"a": "\\x"}', "{1: 2}", ""],
)
def test_what_is_not_json_is_refused(text: str) -> None:
    with pytest.raises(JsonShapeError):
        root = parse_object(text)
        for name in list(root._members):
            root.get(name)


def test_json_of_another_kind_is_not_an_object() -> None:
    for text in ("[1, 2]", '"x"', "3", "null"):
        with pytest.raises(NotAnObject):
            parse_object(text)


def test_entries_and_members_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    big = '{"data": [{"x": "' + "y" * (jsonstream.MAX_ENTRY_CHARS + 10) + '"}]}'
    with pytest.raises(EntryTooLarge, match="an entry longer than 256 KB"):
        list(parse_object(big).array("data").values())  # type: ignore[union-attr]
    many = "{" + ",".join(f'"k{i}": {i}' for i in range(jsonstream.MAX_MEMBERS + 1)) + "}"
    with pytest.raises(JsonShapeError, match="more than 1,000 members"):
        parse_object(many)
    monkeypatch.setattr(jsonstream, "MAX_ENTRIES", 10)
    with pytest.raises(EntryTooLarge, match="more than 10 entries"):
        list(parse_object('{"data": [' + ",".join(["1"] * 11) + "]}").array("data").values())  # type: ignore[union-attr]


def test_a_value_not_read_is_passed_over_by_its_brackets() -> None:
    text = '{"skip": [' + ",".join(['{"a": "]}[{\\""}'] * 5000) + '], "keep": 7}'
    assert parse_object(text).get("keep") == 7
    assert skip_at('[[1], {"a": "]"}] tail', 0) == len('[[1], {"a": "]"}]')
    # Too long to decode whole, so walked by its brackets: those may not nest past MAX_DEPTH.
    deep = "[" * (jsonstream.MAX_DEPTH + 1) + " " * 10_000 + "]" * (jsonstream.MAX_DEPTH + 1)
    with pytest.raises(JsonShapeError, match="nested too deeply"):
        skip_at(deep, 0)


def test_errors_met_while_reading_become_the_callers() -> None:
    class Mine(Exception):
        pass

    root = parse_object('{"data": [1, "' + "z" * (jsonstream.MAX_ENTRY_CHARS + 1) + '"]}', lambda exc: Mine(exc.reason))
    with pytest.raises(Mine) as raised:
        list(root.array("data").values())  # type: ignore[union-attr]
    assert raised.value.__context__ is None

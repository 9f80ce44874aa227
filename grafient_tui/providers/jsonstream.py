"""Reading a JSON answer entry by entry, so what an answer costs is bounded by its size, not its shape.

`json.loads` builds every value of an answer at once, and a page of tiny objects (`{},{},...`) costs
about 23 times its size in Python objects: the 64 MB response cap alone would allow ~1.4 GiB. Here
the answer's text is walked instead. An object's members and an array's items are found one at a
time; each is decoded by the C decoder (`raw_decode`) from a slice of the text at most
MAX_ENTRY_CHARS long, so one entry costs at most a fixed amount, and a list is handed to its reader
entry by entry (the reader keeps only what it needs: a sum, an id -> name). What an answer costs is
then its text (1 to 4 bytes a character, as Python stores it) plus one entry plus what its reader
keeps, which the providers bound by counting entries as they arrive.

Numbers with a fraction or an exponent are decoded as the Decimal of their literal text (money is
read exactly); whole numbers are ints.

Pure: no network, no Textual.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from grafient_tui.money import decimal_literal

T = TypeVar("T")

MAX_ENTRY_CHARS = 256 * 1024  # the most one decoded entry may span: a usage event is well under 10 KB
# What is tried whole before a value that is not read is passed over by its brackets instead: decoding
# (and dropping) a slice costs up to ~23 times it for a moment, the bracket walk nothing.
_SKIP_CHARS = 8 * 1024
MAX_MEMBERS = 1_000  # members of an object read lazily (an answer, a bucket): real ones have a handful
MAX_DEPTH = 64  # containers nested inside one another, when passing over what is not read
# Entries one answer may hand its reader, all its lists together: ~2 µs each, so an answer of tiny
# entries costs at most a few seconds of CPU (a real page has thousands).
MAX_ENTRIES = 1_000_000
_FIRST_SLICE = 64  # characters tried first for an entry; grown fourfold while the entry is cut

_DECODER = json.JSONDecoder(parse_float=decimal_literal)
# json's own string scanner (C): typeshed does not declare it, but it is what json.loads runs.
_scanstring: Callable[[str, int, bool], tuple[str, int]] = getattr(json.decoder, "scanstring")  # noqa: B009
_SPACE = re.compile(r"[ \t\n\r]*")


class JsonShapeError(ValueError):
    """The text is not the JSON it should be. `reason` is a few words fit for a sentence, never the
    text itself (an answer may echo anything, a key included)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EntryTooLarge(JsonShapeError):
    """One entry spans more than MAX_ENTRY_CHARS: an answer Grafient will not decode."""


class NotAnObject(JsonShapeError):
    """Valid JSON, but not the object every answer is."""


def _space(text: str, pos: int) -> int:
    match = _SPACE.match(text, pos)
    return match.end() if match is not None else pos


def _cut(exc: json.JSONDecodeError, size: int) -> bool:
    """Whether a decoding error is the slice's end cutting the entry short (else the entry is malformed)."""
    return exc.msg.startswith("Unterminated string") or exc.pos >= size - 8


def decode_at(text: str, pos: int, limit: int = MAX_ENTRY_CHARS, hint: int = _FIRST_SLICE) -> tuple[Any, int]:
    """The value starting at `pos` (no leading space) and the position after it. It is decoded from a
    slice of at most `limit` characters, grown from `hint`, so a value longer than that costs no more
    than the slice: EntryTooLarge. JsonShapeError when the text there is not JSON."""
    end_of_text = len(text)
    size = max(16, min(hint, limit))
    while True:
        stop = min(end_of_text, pos + size)
        piece = text[pos:stop]
        try:
            value, used = _DECODER.raw_decode(piece)
        except json.JSONDecodeError as exc:
            if stop == end_of_text or not _cut(exc, len(piece)):
                raise JsonShapeError("text that is not JSON") from None
        except RecursionError:
            raise JsonShapeError("JSON nested too deeply") from None
        else:
            # A number or a literal that ends where the slice ends may go on past it.
            if used < len(piece) or stop == end_of_text or piece[used - 1] in '"]}':
                return value, pos + used
        if size >= limit:
            raise EntryTooLarge(f"an entry longer than {limit // 1024:,} KB")
        size = min(limit, size * 4)


# Everything but brackets, strings jumped whole (an unrolled loop: no backtracking): the bracket walk
# below handles only the brackets in Python, the rest is the regex engine's.
_BETWEEN = re.compile(r'(?:[^"\[\]{}]+|"[^"\\]*(?:\\.[^"\\]*)*")*')
_CLOSING = {"[": "]", "{": "}"}


def skip_at(text: str, pos: int) -> int:
    """The position after the value at `pos`, building nothing larger than an entry: a value too long
    to decode whole is passed over by its brackets (strings jumped whole), which checks that they
    balance but builds no object (what is read is decoded, and checked, when it is read)."""
    try:
        return decode_at(text, pos, _SKIP_CHARS)[1]
    except EntryTooLarge:
        pass
    opening = text[pos]
    if opening == '"':
        return _string(text, pos)[1]
    if opening not in _CLOSING:
        raise EntryTooLarge(f"an entry longer than {MAX_ENTRY_CHARS // 1024:,} KB")
    open_brackets = [_CLOSING[opening]]
    end = len(text)
    pos += 1
    match = _BETWEEN.match
    while True:
        found = match(text, pos)
        pos = found.end() if found is not None else pos
        if pos >= end:
            break
        bracket = text[pos]
        if bracket in _CLOSING:
            open_brackets.append(_CLOSING[bracket])
            if len(open_brackets) > MAX_DEPTH:
                raise JsonShapeError("JSON nested too deeply")
        elif bracket == '"' or open_brackets.pop() != bracket:
            break  # a string that never ends, or a bracket closing another
        elif not open_brackets:
            return pos + 1
        pos += 1
    raise JsonShapeError("text that is not JSON")


def _string(text: str, pos: int) -> tuple[str, int]:
    if pos >= len(text) or text[pos] != '"':
        raise JsonShapeError("an object whose member names are not strings")
    try:
        return _scanstring(text, pos + 1, True)
    except json.JSONDecodeError:
        raise JsonShapeError("text that is not JSON") from None


Fail = Callable[[JsonShapeError], Exception]


class _Budget:
    """What every list and object of one answer shares: the entries handed out so far, and `fail`,
    which turns a JsonShapeError met while reading into the caller's own error (a sentence naming
    the API and the path)."""

    __slots__ = ("fail", "left")

    def __init__(self, fail: Fail | None = None) -> None:
        self.left = MAX_ENTRIES
        self.fail: Fail = fail or (lambda exc: exc)

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise EntryTooLarge(f"an answer of more than {MAX_ENTRIES:,} entries")

    def guard(self, items: Iterator[T]) -> Iterator[T]:
        """`items`, with a JsonShapeError turned into the caller's error (raised with nothing chained)."""
        while True:
            error: Exception | None = None
            try:
                item = next(items)
            except StopIteration:
                return
            except JsonShapeError as exc:
                error = self.fail(exc)
            if error is not None:
                raise error
            yield item

    def call(self, work: Callable[[], T]) -> T:
        error: Exception | None = None
        try:
            return work()
        except JsonShapeError as exc:
            error = self.fail(exc)
        raise error


_KINDS = {"{": "an object", "[": "a list", '"': "a string", "n": "null", "t": "a boolean", "f": "a boolean"}


def kind_of(text: str, pos: int) -> str:
    """What the value at `pos` is, in the words of a sentence: "an object", "a list", "a string",
    "null", "a boolean" or "a number"."""
    return _KINDS.get(text[pos], "a number")


class JsonArray:
    """An array in the text, walked item by item (see `values` and `objects`)."""

    __slots__ = ("_budget", "_next", "end", "start", "text")

    def __init__(self, text: str, start: int, budget: _Budget | None = None) -> None:
        if start >= len(text) or text[start] != "[":
            raise JsonShapeError("a value that is not a list")
        self.text, self.start = text, start
        self._budget = budget or _Budget()
        self.end = -1  # known once the walk has passed the closing bracket
        self._next = -1

    def positions(self) -> Iterator[int]:
        """The start of each item, in order. The caller reads or skips the item, then calls
        `step(end)` with the position after it, before asking for the next one."""
        text = self.text
        pos = _space(text, self.start + 1)
        if pos < len(text) and text[pos] == "]":
            self.end = pos + 1
            return
        spend = self._budget.spend
        while True:
            if pos >= len(text):
                raise JsonShapeError("text that is not JSON")
            spend()
            self._next = -1
            yield pos
            if self._next < 0:
                raise RuntimeError("JsonArray.positions: step() was not called for the item")
            pos = _space(text, self._next)
            if pos < len(text) and text[pos] == ",":
                pos = _space(text, pos + 1)
                continue
            if pos < len(text) and text[pos] == "]":
                self.end = pos + 1
                return
            raise JsonShapeError("text that is not JSON")

    def step(self, end: int) -> None:
        self._next = end

    def values(self) -> Iterator[Any]:
        """Each item, decoded (each at most MAX_ENTRY_CHARS long, else EntryTooLarge)."""
        return self._budget.guard(self._values())

    def _values(self) -> Iterator[Any]:
        hint = _FIRST_SLICE
        for pos in self.positions():
            value, end = decode_at(self.text, pos, hint=hint)
            hint = 2 * (end - pos) + 16  # the items of a list are alike in size
            self.step(end)
            yield value

    def objects(self) -> Iterator[JsonObject | str]:
        """Each item that is an object, read lazily (its own lists are walked too); for an item of
        another kind (skipped), what it is: "a string", "null"... (see `kind_of`)."""
        return self._budget.guard(self._objects())

    def _objects(self) -> Iterator[JsonObject | str]:
        for pos in self.positions():
            if self.text[pos] == "{":
                item = JsonObject(self.text, pos, self._budget)
                self.step(item.end)
                yield item
            else:
                self.step(skip_at(self.text, pos))
                yield kind_of(self.text, pos)


class JsonObject:
    """An object in the text whose members have been found (at most MAX_MEMBERS); each value is
    decoded only when asked for, and a list can be walked entry by entry."""

    __slots__ = ("_budget", "_members", "end", "start", "text")

    def __init__(self, text: str, start: int, budget: _Budget | None = None) -> None:
        if start >= len(text) or text[start] != "{":
            raise JsonShapeError("a value that is not an object")
        self.text, self.start = text, start
        self._budget = budget or _Budget()
        self._members: dict[str, int] = {}  # name -> where its value starts (the last one of a name wins)
        pos = _space(text, start + 1)
        if pos < len(text) and text[pos] == "}":
            self.end = pos + 1
            return
        count = 0
        while True:
            name, pos = _string(text, pos)
            pos = _space(text, pos)
            if pos >= len(text) or text[pos] != ":":
                raise JsonShapeError("text that is not JSON")
            pos = _space(text, pos + 1)
            if pos >= len(text):
                raise JsonShapeError("text that is not JSON")
            count += 1
            if count > MAX_MEMBERS:
                raise JsonShapeError(f"an object with more than {MAX_MEMBERS:,} members")
            self._members[name] = pos
            pos = _space(text, skip_at(text, pos))
            if pos < len(text) and text[pos] == ",":
                pos = _space(text, pos + 1)
                continue
            if pos < len(text) and text[pos] == "}":
                self.end = pos + 1
                return
            raise JsonShapeError("text that is not JSON")

    def __contains__(self, name: str) -> bool:
        return name in self._members

    def names(self) -> list[str]:
        """The members' names, in the order first met (at most MAX_MEMBERS)."""
        return list(self._members)

    def kind(self, name: str) -> str:
        """What the member is, for a sentence ("a list", "null"... see `kind_of`); "missing" when absent."""
        pos = self._members.get(name)
        return "missing" if pos is None else kind_of(self.text, pos)

    def get(self, name: str, default: Any = None) -> Any:
        """The member's value, decoded (at most MAX_ENTRY_CHARS long, else EntryTooLarge); `default` when absent."""
        pos = self._members.get(name)
        if pos is None:
            return default
        return self._budget.call(lambda: decode_at(self.text, pos)[0])

    def array(self, name: str) -> JsonArray | None:
        """The member as a list to walk; None when it is absent or not a list."""
        pos = self._members.get(name)
        if pos is None or self.text[pos] != "[":
            return None
        return JsonArray(self.text, pos, self._budget)

    def object(self, name: str) -> JsonObject | None:
        """The member as an object read lazily; None when it is absent or not an object."""
        pos = self._members.get(name)
        if pos is None or self.text[pos] != "{":
            return None
        return self._budget.call(lambda: JsonObject(self.text, pos, self._budget))

    def decode(self, limit: int) -> dict[str, Any]:
        """The whole object decoded at once, if its text is at most `limit` characters (else EntryTooLarge)."""
        if self.end - self.start > limit:
            raise self._budget.fail(EntryTooLarge(f"an answer longer than {limit // 1024:,} KB"))
        value: dict[str, Any] = _DECODER.raw_decode(self.text[self.start : self.end])[0]
        return value


def parse_object(text: str, fail: Fail | None = None) -> JsonObject:
    """The JSON object that is the whole of `text`, its members found; JsonShapeError when the text is
    not JSON, NotAnObject when it is JSON of another kind. `fail` turns what goes wrong later, while
    its members and lists are read, into the caller's own error."""
    pos = _space(text, 0)
    if pos < len(text) and text[pos] != "{":
        end = _space(text, skip_at(text, pos))
        if end == len(text):
            raise NotAnObject("a JSON value that is not an object")
        raise JsonShapeError("text that is not JSON")
    answer = JsonObject(text, pos, _Budget(fail))
    if _space(text, answer.end) != len(text):
        raise JsonShapeError("text that is not JSON")
    return answer

"""jsonstream.top_level: the same values as json.loads, items one at a time, errors positioned."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from dnsd.plugins.kubernetes.jsonstream import top_level


def read_all(text: str) -> Any:
    """What top_level yields, put back together."""
    pairs = list((k, list(v) if isinstance(v, Iterator) else v) for k, v in top_level(text))
    if pairs and pairs[0][0] is None:
        return pairs[0][1]
    return dict(pairs)


SAME_AS_LOADS = [
    "{}",
    " { } ",
    '{"kind": "List", "items": []}',
    '{"items": [1, {"a": [2, 3]}, "x", null], "kind": "List"}',
    '{"items": {"not": "an array"}, "b": true}',
    '{"a": "items", "items": [[]], "c": {"items": [1]}}',
    '\n{\n "items" : [ {"k":"v"} ,\t{"k":"w"} ] ,"z":1}\n',
    "[1, 2]",
    '"text"',
    "3",
    '{"": 1, "items": [0]}',
]


@pytest.mark.parametrize("text", SAME_AS_LOADS)
def test_same_values_as_json_loads(text: str) -> None:
    assert read_all(text) == json.loads(text)


def test_items_are_decoded_one_at_a_time() -> None:
    text = '{"kind": "List", "items": [{"n": 1}, {"n": 2}, oops]}'
    fields = top_level(text)
    assert next(fields) == ("kind", "List")
    key, items = next(fields)
    assert key == "items"
    assert next(items) == {"n": 1}
    assert next(items) == {"n": 2}  # the bad third item is not read yet
    with pytest.raises(json.JSONDecodeError):
        next(items)


def test_unread_items_are_skipped() -> None:
    fields = list(top_level('{"items": [1, 2, 3], "kind": "List"}'))
    assert [k for k, _ in fields] == ["items", "kind"]


ERRORS = [
    ("", "Expecting value: line 1 column 1 (char 0)"),
    ("{", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
    ('{"a" 1}', "Expecting ':' delimiter: line 1 column 6 (char 5)"),
    ('{"a": 1 "b": 2}', "Expecting ',' delimiter: line 1 column 9 (char 8)"),
    ('{"items": [1 2]}', "Expecting ',' delimiter: line 1 column 14 (char 13)"),
    ('{"items": [1,]}', "Expecting value: line 1 column 14 (char 13)"),
    ('{"a": 1}\n{}', "Extra data: line 2 column 1 (char 9)"),
    ("[1] x", "Extra data: line 1 column 5 (char 4)"),
    ('{"items": [1', "Expecting ',' delimiter: line 1 column 13 (char 12)"),
]


@pytest.mark.parametrize(("text", "message"), ERRORS)
def test_errors_are_positioned(text: str, message: str) -> None:
    with pytest.raises(json.JSONDecodeError) as info:
        read_all(text)
    assert str(info.value) == message

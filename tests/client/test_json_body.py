"""``read_json`` (msgspec's parser) gives exactly what ``json.loads`` gives: the same value,
or the same exception with the same message, for valid JSON, for JSON only Python's reader
takes (NaN, huge numbers, lone surrogates, a byte-order mark, UTF-16) and for any bytes."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kalshi_core.client.json_body import read_json

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(),  # NaN and the infinities too: json.dumps writes them, json.loads reads them
    st.text(),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


def _texts(value: Any) -> st.SearchStrategy[bytes]:
    """``value`` written the ways a server might: compact, spaced, escaped or raw UTF-8."""
    return st.sampled_from(
        [
            json.dumps(value).encode(),
            json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass"),
            json.dumps(value, indent=2, separators=(" , ", " : ")).encode(),
        ]
    )


def _outcome(read: Any, body: bytes) -> tuple[str, str]:
    """What reading ``body`` gave, comparable across readers: ``repr`` keeps NaN equal to
    itself, -0.0 apart from 0.0, and 1 apart from 1.0 and True."""
    try:
        return "value", repr(read(body))
    except (ValueError, RecursionError) as exc:
        return type(exc).__name__, str(exc)


def assert_same_as_json_loads(body: bytes) -> None:
    assert _outcome(read_json, body) == _outcome(json.loads, body)


@settings(max_examples=300)
@given(JSON.flatmap(_texts))
def test_any_json_value_reads_as_json_loads_reads_it(body: bytes) -> None:
    assert_same_as_json_loads(body)


@settings(max_examples=300)
@given(st.binary(max_size=80))
def test_any_bytes_read_or_fail_as_with_json_loads(body: bytes) -> None:
    assert_same_as_json_loads(body)


@settings(max_examples=200)
@given(JSON.flatmap(_texts), st.integers(min_value=0), st.binary(min_size=1, max_size=3))
def test_damaged_json_fails_as_with_json_loads(body: bytes, where: int, junk: bytes) -> None:
    at = where % (len(body) + 1)
    assert_same_as_json_loads(body[:at] + junk + body[at:])


@pytest.mark.parametrize(
    "body",
    [
        b"[123456789012345678901234567890, -9223372036854775809]",  # integers beyond 64 bits
        b"[NaN, Infinity, -Infinity, 1e400, -1e400, 1.7976931348623159e308]",
        b'["\\ud800", "\\udc00\\ud800", "\\ud83d\\ude00"]',  # lone and paired surrogates
        b'["\xed\xa0\x80"]',  # an encoded surrogate: json.loads reads bytes with surrogatepass
        b"\xef\xbb\xbf{}",  # a UTF-8 byte-order mark
        '{"a": "é"}'.encode("utf-16"),
        '{"a": "é"}'.encode("utf-32-le"),
        b'{"a": 1, "a": 2}',  # the last of duplicate keys wins
        b'["\xff"]',  # invalid UTF-8: UnicodeDecodeError, as before
        b"",
        b"[1,]",
        b'"\x00"',
        b"[" * 200_000 + b"]" * 200_000,  # RecursionError, as before
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b" \t\r\n[1.5, -0.0, 0, -0, 5e-324, 2.2250738585072011e-308] \n",
    ],
)
def test_the_forms_only_one_reader_takes_read_as_json_loads_reads_them(body: bytes) -> None:
    assert_same_as_json_loads(body)


def test_integers_stay_exact_integers() -> None:
    big = 10**30 + 1
    read = read_json(json.dumps({"count": big, "price": 4200}).encode())
    assert read == {"count": big, "price": 4200}
    assert type(read["count"]) is int


def test_nan_still_reads_as_nan() -> None:
    assert math.isnan(read_json(b"NaN"))

"""The Decimal-free parsers and the compiled structurers agree with the strict reference.

The fast path may only be *narrower* than the reference (it hands what it does not take to the
cattrs/Decimal path), never wider: on every input, a value it returns is the reference's value,
and every input the reference rejects it leaves alone. On the plain forms Kalshi sends, it
must also actually take the input (or it would be no faster).
"""

from __future__ import annotations

import json
import weakref
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from kalshi_core.client.types import AmendAck, BatchCancelResult, Candlestick, LocalClock
from kalshi_core.errors import WireFormatError
from kalshi_core.gateway import BatchOrderResult, CancelAck, OrderAck
from kalshi_core.models import WIRE, Market, OrderBook
from kalshi_core.money import CONTRACT, DOLLAR, parse_count, parse_dollars, parse_fixed_text
from kalshi_core.wire import (
    _explain_count,
    _explain_dollars,
    converter,
    fast_structurer,
    fast_wire_count,
    fast_wire_dollars,
    from_wire,
    many_from_wire,
    parse_time,
    read_rfc3339,
    to_wire,
)
from tests.test_wire import MARKET_JSON, WIRE_MODELS, wire_model

# Digits of every script (what the regex \d and Decimal accept), weighted towards ASCII.
digit = st.sampled_from("0123456789") | st.characters(categories=["Nd"])
ascii_digits = st.text(st.sampled_from("0123456789"), min_size=1, max_size=12)
# Up to 20 whole digits: beyond 28 significant digits Decimal's context rounds, the reference
# would be the one in the wrong.
decimal_like = st.builds(
    lambda sign, whole, point, fraction: f"{sign}{whole}{point}{fraction}",
    st.sampled_from(["", "-", "+"]),
    st.text(digit, max_size=20),
    st.sampled_from([".", "", ",", ".."]),
    st.text(digit | st.sampled_from(" _e"), max_size=9),
)
anything = st.one_of(
    decimal_like,
    st.text(max_size=12),
    st.integers(),
    st.floats(),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
)


def outcome(parse: Any, value: Any) -> tuple[str, Any]:
    try:
        return "ok", parse(value)
    except (TypeError, ValueError):
        return "error", None


@given(value=anything)
@example(value="0.42000")
@example(value="-0.000100")
@example(value="0.00001")
@example(value="\u0663.\u0664\u0662")
@example(value="1.")
@example(value=".5")
def test_fast_dollars_equal_the_decimal_reading(value: Any) -> None:
    fast = fast_wire_dollars(value)
    reference = outcome(_explain_dollars, value)
    if fast is not None:
        assert reference == ("ok", fast)
    if reference[0] == "error":
        assert fast is None


@given(value=anything)
@example(value="10")
@example(value="-0")
@example(value="1.001")
@example(value="1.000000")
@example(value="1.0000000")
def test_fast_count_equals_the_decimal_reading(value: Any) -> None:
    fast = fast_wire_count(value)
    reference = outcome(_explain_count, value)
    if fast is not None:
        assert reference == ("ok", fast)
    if reference[0] == "error":
        assert fast is None


@given(
    sign=st.sampled_from(["", "-"]),
    whole=ascii_digits,
    fraction=st.text("0123456789", min_size=2, max_size=6),
)
def test_plain_dollar_strings_take_the_fast_path(sign: str, whole: str, fraction: str) -> None:
    text = f"{sign}{whole}.{fraction}"
    exact = Decimal(text) * DOLLAR
    expected = int(exact) if exact == exact.to_integral_value() else None
    assert fast_wire_dollars(text) == expected


@given(whole=ascii_digits, fraction=st.sampled_from(["", ".0", ".00", ".50", ".25"]))
def test_plain_count_strings_take_the_fast_path(whole: str, fraction: str) -> None:
    text = whole + fraction
    assert fast_wire_count(text) == int(Decimal(text) * CONTRACT)


def _time_outcome(read: Any, text: str) -> tuple[str, Any]:
    try:
        moment = read(text)
    except (TypeError, ValueError) as exc:
        return "error", str(exc)
    return "value", (moment, moment.tzinfo is UTC)


# Kalshi's form with every field in or just out of range, and its near misses.
time_text = st.builds(
    "{:04d}-{:02d}-{:02d}{}{:02d}:{:02d}:{:02d}{}{}".format,
    st.integers(0, 9999), st.integers(0, 13), st.integers(0, 32), st.sampled_from("Tt "),
    st.integers(0, 25), st.integers(0, 60), st.integers(0, 61),
    st.sampled_from(["", ".000000", ".061628", ".999999", ".5", ".1234567", ",061628"]),
    st.sampled_from(["Z", "z", "+00:00", "-05:00", ""]),
)  # fmt: skip


@given(text=time_text | st.datetimes().map(lambda moment: moment.isoformat() + "Z"))
@example(text="2026-12-05T14:34:01.061628Z")
@example(text="2026-01-01T24:00:00Z")
@example(text="\uff12026-12-05T14:34:01Z")  # a fullwidth digit: the general reading
def test_plain_utc_times_read_like_the_general_reading(text: str) -> None:
    expected = _time_outcome(read_rfc3339, text)
    assert _time_outcome(parse_time, text) == expected
    if expected[0] == "value":
        assert expected[1][0] == datetime.fromisoformat(expected[1][0].isoformat())


@given(value=decimal_like | st.text(max_size=12))
@example(value=" 1.5 ")
@example(value="1_000.00")
@example(value="1e2")
def test_money_parsers_equal_decimal(value: str) -> None:
    for parse, scale, places in ((parse_dollars, DOLLAR, 4), (parse_count, CONTRACT, 2)):
        fast = parse_fixed_text(value, places, len(value))
        reference = outcome(lambda text, s=scale: _decimal_units(text, s), value)
        if fast is not None:
            assert reference == ("ok", fast)
        assert outcome(parse, value) == reference


def _decimal_units(text: str, scale: int) -> int:
    """money.py's parsing before the fast path: the reference."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite() or value * scale != (value * scale).to_integral_value():
        raise ValueError(text)
    return int(value * scale)


# ---- the compiled structurers against cattrs ----

CLIENT_TYPES = (AmendAck, BatchCancelResult, Candlestick, LocalClock, OrderAck, CancelAck)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


def slow(data: Any, cls: type[Any]) -> tuple[str, Any]:
    try:
        return "ok", converter.structure(data, cls)
    except Exception:
        return "error", None


def fast(data: Any, cls: type[Any]) -> tuple[str, Any]:
    try:
        return "ok", fast_structurer(cls)(data)
    except Exception:
        return "error", None


@pytest.mark.parametrize("cls", WIRE_MODELS, ids=lambda cls: cls.__name__)
@given(data=st.data())
def test_compiled_structurer_reads_valid_objects_like_cattrs(cls: type[Any], data: Any) -> None:
    obj = data.draw(wire_model(cls))
    wire = json.loads(json.dumps(to_wire(obj)))
    assert fast(wire, cls) == ("ok", obj) == slow(wire, cls)


@pytest.mark.parametrize("cls", WIRE_MODELS, ids=lambda cls: cls.__name__)
@given(data=st.data())
def test_compiled_structurer_never_accepts_what_cattrs_rejects(cls: type[Any], data: Any) -> None:
    wire = json.loads(json.dumps(to_wire(data.draw(wire_model(cls)))))
    if isinstance(wire, dict) and wire:
        key = data.draw(st.sampled_from(sorted(wire)))
        if data.draw(st.booleans()):
            del wire[key]
        else:
            wire[key] = data.draw(json_values)
    fast_outcome = fast(wire, cls)
    if fast_outcome[0] == "ok":
        assert slow(wire, cls) == fast_outcome


@pytest.mark.parametrize("cls", CLIENT_TYPES, ids=lambda cls: cls.__name__)
@given(data=st.data())
def test_client_types_hostile_fields(cls: type[Any], data: Any) -> None:
    names = [f.metadata.get(WIRE, (None,))[0] or f.name for f in attrs.fields(cls)]
    wire = data.draw(st.dictionaries(st.sampled_from(names), json_values, max_size=6))
    wire.setdefault("order_id", data.draw(st.text(max_size=5)))
    fast_outcome = fast(wire, cls)
    if fast_outcome[0] == "ok":
        assert slow(wire, cls) == fast_outcome


def test_batch_results_with_nested_errors() -> None:
    wire = {"orders": [{"client_order_id": "a", "error": {"code": "x", "message": "no"}}]}
    [result] = many_from_wire(wire, BatchOrderResult, where="POST /batched", key="orders")
    assert result.error is not None
    assert result.error.code == "x"
    assert fast(wire["orders"][0], BatchOrderResult) == slow(wire["orders"][0], BatchOrderResult)


def test_an_error_found_by_the_fast_path_is_explained_by_cattrs() -> None:
    bad = [MARKET_JSON, {**MARKET_JSON, "yes_bid_dollars": 0.42}]
    with pytest.raises(WireFormatError, match=r"markets\[1\]\.yes_bid_dollars: expected a dollar"):
        many_from_wire({"markets": bad}, Market, where="GET /markets", key="markets")


def test_orderbook_keeps_its_own_reader() -> None:
    wire = {
        "ticker": "T",
        "orderbook_fp": {"yes_dollars": [["0.4200", "3.00"]], "no_dollars": None},
    }
    book = from_wire(wire, OrderBook, where="book")
    assert book.yes[0].price == 4200
    assert book.no == ()


GRID = {"start": "0.0000", "end": "1.0000", "step": "0.0100"}
grid_values = st.sampled_from(["0.0000", "0.1000", "1.0000", "0.0100", "0.01", "x", ""])
grid_fields = st.one_of(grid_values, json_values)
grid_records = st.one_of(
    st.fixed_dictionaries({}, optional=dict.fromkeys(GRID, grid_fields)),
    json_values,
)


@given(grids=st.lists(st.lists(grid_records, max_size=10), min_size=1, max_size=6))
@example(grids=[[GRID], [{**GRID, "step": 1}], [{**GRID, "step": True}], [GRID]])
@example(grids=[[GRID], [{**GRID, "extra": [1]}], [{"start": "0.0000", "end": "1.0000"}]])
@example(grids=[[{**GRID, "step": None}], [{"start": "0.0000", "end": "1.0000"}], [[]]])
def test_remembered_price_grids_read_like_cattrs(grids: list[list[Any]]) -> None:
    # Read one after the other, so that later grids meet the readings of earlier ones.
    for grid in grids:
        wire = {**MARKET_JSON, "price_ranges": grid}
        fast_outcome = fast(wire, Market)
        assert fast_outcome == slow(wire, Market) or fast_outcome[0] == "error"
        if fast_outcome[0] == "error":
            assert from_wire_outcome(wire) == slow(wire, Market)


def from_wire_outcome(wire: Any) -> tuple[str, Any]:
    try:
        return "ok", from_wire(wire, Market, where="market")
    except WireFormatError:
        return "error", None


def test_the_plain_grid_is_read_once_and_shared() -> None:
    first = fast_structurer(Market)({**MARKET_JSON, "price_ranges": [dict(GRID)]})
    second = fast_structurer(Market)({**MARKET_JSON, "price_ranges": [dict(GRID)]})
    assert first.price_ranges is second.price_ranges
    assert (
        first.price_ranges == slow({**MARKET_JSON, "price_ranges": [GRID]}, Market)[1].price_ranges
    )


@attrs.frozen
class _Checked:
    name: str = attrs.field(validator=attrs.validators.min_len(2))


_MADE: list[str] = []


@attrs.frozen
class _Counted:
    name: str

    def __attrs_post_init__(self) -> None:
        _MADE.append(self.name)


@attrs.frozen(cache_hash=True)
class _Hashed:
    name: str


@attrs.frozen(slots=False)
class _Unslotted:
    name: str


@attrs.frozen
class _Base:
    name: str


@attrs.frozen
class _Derived(_Base):
    size: int = 0


def test_a_class_whose_init_does_more_than_store_is_still_called() -> None:
    with pytest.raises(ValueError, match="Length of 'name'"):
        fast_structurer(_Checked)({"name": "x"})
    assert fast_structurer(_Counted)({"name": "counted"}) == _Counted("counted")
    assert _MADE[-1] == "counted"
    hashed = fast_structurer(_Hashed)({"name": "h"})
    assert hash(hashed) == hash(_Hashed("h"))
    assert fast_structurer(_Unslotted)({"name": "u"}) == _Unslotted("u")
    for cls in (_Checked, _Counted, _Hashed, _Unslotted):
        assert "_new" not in fast_structurer(cls).__globals__


def test_a_market_is_made_by_filling_its_slots_as_attrs_would() -> None:
    structure = fast_structurer(Market)
    assert "_new" in structure.__globals__
    market = structure(dict(MARKET_JSON))
    assert type(market) is Market
    assert market == converter.structure(MARKET_JSON, Market)
    assert weakref.ref(market)() is market
    assert attrs.evolve(market, title="other").title == "other"
    assert hash(market) == hash(converter.structure(MARKET_JSON, Market))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        market.ticker = "other"  # type: ignore[misc]


def test_a_subclass_is_filled_through_its_inherited_slots() -> None:
    structure = fast_structurer(_Derived)
    assert structure.__globals__["_twin"] is None  # a twin is made for direct subclasses of object
    derived = structure({"name": "d", "size": 2})
    assert type(derived) is _Derived
    assert derived == _Derived("d", 2)

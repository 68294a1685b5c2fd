"""The wire converter: round trips for every wire model, real-shaped JSON, and every error path."""

from __future__ import annotations

import enum
import json
import types
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Union, get_args, get_origin

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kalshi_core import models
from kalshi_core.errors import WireFormatError
from kalshi_core.models import (
    WIRE,
    Balance,
    BookSide,
    Event,
    FeeType,
    Fill,
    Market,
    MarketResult,
    MarketStatus,
    Order,
    OrderBook,
    OrderStatus,
    Position,
    PriceLevel,
    PriceLevelStructure,
    PriceRange,
    SelfTradePrevention,
    Series,
    Settlement,
    Side,
    Trade,
    WireKind,
)
from kalshi_core.money import CENT, DOLLAR
from kalshi_core.wire import (
    format_time,
    from_wire,
    many_from_wire,
    orderbook_from_wire,
    orderbook_to_wire,
    parse_time,
    to_wire,
    wire_fields,
)

WIRE_MODELS = (
    Market,
    Trade,
    Order,
    Fill,
    Position,
    Balance,
    Settlement,
    Series,
    Event,
    PriceRange,
    OrderBook,
)

# ---- strategies: values in the model's own units ----

PRICE_FIELDS = frozenset(
    {
        "yes_bid",
        "yes_ask",
        "no_bid",
        "no_ask",
        "last_price",
        "previous_yes_bid",
        "previous_yes_ask",
        "previous_price",
        "yes_price",
        "no_price",
        "start",
        "end",
        "step",
    }
)
SIGNED_COUNT_FIELDS = frozenset({"position"})

prices = st.integers(0, DOLLAR)
money = st.integers(-(10**12), 10**12)
counts = st.integers(0, 10**9)
signed_counts = st.integers(-(10**9), 10**9)
whole_cents = st.integers(-(10**10), 10**10).map(lambda c: c * CENT)
zones = st.sampled_from(
    [UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30))]
)
times = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1), timezones=zones
)
KIND_STRATEGIES: dict[WireKind, st.SearchStrategy[Any]] = {
    WireKind.COUNT: counts,
    WireKind.CENTS: whole_cents,
    WireKind.TIME: times,
    WireKind.EPOCH_S: times.map(lambda t: t.replace(microsecond=0)),
    WireKind.EPOCH_MS: times.map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000)),
}


def plain_strategy(tp: Any) -> st.SearchStrategy[Any]:
    """Values of a field's declared type, as JSON can carry them."""
    args = get_args(tp)
    if get_origin(tp) in (Union, types.UnionType):
        return st.one_of(*(plain_strategy(arg) for arg in args))
    if tp is type(None):
        return st.none()
    if get_origin(tp) is tuple:
        return st.lists(plain_strategy(args[0]), max_size=3).map(tuple)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return st.sampled_from(tp)
    if attrs.has(tp):
        return wire_model(tp)
    simple: dict[Any, st.SearchStrategy[Any]] = {
        str: st.text(max_size=20),
        bool: st.booleans(),
        int: st.integers(-(2**63), 2**63),
        float: st.floats(allow_nan=False, allow_infinity=False),
    }
    return simple[tp]


def field_strategy(field: attrs.Attribute[Any]) -> st.SearchStrategy[Any]:
    kind = field.metadata.get(WIRE, (None, WireKind.PLAIN))[1]
    if kind is WireKind.PLAIN:
        return plain_strategy(field.type)
    if kind is WireKind.DOLLARS:
        base = prices if field.name in PRICE_FIELDS else money
    elif kind is WireKind.COUNT and field.name in SIGNED_COUNT_FIELDS:
        base = signed_counts
    else:
        base = KIND_STRATEGIES[kind]
    if type(None) in get_args(field.type):
        return st.none() | base
    return base


def book_side() -> st.SearchStrategy[tuple[PriceLevel, ...]]:
    level_prices, level_counts = st.integers(1, DOLLAR - 1), st.integers(1, 10**9)
    levels = st.lists(
        st.tuples(level_prices, level_counts), unique_by=lambda lvl: lvl[0], max_size=5
    )
    return levels.map(lambda pairs: tuple(PriceLevel(p, c) for p, c in sorted(pairs)))


def wire_model(cls: type[Any]) -> st.SearchStrategy[Any]:
    """Any valid instance of ``cls``, every field drawn (None included where allowed)."""
    if cls is OrderBook:
        return st.builds(OrderBook, ticker=st.text(max_size=20), yes=book_side(), no=book_side())
    attrs.resolve_types(cls)
    return st.builds(cls, **{f.name: field_strategy(f) for f in attrs.fields(cls)})


def json_round_trip(obj: Any) -> Any:
    """to_wire, through real JSON text, and back."""
    text = json.dumps(to_wire(obj))
    return from_wire(json.loads(text), type(obj), where="round trip")


# ---- round trips ----


def test_every_model_with_wire_metadata_is_round_tripped() -> None:
    with_metadata = {
        cls
        for cls in vars(models).values()
        if isinstance(cls, type)
        and attrs.has(cls)
        and any(WIRE in f.metadata for f in attrs.fields(cls))
    }
    assert with_metadata <= set(WIRE_MODELS)


@pytest.mark.parametrize("cls", WIRE_MODELS, ids=lambda cls: cls.__name__)
@given(data=st.data())
def test_round_trip(cls: type[Any], data: st.DataObject) -> None:
    obj = data.draw(wire_model(cls))
    assert json_round_trip(obj) == obj


@given(obj=wire_model(Market))
def test_output_uses_wire_names_and_omits_none(obj: Market) -> None:
    wire = to_wire(obj)
    assert None not in wire.values()
    assert "yes_bid_dollars" in wire
    assert "yes_bid" not in wire
    assert isinstance(wire["yes_bid_dollars"], str)
    assert type(wire["status"]) is str
    assert isinstance(wire["price_ranges"], list)
    assert ("created_time" in wire) == (obj.created_time is not None)


# ---- real-shaped JSON (kalshi-api.md section 5) ----

MARKET_JSON: dict[str, Any] = {
    "ticker": "KXINXU-26FEB02H1600-T6924.9999",
    "event_ticker": "KXINXU-26FEB02H1600",
    "market_type": "binary",
    "title": "Will the S&P 500 close above 6,925?",
    "subtitle": None,
    "yes_sub_title": "Above 6,925",
    "no_sub_title": "Not above 6,925",
    "created_time": "2026-01-30T15:00:00Z",
    "updated_time": "2026-02-02T20:59:58.123456Z",
    "open_time": "2026-02-02T00:04:08.372Z",
    "close_time": "2026-02-02T21:00:00Z",
    "expected_expiration_time": "2026-02-02T21:05:00Z",
    "expiration_time": "2026-02-09T21:00:00Z",
    "latest_expiration_time": "2026-02-09T21:00:00Z",
    "settlement_timer_seconds": 300,
    "status": "active",
    "yes_bid_dollars": "0.4200",
    "yes_bid_size_fp": "125.00",
    "yes_ask_dollars": "0.4350",
    "yes_ask_size_fp": "10.50",
    "no_bid_dollars": "0.5650",
    "no_ask_dollars": "0.5800",
    "last_price_dollars": "0.4300",
    "volume_fp": "15230.00",
    "volume_24h_fp": "1200.00",
    "open_interest_fp": "830.00",
    "result": "",
    "can_close_early": True,
    "notional_value_dollars": "1.0000",
    "previous_yes_bid_dollars": "0.3900",
    "previous_yes_ask_dollars": "0.4100",
    "previous_price_dollars": "0.4000",
    "settlement_value_dollars": None,
    "settlement_bounds_type": "default",
    "expiration_value": "",
    "strike_type": "greater",
    "floor_strike": 6924.9999,
    "rules_primary": "If the S&P 500 closes above 6,925, the market resolves to Yes.",
    "rules_secondary": "",
    "mve_collection_ticker": None,
    "exchange_index": 0,
    "price_level_structure": "tapered_deci_cent",
    "price_ranges": [
        {"start": "0.0000", "end": "0.1000", "step": "0.0010"},
        {"start": "0.1000", "end": "0.9000", "step": "0.0100"},
        {"start": "0.9000", "end": "1.0000", "step": "0.0010"},
    ],
}


def test_market_from_real_shape() -> None:
    market = from_wire(MARKET_JSON, Market, where="GET /markets/{ticker}")
    assert market.yes_bid == 4200
    assert market.yes_ask == 4350
    assert market.yes_ask_size == 1050
    assert market.volume == 1_523_000
    assert market.status is MarketStatus.ACTIVE
    assert market.result is MarketResult.NONE
    assert market.subtitle == ""  # null means "use the default"
    assert market.settlement_value is None
    assert market.open_time == datetime(2026, 2, 2, 0, 4, 8, 372_000, tzinfo=UTC)
    assert market.updated_time == datetime(2026, 2, 2, 20, 59, 58, 123_456, tzinfo=UTC)
    assert market.floor_strike == 6924.9999
    assert market.price_level_structure is PriceLevelStructure.TAPERED_DECI_CENT
    assert market.price_ranges[0] == PriceRange(start=0, end=1000, step=10)
    assert market.series_ticker == "KXINXU"


def test_trade_order_fill_from_real_shape() -> None:
    trade = from_wire(
        {
            "trade_id": "dfdaff43",
            "ticker": "KXINXU-26JAN02H1600-T6924.9999",
            "count_fp": "48.00",
            "yes_price_dollars": "0.1000",
            "no_price_dollars": "0.9000",
            "taker_outcome_side": "no",
            "taker_book_side": "ask",
            "taker_side": "no",
            "created_time": "2026-01-02T00:49:43.055Z",
            "is_block_trade": False,
        },
        Trade,
        where="GET /markets/trades",
    )
    assert (trade.count, trade.yes_price, trade.no_price) == (4800, 1000, 9000)
    assert trade.taker_book_side is BookSide.ASK
    order = from_wire(
        {
            "order_id": "ord-1",
            "user_id": "user-1",
            "client_order_id": "cid-1",
            "ticker": "T",
            "outcome_side": "yes",
            "book_side": "bid",
            "side": "yes",
            "action": "buy",
            "type": "limit",
            "status": "resting",
            "yes_price_dollars": "0.4215",
            "no_price_dollars": "0.5785",
            "fill_count_fp": "2.50",
            "remaining_count_fp": "7.50",
            "initial_count_fp": "10.00",
            "taker_fill_cost_dollars": "1.0538",
            "maker_fill_cost_dollars": "0.0000",
            "taker_fees_dollars": "0.0450",
            "maker_fees_dollars": "0.0000",
            "expiration_time": None,
            "created_time": "2026-02-02T14:00:00.5Z",
            "self_trade_prevention_type": "taker_at_cross",
            "order_group_id": None,
        },
        Order,
        where="GET /portfolio/orders/{id}",
    )
    assert order.status is OrderStatus.RESTING
    assert (order.yes_price, order.fill_count, order.taker_fill_cost) == (4215, 250, 10538)
    assert order.self_trade_prevention_type is SelfTradePrevention.TAKER_AT_CROSS
    assert order.expiration_time is None
    assert order.created_time == datetime(2026, 2, 2, 14, 0, 0, 500_000, tzinfo=UTC)
    fill = from_wire(
        {
            "fill_id": "f-1",
            "trade_id": "f-1",
            "order_id": "ord-1",
            "ticker": "T",
            "market_ticker": "T",
            "exchange_index": 0,
            "outcome_side": "no",
            "book_side": "ask",
            "count_fp": "0.01",
            "yes_price_dollars": "0.4200",
            "no_price_dollars": "0.5800",
            "is_taker": False,
            "fee_cost": "0.0001",
            "created_time": "2026-02-02T14:00:01+00:00",
            "ts": 1770040801,
        },
        Fill,
        where="GET /portfolio/fills",
    )
    assert (fill.count, fill.fee_cost, fill.is_taker) == (1, 1, False)
    assert fill.outcome_side is Side.NO


def test_portfolio_objects_from_real_shape() -> None:
    position = from_wire(
        {
            "ticker": "T",
            "exchange_index": 0,
            "total_traded_dollars": "12.3400",
            "position_fp": "-5.00",
            "market_exposure_dollars": "2.9000",
            "realized_pnl_dollars": "-0.4100",
            "fees_paid_dollars": "0.0700",
            "last_updated_ts": "2026-02-02T14:00:01.000Z",
        },
        Position,
        where="GET /portfolio/positions",
    )
    assert (position.position, position.realized_pnl) == (-500, -4100)
    assert position.side is Side.NO
    balance = from_wire(
        {"balance": 12345, "balance_dollars": "123.45", "portfolio_value": 500, "updated_ts": 0},
        Balance,
        where="GET /portfolio/balance",
    )
    assert (balance.balance, balance.portfolio_value) == (1_234_500, 50_000)
    assert balance.updated_ts == datetime(1970, 1, 1, tzinfo=UTC)
    settlement = from_wire(
        {
            "ticker": "T",
            "exchange_index": 0,
            "event_ticker": "E",
            "market_result": "yes",
            "yes_count_fp": "3.00",
            "yes_total_cost_dollars": "1.2600",
            "no_count_fp": "0.00",
            "no_total_cost_dollars": "0.0000",
            "revenue": 300,
            "settled_time": "2026-02-02T21:10:00Z",
            "fee_cost": "0.0300",
            "value": 100,
        },
        Settlement,
        where="GET /portfolio/settlements",
    )
    assert (settlement.revenue, settlement.yes_count, settlement.fee_cost) == (30_000, 300, 300)
    assert settlement.market_result is MarketResult.YES


def test_series_and_event_from_real_shape() -> None:
    series = from_wire(
        {
            "ticker": "KXINXU",
            "frequency": "daily",
            "title": "S&P 500 above/below",
            "category": "Financials",
            "categories": ["Financials"],
            "contract_url": "https://example.invalid/contract.pdf",
            "contract_terms_url": "https://example.invalid/terms.pdf",
            "fee_type": "quadratic_with_maker_fees",
            "fee_multiplier": 1,
            "tags": None,
            "settlement_sources": [{"name": "S&P", "url": "https://example.invalid"}],
        },
        Series,
        where="GET /series/{s}",
    )
    assert series.fee_type is FeeType.QUADRATIC_WITH_MAKER_FEES
    assert series.fee_multiplier == 1.0
    assert isinstance(series.fee_multiplier, float)
    assert (series.tags, series.categories) == ((), ("Financials",))
    event = from_wire(
        {
            "event_ticker": "KXINXU-26FEB02H1600",
            "series_ticker": "KXINXU",
            "sub_title": "On Feb 2, 2026",
            "title": "S&P 500 close",
            "collateral_return_type": "",
            "mutually_exclusive": False,
            "strike_date": "2026-02-02T21:00:00Z",
            "fee_multiplier_override": None,
        },
        Event,
        where="GET /events/{e}",
    )
    assert event.strike_date == datetime(2026, 2, 2, 21, tzinfo=UTC)
    assert event.fee_multiplier_override is None


# ---- the order book ----

BOOK_JSON: dict[str, Any] = {
    "orderbook_fp": {
        "yes_dollars": [["0.4000", "5.00"], ["0.4200", "10.00"]],
        "no_dollars": [["0.5500", "1.50"], ["0.5700", "3.00"]],
    }
}


def test_orderbook_from_wire() -> None:
    book = orderbook_from_wire("T", BOOK_JSON)
    assert book.yes == (PriceLevel(4000, 500), PriceLevel(4200, 1000))
    assert book.best_yes_bid == PriceLevel(4200, 1000)
    assert book.best_no_bid == PriceLevel(5700, 300)
    assert book.yes_asks[0] == PriceLevel(4300, 300)
    assert orderbook_to_wire(book) == BOOK_JSON


def test_orderbook_levels_are_sorted_and_empty_sides_allowed() -> None:
    data = {"orderbook_fp": {"yes_dollars": [["0.4200", "1.00"], ["0.0100", "2.00"]]}}
    book = orderbook_from_wire("T", data)
    assert [lvl.price for lvl in book.yes] == [100, 4200]
    assert book.no == ()
    assert (
        orderbook_from_wire("T", {"orderbook_fp": {"yes_dollars": None, "no_dollars": []}}).yes
        == ()
    )


def test_orderbook_errors_name_the_level() -> None:
    bad = {"orderbook_fp": {"yes_dollars": [["0.4200", "1.00"], [0.43, "1.00"]], "no_dollars": []}}
    with pytest.raises(WireFormatError, match=r"GET /book: orderbook_fp\.yes_dollars\[1\]\[0\]"):
        orderbook_from_wire("T", bad, where="GET /book")
    with pytest.raises(WireFormatError, match=r"orderbook_fp: required field missing"):
        orderbook_from_wire("T", {"orderbook": {}})
    with pytest.raises(WireFormatError, match=r"yes_dollars\[0\]: expected \[price, count\]"):
        orderbook_from_wire("T", {"orderbook_fp": {"yes_dollars": [["0.4200"]]}})


@pytest.mark.parametrize(
    ("level", "where", "problem"),
    [
        (["0.0000", "1.00"], r"no_dollars\[1\]\[0\]", r"price \$?0\.0000 is not between"),
        (["1.0000", "1.00"], r"no_dollars\[1\]\[0\]", r"price \$?1\.0000 is not between"),
        (["1.5000", "1.00"], r"no_dollars\[1\]\[0\]", r"is not between \$0 and \$1"),
        (["0.4200", "0.00"], r"no_dollars\[1\]\[1\]", r"count 0\.00 is not positive"),
        (["0.4200", "-3.00"], r"no_dollars\[1\]\[1\]", r"is not positive"),
    ],
)
def test_an_impossible_level_is_refused_by_its_place(
    level: list[str], where: str, problem: str
) -> None:
    data = {"orderbook_fp": {"yes_dollars": [], "no_dollars": [["0.3000", "2.00"], level]}}
    with pytest.raises(WireFormatError, match=rf"GET /book: orderbook_fp\.{where}: .*{problem}"):
        orderbook_from_wire("T", data, where="GET /book")


def test_two_levels_at_one_price_are_refused() -> None:
    data = {"orderbook_fp": {"yes_dollars": [["0.3000", "2.00"], ["0.3000", "1.00"]]}}
    with pytest.raises(WireFormatError, match=r"yes_dollars: two levels at \$?0\.3000"):
        orderbook_from_wire("T", data)


def test_orderbooks_list_names_index_and_level() -> None:
    body = {
        "orderbooks": [
            {"ticker": "A", **BOOK_JSON},
            {"ticker": "B", "orderbook_fp": {"yes_dollars": [["0.4200", "1.001"]]}},
        ]
    }
    with pytest.raises(WireFormatError) as caught:
        many_from_wire(body, OrderBook, where="GET /markets/orderbooks", key="orderbooks")
    message = str(caught.value)
    assert "orderbooks[1].orderbook_fp.yes_dollars[0][1]" in message
    assert "finer than 1/100 contract" in message
    body["orderbooks"].pop()
    books = many_from_wire(body, OrderBook, where="GET /markets/orderbooks", key="orderbooks")
    assert books == [orderbook_from_wire("A", BOOK_JSON)]


# ---- errors: what and where ----


def test_number_for_dollar_string_names_the_path() -> None:
    good = MARKET_JSON
    bad = {**MARKET_JSON, "yes_bid_dollars": 0.42}
    body = {"markets": [good, good, good, bad], "cursor": ""}
    with pytest.raises(WireFormatError) as caught:
        many_from_wire(body, Market, where="GET /markets", key="markets")
    message = str(caught.value)
    assert message.startswith("GET /markets: markets[3].yes_bid_dollars: ")
    assert "dollar string" in message
    assert "number 0.42" in message


def test_nested_error_path_uses_wire_names() -> None:
    ranges = [{"start": "0.0000", "end": "1.0000", "step": 1}]
    with pytest.raises(WireFormatError, match=r"W: price_ranges\[0\]\.step: expected a dollar"):
        from_wire({**MARKET_JSON, "price_ranges": ranges}, Market, where="W")


def test_missing_required_field_is_named() -> None:
    data = {k: v for k, v in MARKET_JSON.items() if k != "close_time"}
    with pytest.raises(WireFormatError, match="GET /markets/T: close_time: required field missing"):
        from_wire(data, Market, where="GET /markets/T")


def test_null_for_required_field_is_an_error() -> None:
    with pytest.raises(WireFormatError, match="ticker: expected a JSON string, got null"):
        from_wire({**MARKET_JSON, "ticker": None}, Market, where="W")


def test_null_or_absent_optional_is_none_and_null_defaulted_is_default() -> None:
    data = {**MARKET_JSON, "created_time": None, "title": None, "yes_bid_dollars": None}
    del data["updated_time"]
    market = from_wire(data, Market, where="W")
    assert (market.created_time, market.updated_time) == (None, None)
    assert (market.title, market.yes_bid) == ("", 0)


def test_unknown_keys_are_ignored() -> None:
    data = {**MARKET_JSON, "brand_new_field": {"nested": [1, 2]}, "liquidity_dollars": "1.0"}
    assert from_wire(data, Market, where="W") == from_wire(MARKET_JSON, Market, where="W")


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("0.42", 4200),
        ("0.4213", 4213),
        ("0.421300", 4213),
        ("1.00000", DOLLAR),
        ("-3.5000", -35_000),
        ("1234.5600", 12_345_600),
    ],
)
def test_dollar_strings_accepted(text: str, units: int) -> None:
    assert from_wire({**MARKET_JSON, "yes_bid_dollars": text}, Market, where="W").yes_bid == units


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("0.42001", "finer than \\$0.0001"),
        ("0.421301", "finer than \\$0.0001"),
        ("0.4", "2 to 6 decimals"),
        ("1", "2 to 6 decimals"),
        ("0.4200000", "2 to 6 decimals"),
        ("1e-2", "2 to 6 decimals"),
        (" 0.42", "2 to 6 decimals"),
        ("NaN", "2 to 6 decimals"),
        ("", "2 to 6 decimals"),
    ],
)
def test_bad_dollar_strings_rejected(text: str, problem: str) -> None:
    with pytest.raises(WireFormatError, match=f"yes_ask_dollars: .*{problem}"):
        from_wire({**MARKET_JSON, "yes_ask_dollars": text}, Market, where="W")


@pytest.mark.parametrize("value", [42, True, None, ["0.42"]])
def test_non_string_dollars_rejected(value: Any) -> None:
    with pytest.raises(WireFormatError, match="yes_price_dollars: expected a dollar string"):
        from_wire(
            {"trade_id": "t", "ticker": "T", "count_fp": "1.00", "yes_price_dollars": value,
             "no_price_dollars": "0.5", "created_time": "2026-01-01T00:00:00Z"},
            Trade,
            where="W",
        )  # fmt: skip


@pytest.mark.parametrize(
    ("value", "problem"),
    [("10.001", "finer than 1/100 contract"), (10, "expected a contract-count string"),
     ("ten", "not a decimal number")],
)  # fmt: skip
def test_bad_counts_rejected(value: Any, problem: str) -> None:
    with pytest.raises(WireFormatError, match=f"volume_fp: .*{problem}"):
        from_wire({**MARKET_JSON, "volume_fp": value}, Market, where="W")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-02T00:49:43.055Z", datetime(2026, 1, 2, 0, 49, 43, 55_000, tzinfo=UTC)),
        ("2026-01-02T00:49:43Z", datetime(2026, 1, 2, 0, 49, 43, tzinfo=UTC)),
        ("2026-01-02t00:49:43z", datetime(2026, 1, 2, 0, 49, 43, tzinfo=UTC)),
        ("2026-01-01T19:49:43.5-05:00", datetime(2026, 1, 2, 0, 49, 43, 500_000, tzinfo=UTC)),
        ("2026-01-02T00:49:43.123456789Z", datetime(2026, 1, 2, 0, 49, 43, 123_456, tzinfo=UTC)),
    ],
)
def test_rfc3339_times_parse_to_utc(text: str, expected: datetime) -> None:
    parsed = parse_time(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "value",
    [
        "2026-01-02",
        "2026-01-02T00:49:43",
        "2026-01-02 00:49:43Z",
        "2026-13-02T00:49:43Z",
        "2026-01-02T25:00:00Z",
        "2026-01-02T00:49:43.Z",
        "yesterday",
        1767315000,
    ],
)
def test_malformed_times_rejected(value: Any) -> None:
    with pytest.raises(WireFormatError, match="W: open_time: "):
        from_wire({**MARKET_JSON, "open_time": value}, Market, where="W")


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 1, 2, 0, 49, 43, tzinfo=UTC), "2026-01-02T00:49:43Z"),
        (datetime(2026, 1, 2, 0, 49, 43, 55_000, tzinfo=UTC), "2026-01-02T00:49:43.055Z"),
        (datetime(2026, 1, 2, 0, 49, 43, 55_001, tzinfo=UTC), "2026-01-02T00:49:43.055001Z"),
        (
            datetime(2026, 1, 1, 19, 49, 43, tzinfo=timezone(timedelta(hours=-5))),
            "2026-01-02T00:49:43Z",
        ),
    ],
)
def test_time_output_is_utc_z(moment: datetime, text: str) -> None:
    assert format_time(moment) == text


def test_naive_datetime_on_output_is_an_error() -> None:
    market = from_wire(MARKET_JSON, Market, where="W")
    naive = attrs.evolve(market, close_time=datetime(2026, 1, 1))
    with pytest.raises(WireFormatError, match=r"Market\.close_time: naive datetime"):
        to_wire(naive)


def test_cents_and_epochs() -> None:
    with pytest.raises(WireFormatError, match="balance: expected an integer number of cents"):
        from_wire({"balance": 12.5}, Balance, where="W")
    with pytest.raises(WireFormatError, match="not a whole number of cents"):
        to_wire(Balance(balance=150))
    moment = datetime(2026, 1, 2, 0, 49, 43, 999_999, tzinfo=UTC)
    assert to_wire(Balance(balance=100, updated_ts=moment))["updated_ts"] == 1_767_314_983


def test_strict_plain_types() -> None:
    cases: list[tuple[str, Any, str]] = [
        ("ticker", 5, "ticker: expected a JSON string, got number 5"),
        ("can_close_early", "false", "can_close_early: expected a JSON boolean"),
        ("settlement_timer_seconds", 1.5, "settlement_timer_seconds: expected a JSON integer"),
        ("settlement_timer_seconds", True, "settlement_timer_seconds: expected a JSON integer"),
        ("floor_strike", "6900", "floor_strike: expected a JSON number"),
        ("price_ranges", "abc", "price_ranges: expected a JSON array"),
        ("price_ranges", ["x"], r"price_ranges\[0\]: expected a JSON object for PriceRange"),
    ]
    for key, value, problem in cases:
        with pytest.raises(WireFormatError, match=problem):
            from_wire({**MARKET_JSON, key: value}, Market, where="W")


def test_bad_enum_value_lists_the_allowed_ones() -> None:
    with pytest.raises(WireFormatError, match="status: string 'open' is not a valid MarketStatus"):
        from_wire({**MARKET_JSON, "status": "open"}, Market, where="W")
    with pytest.raises(WireFormatError, match="'resting', 'canceled', 'executed'"):
        from_wire({"status": "pending"}, Order, where="W")


def test_all_problems_reported_but_capped() -> None:
    data = {key: 12345 for key in MARKET_JSON if key.endswith("_dollars") or key.endswith("_fp")}
    with pytest.raises(WireFormatError) as caught:
        from_wire(data, Market, where="W")
    message = str(caught.value)
    assert "ticker: required field missing" in message
    assert message.endswith("more")
    assert message.count("; ") == 10


def test_not_an_object() -> None:
    with pytest.raises(WireFormatError, match="W: expected a JSON object for Market, got array"):
        from_wire([MARKET_JSON], Market, where="W")


def test_many_from_wire_envelope_shapes() -> None:
    assert many_from_wire([MARKET_JSON], Market, where="W", key="markets")[0].yes_bid == 4200
    assert many_from_wire({"markets": [], "cursor": ""}, Market, where="W", key="markets") == []
    with pytest.raises(WireFormatError, match="W: markets: required field missing"):
        many_from_wire({"cursor": ""}, Market, where="W", key="markets")
    with pytest.raises(WireFormatError, match="W: markets: expected a JSON array, got null"):
        many_from_wire({"markets": None}, Market, where="W", key="markets")


def test_to_wire_needs_an_attrs_model() -> None:
    with pytest.raises(WireFormatError, match="to_wire needs an attrs model, got dict"):
        to_wire(MARKET_JSON)


def test_wire_fields_read_the_metadata() -> None:
    by_name = {f.name: f for f in wire_fields(Market)}
    assert by_name["yes_bid"].wire_name == "yes_bid_dollars"
    assert by_name["yes_bid"].kind is WireKind.DOLLARS
    assert by_name["ticker"].kind is WireKind.PLAIN
    assert by_name["created_time"].nullable
    assert not by_name["ticker"].has_default


def test_orderbook_entry_needs_a_ticker() -> None:
    with pytest.raises(
        WireFormatError, match=r"W: orderbooks\[0\]\.ticker: expected a JSON string"
    ):
        many_from_wire({"orderbooks": [BOOK_JSON]}, OrderBook, where="W", key="orderbooks")
    with pytest.raises(WireFormatError, match="W: expected a JSON object for OrderBook, got array"):
        from_wire([], OrderBook, where="W")

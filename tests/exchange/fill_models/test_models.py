"""The fill models on a real venue: queues, prints, taking, and what they refuse to do."""

from __future__ import annotations

import pytest

from kalshi_core.exchange.fill_models import FillModel
from kalshi_core.exchange.venue import Venue
from kalshi_core.fees import FeeSchedule
from kalshi_core.models import FeeType, OrderStatus, TimeInForce
from kalshi_core.money import CENT, CONTRACT

from ..support import TICKER, ask, bid
from .conftest import MODELS, MakeModel, bought, quote, sold

HONEST = ("trade_through", "prob_queue", "l2_replay")


def filled(venue: Venue, account: str) -> int:
    """Whole contracts ``account`` got filled in TICKER."""
    return sum(f.count for f in venue.fills(account, TICKER)) // CONTRACT


def position(venue: Venue, account: str) -> int:
    return venue.position(account, TICKER).position // CONTRACT


@pytest.mark.parametrize("name", HONEST)
def test_a_resting_bid_waits_behind_the_recorded_size_then_fills_and_reaches_the_position(
    make_model: MakeModel, name: str
) -> None:
    venue, model = make_model(name)
    model.on_quote(quote(50, 55, bid_size=20, ask_size=20))
    venue.place_order(bid("alice", 50 * CENT, 10))
    model.on_trade(sold(50, 15))  # 15 of the 20 ahead
    assert filled(venue, "alice") == 0
    model.on_trade(sold(50, 8))  # 5 more ahead, then 3 for alice
    assert filled(venue, "alice") == 3
    model.on_trade(sold(47, 100))  # through the price: the rest
    assert filled(venue, "alice") == 10
    assert position(venue, "alice") == 10  # partial fills reach the position (hftbacktest #316)
    assert all(f.yes_price == 50 * CENT and not f.is_taker for f in venue.fills("alice"))


def test_trade_through_never_fills_at_the_price_when_the_queue_is_unknown(
    make_model: MakeModel,
) -> None:
    venue, model = make_model("trade_through")
    model.on_trade(sold(50, 5))  # trade-only: the touch is inferred, sizes unknown
    venue.place_order(bid("alice", 50 * CENT, 10))
    model.on_trade(sold(50, 1000))
    assert filled(venue, "alice") == 0
    model.on_trade(sold(49, 4))
    assert filled(venue, "alice") == 4


def test_prob_queue_estimates_an_unknown_queue_from_the_seeded_level(
    make_model: MakeModel,
) -> None:
    results = []
    for _ in range(2):
        venue, model = make_model("prob_queue", seed=7)
        model.on_trade(sold(50, 5))
        venue.place_order(bid("alice", 50 * CENT, 10))
        ahead = venue.queue_position(venue.orders("alice")[0].order_id)
        assert ahead > 0  # behind the synthetic level drawn with the seed
        model.on_trade(sold(50, ahead // CONTRACT + 4))
        results.append((ahead, filled(venue, "alice")))
    assert results[0] == results[1]
    assert results[0][1] == 4


@pytest.mark.parametrize("name", HONEST)
def test_improving_a_recorded_touch_puts_the_order_first(make_model: MakeModel, name: str) -> None:
    venue, model = make_model(name)
    model.on_quote(quote(50, 55))  # recorded prices, no sizes
    venue.place_order(bid("alice", 52 * CENT, 10))
    model.on_trade(sold(52, 6))
    assert filled(venue, "alice") == 6


@pytest.mark.parametrize("name", HONEST)
def test_one_print_never_fills_more_than_its_size_across_members(
    make_model: MakeModel, name: str
) -> None:
    venue, model = make_model(name)
    model.on_quote(quote(50, 55, bid_size=0, ask_size=20))
    venue.place_order(bid("alice", 50 * CENT, 10))
    venue.place_order(bid("bob", 50 * CENT, 10))
    model.on_trade(sold(50, 12))
    assert (filled(venue, "alice"), filled(venue, "bob")) == (10, 2)  # time priority
    assert sum(t.count for t in venue.trades(TICKER)) == 12 * CONTRACT  # the tape = the print


@pytest.mark.parametrize("name", HONEST)
def test_a_quote_through_a_resting_order_never_fills_it(make_model: MakeModel, name: str) -> None:
    venue, model = make_model(name)
    model.on_quote(quote(40, 60, bid_size=5, ask_size=5))
    venue.place_order(bid("alice", 50 * CENT, 10))
    model.on_quote(quote(40, 48, bid_size=5, ask_size=5))  # the ask moved through alice's bid
    assert filled(venue, "alice") == 0
    assert venue.orders("alice")[0].status is OrderStatus.RESTING


@pytest.mark.parametrize("name", HONEST)
def test_one_displayed_size_never_fills_two_taking_orders(make_model: MakeModel, name: str) -> None:
    venue, model = make_model(name)  # one level a side: nothing behind the recorded top
    model.on_quote(quote(45, 55, bid_size=10, ask_size=10))
    ioc = TimeInForce.IMMEDIATE_OR_CANCEL
    first = venue.place_order(bid("alice", 55 * CENT, 8, tif=ioc))
    second = venue.place_order(bid("bob", 55 * CENT, 8, tif=ioc))
    assert (first.fill_count, second.fill_count) == (8 * CONTRACT, 2 * CONTRACT)
    model.on_quote(quote(45, 55, bid_size=10, ask_size=10))  # the same snapshot again
    third = venue.place_order(bid("bob", 55 * CENT, 8, tif=ioc))
    assert third.fill_count == 0  # what was taken stays taken until the recorded size changes
    model.on_quote(quote(45, 55, bid_size=10, ask_size=12))
    assert venue.place_order(bid("bob", 55 * CENT, 8, tif=ioc)).fill_count == 8 * CONTRACT


def test_a_taking_order_walks_the_ladder_at_each_levels_price(make_model: MakeModel) -> None:
    venue, model = make_model("trade_through", levels=3)
    model.on_quote(quote(45, 55, bid_size=10, ask_size=10))
    walk = venue.place_order(bid("alice", 57 * CENT, 200, tif=TimeInForce.IMMEDIATE_OR_CANCEL))
    prices = sorted({f.yes_price for f in venue.fills("alice")})
    assert prices == [55 * CENT, 56 * CENT, 57 * CENT]
    book_fills = {p: sum(f.count for f in venue.fills("alice") if f.yes_price == p) for p in prices}
    assert book_fills[55 * CENT] == 10 * CONTRACT  # the recorded size, then synthetic levels
    assert walk.fill_count < 200 * CONTRACT  # three levels hold less: the rest is canceled


def test_l2_replay_caps_the_queue_when_the_recorded_level_shrinks(make_model: MakeModel) -> None:
    venue, model = make_model("l2_replay")
    model.on_quote(quote(50, 55, bid_size=20, ask_size=20))
    venue.place_order(bid("alice", 50 * CENT, 10))
    model.on_quote(quote(50, 55, bid_size=4, ask_size=20))  # 16 canceled: at most 4 ahead now
    model.on_trade(sold(50, 6))
    assert filled(venue, "alice") == 2


def test_trade_through_ignores_a_shrinking_level(make_model: MakeModel) -> None:
    venue, model = make_model("trade_through")
    model.on_quote(quote(50, 55, bid_size=20, ask_size=20))
    venue.place_order(bid("alice", 50 * CENT, 10))
    model.on_quote(quote(50, 55, bid_size=4, ask_size=20))
    model.on_trade(sold(50, 6))
    assert filled(venue, "alice") == 0


@pytest.mark.parametrize(
    ("contracts", "taker_fee", "maker_fee"),
    [(1, 2 * CENT, 1 * CENT), (10, 18 * CENT, 5 * CENT), (100, 175 * CENT, 44 * CENT)],
)
@pytest.mark.parametrize("name", HONEST)
def test_fills_pay_kalshis_fee_vectors(
    make_model: MakeModel, name: str, contracts: int, taker_fee: int, maker_fee: int
) -> None:
    """Kalshi's published vectors: 1 @ $0.50 -> $0.02, 10 -> $0.18, 100 -> taker $1.75 and
    (maker-fee series) maker $0.44."""
    venue, model = make_model(name, fees=FeeSchedule(fee_type=FeeType.QUADRATIC_WITH_MAKER_FEES))
    model.on_quote(quote(40, 50, bid_size=contracts, ask_size=contracts))
    venue.place_order(bid("alice", 50 * CENT, contracts, tif=TimeInForce.IMMEDIATE_OR_CANCEL))
    model.on_quote(quote(40, 70, bid_size=1, ask_size=1))
    venue.place_order(ask("bob", 50 * CENT, contracts))
    model.on_trade(bought(55, contracts))  # through bob's ask
    assert [f.fee_cost for f in venue.fills("alice")] == [taker_fee]
    assert [f.fee_cost for f in venue.fills("bob")] == [maker_fee]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_writes_its_assumptions_down(make_model: MakeModel, name: str) -> None:
    _, model = make_model(name)
    described = model.describe()
    assert described["model"] == name == model.name
    assert {"resting", "taking"} <= set(described)
    assert all(isinstance(text, str) and text for text in described.values())


def test_models_satisfy_the_protocol(make_model: MakeModel) -> None:
    for name in MODELS:
        model: FillModel = make_model(name)[1]
        assert callable(model.on_trade)

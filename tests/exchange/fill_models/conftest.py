"""A venue with one open market and a fill model driven by hand-made quotes and prints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kalshi_core.clock import ManualClock
from kalshi_core.exchange import Venue
from kalshi_core.exchange.fill_models import FillModel
from kalshi_core.exchange.fill_models.recorded import L2Replay, ProbQueue, TradeThrough
from kalshi_core.exchange.liquidity import LiquidityConfig, LiquidityProvider
from kalshi_core.fees import FeeSchedule
from kalshi_core.history_format import Quote
from kalshi_core.models import BookSide, Side, Trade
from kalshi_core.money import CENT, CONTRACT, DOLLAR

from ..support import FUNDS, START, TICKER, make_market

PROVIDER, TAPE = "provider", "tape"
MODELS: dict[str, type[Any]] = {
    "trade_through": TradeThrough,
    "prob_queue": ProbQueue,
    "l2_replay": L2Replay,
    "synthetic_book": LiquidityProvider,
}
_prints = iter(range(1, 10**9))


def quote(bid: int, ask: int, bid_size: int | None = None, ask_size: int | None = None) -> Quote:
    """A recorded top of book in cents, sizes in contracts."""
    return Quote(
        ticker=TICKER,
        ts=START,
        yes_bid=bid * CENT,
        yes_ask=ask * CENT,
        yes_bid_size=None if bid_size is None else bid_size * CONTRACT,
        yes_ask_size=None if ask_size is None else ask_size * CONTRACT,
    )


def sold(price: int, contracts: int) -> Trade:
    """A print where the taker sold YES (bought NO): it hit bids at ``price`` cents."""
    return _print(price, contracts, BookSide.ASK)


def bought(price: int, contracts: int) -> Trade:
    """A print where the taker bought YES: it lifted asks at ``price`` cents."""
    return _print(price, contracts, BookSide.BID)


def _print(price: int, contracts: int, taker: BookSide) -> Trade:
    return Trade(
        trade_id=f"rec-{next(_prints)}",
        ticker=TICKER,
        count=contracts * CONTRACT,
        yes_price=price * CENT,
        no_price=DOLLAR - price * CENT,
        taker_outcome_side=Side.YES if taker is BookSide.BID else Side.NO,
        taker_book_side=taker,
        created_time=START,
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


MakeModel = Callable[..., tuple[Venue, FillModel]]


@pytest.fixture
def make_model(clock: ManualClock) -> MakeModel:
    """``make_model(name, fees=None, levels=1, **options)`` -> (venue, model), alice and bob
    funded, the market listed and registered."""

    def make(
        name: str,
        *,
        fees: FeeSchedule | None = None,
        levels: int = 1,
        seed: int = 0,
        **options: Any,
    ) -> tuple[Venue, FillModel]:
        venue = Venue(clock)
        venue.list_market(make_market(), fees=fees)
        for account in ("alice", "bob", PROVIDER):
            venue.deposit(account, FUNDS)
        config = LiquidityConfig(levels=levels)
        model = MODELS[name](
            venue, account=PROVIDER, tape_account=TAPE, seed=seed, config=config, **options
        )
        model.register(venue.market(TICKER))
        return venue, model

    return make

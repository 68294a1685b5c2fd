"""Cancel/replace of managed quotes: pure planning, then on the real venue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from kalshi_core.clock import ManualClock
from kalshi_core.engine.quotes import intent_key, order_key, plan_quotes
from kalshi_core.exchange.venue import Venue
from kalshi_core.models import (
    Action,
    BookSide,
    Forecast,
    Market,
    Order,
    OrderIntent,
    OrderStatus,
    Side,
    TimeInForce,
)
from kalshi_core.money import CONTRACT, DOLLAR
from kalshi_core.protocols import PipelineContext
from kalshi_core.storage.database import Database

from .conftest import TICKERS, TRADER, make_engine

prices = st.integers(1, 99).map(lambda c: c * 100)


def _intent(strategy: str, ticker: str, price: int, count: int = CONTRACT) -> OrderIntent:
    return OrderIntent(
        ticker=ticker,
        side=Side.YES,
        action=Action.BUY,
        price=price,
        count=count,
        strategy=strategy,
        post_only=True,
    )


def _order(number: int, ticker: str, price: int, count: int = CONTRACT) -> Order:
    return Order(
        order_id=f"o{number}",
        client_order_id=f"c{number}",
        ticker=ticker,
        outcome_side=Side.YES,
        book_side=BookSide.BID,
        status=OrderStatus.RESTING,
        yes_price=price,
        no_price=DOLLAR - price,
        initial_count=count,
        remaining_count=count,
    )


@given(
    wanted=st.lists(st.tuples(st.sampled_from(TICKERS), prices), max_size=8),
    resting=st.lists(st.tuples(st.sampled_from(TICKERS), prices, st.booleans()), max_size=8),
)
def test_plan_keeps_matches_cancels_the_rest_and_never_touches_others(
    wanted: list[tuple[str, int]], resting: list[tuple[str, int, bool]]
) -> None:
    intents = [_intent("mm", t, p) for t, p in wanted]
    orders = [_order(i, t, p) for i, (t, p, _) in enumerate(resting)]
    owner = {f"c{i}": ("mm" if ours else "other") for i, (_, _, ours) in enumerate(resting)}
    plan = plan_quotes(intents, orders, lambda o: owner[o.client_order_id], {"mm"}, TICKERS)
    assert all(owner[o.client_order_id] == "mm" for o in plan.cancel + plan.kept)
    managed = {o.order_id for o in orders if owner[o.client_order_id] == "mm"}
    assert {o.order_id for o in plan.cancel + plan.kept} == managed
    wanted_keys = {intent_key(i) for i in intents}
    kept_keys = {order_key(o, "mm") for o in plan.kept}
    assert kept_keys | {intent_key(i) for i in plan.place} == wanted_keys
    assert not kept_keys & {intent_key(i) for i in plan.place}


class QuoteAround:
    """Quotes one contract either side of the mid, shifted by the cycle number."""

    name = "quoter"
    manages_quotes = True

    def __init__(self) -> None:
        self.shift = 0

    def propose(
        self, market: Market, forecast: Forecast | None, context: PipelineContext
    ) -> Sequence[OrderIntent]:
        bid = 3000 + self.shift
        return [
            OrderIntent(
                ticker=market.ticker,
                side=Side.YES,
                action=Action.BUY,
                price=bid,
                count=CONTRACT,
                strategy=self.name,
                post_only=True,
                time_in_force=TimeInForce.GOOD_TILL_CANCELED,
                expected_value=1,
            )
        ]


async def test_engine_replaces_moved_quotes_and_keeps_unchanged_ones(
    venue: Venue, database: Database, clock: ManualClock
) -> None:
    quoter = QuoteAround()
    engine = make_engine(venue, database, clock)
    engine.pipeline = type(engine.pipeline)(forecasters=(), strategies=[quoter])

    async def cycle() -> list[Order]:
        await engine.run_cycle()
        clock.advance(timedelta(minutes=1))
        await engine.reconciler.reconcile()
        return venue.orders(TRADER, status=OrderStatus.RESTING)

    first = await cycle()
    assert sorted(o.yes_price for o in first) == [3000] * len(TICKERS)
    same = await cycle()
    assert {o.order_id for o in same} == {o.order_id for o in first}  # kept, queue priority too
    quoter.shift = 100
    moved = await cycle()
    assert sorted(o.yes_price for o in moved) == [3100] * len(TICKERS)
    assert not {o.order_id for o in moved} & {o.order_id for o in first}

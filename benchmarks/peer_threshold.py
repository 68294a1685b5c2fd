"""The benchmark's simple rule as a kalshi-core strategy plugin (``bench_backtest_peers.py``).

Per market: flat and the last trade under $0.20, buy 1 YES contract at the ask; holding YES
and the last trade over $0.30, sell it at the bid. Both orders are immediate-or-cancel, like
the peers' market orders. The same rule is in ``peer_trades.py`` for the peers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kalshi_core.hookspecs import hookimpl
from kalshi_core.models import Action, Forecast, Market, OrderIntent, Side, TimeInForce
from kalshi_core.money import CONTRACT, DOLLAR, Price
from kalshi_core.protocols import PipelineContext

NAME = "peer_threshold"
BUY_BELOW: Price = 2_000  # $0.20
SELL_ABOVE: Price = 3_000  # $0.30


def order(market: Market, action: Action, price: Price, reason: str) -> OrderIntent:
    """1 contract, IOC. A buy's expected value is the rule's target, the sell threshold less
    the price (the engine drops buys that expect nothing); a sell only lowers risk."""
    target = max(SELL_ABOVE - price, 1) if action is Action.BUY else 0
    return OrderIntent(
        ticker=market.ticker,
        side=Side.YES,
        action=action,
        price=price,
        count=CONTRACT,
        strategy=NAME,
        time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL,
        reduce_only=action is Action.SELL,
        reason=reason,
        expected_value=target,
    )


class ThresholdStrategy:
    """Buy 1 YES under ``BUY_BELOW``, sell it over ``SELL_ABOVE``; ignores the forecast."""

    name = NAME

    def propose(
        self, market: Market, forecast: Forecast | None, context: PipelineContext
    ) -> Sequence[OrderIntent]:
        held = context.portfolio.positions.get(market.ticker)
        holding = held is not None and held.position > 0
        last = market.last_price
        if not holding and 0 < last < BUY_BELOW and market.yes_ask < DOLLAR:
            return [order(market, Action.BUY, market.yes_ask, f"last {last} < {BUY_BELOW}")]
        if holding and last > SELL_ABOVE and market.yes_bid > 0:
            return [order(market, Action.SELL, market.yes_bid, f"last {last} > {SELL_ABOVE}")]
        return []


@hookimpl
def register_strategies(register: Any) -> None:
    register(NAME, lambda section, **_: ThresholdStrategy())

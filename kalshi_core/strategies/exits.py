"""Exits for held positions: stop-loss, time to close, forecast reversal, take-profit.

The entry cost per contract is the position's ``market_exposure`` divided by its size; the
exit price is the held side's bid (what we can sell at now). An exit is one reduce-only IOC
sell of the whole position; the reason names the rule and its numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from fractions import Fraction

import attrs

from kalshi_core.engine.edge import side_probability
from kalshi_core.engine.units import usd
from kalshi_core.models import Action, Forecast, Market, OrderIntent, Position, Side, TimeInForce
from kalshi_core.money import CONTRACT, Money, Price
from kalshi_core.protocols import PipelineContext
from kalshi_core.strategies.book import side_bid


@attrs.frozen(kw_only=True)
class Holding:
    """A held position seen from the exit rules."""

    side: Side
    entry: Fraction  # cost per contract
    bid: Price  # what one contract sells for now


def holding_of(position: Position, market: Market) -> Holding | None:
    """The holding behind ``position``, or None when flat."""
    side = position.side
    if side is None:
        return None
    entry = Fraction(position.market_exposure * CONTRACT, abs(position.position))
    return Holding(side=side, entry=entry, bid=side_bid(market, side))


class ExitStrategy:
    """Sells held positions when a rule fires; ``None``/0 disables a rule."""

    name = "exits"

    def __init__(
        self,
        *,
        take_profit: Money | None,
        stop_loss: Money | None,
        exit_before_close: timedelta | None,
        reversal: Money | None,
    ) -> None:
        self.take_profit = take_profit
        self.stop_loss = stop_loss
        self.exit_before_close = exit_before_close
        self.reversal = reversal

    def _stop_loss(
        self, held: Holding, market: Market, forecast: Forecast | None, ctx: PipelineContext
    ) -> str | None:
        loss = held.entry - held.bid
        if self.stop_loss and loss >= self.stop_loss:
            return (
                f"stop_loss: bid {usd(held.bid)} is {usd(loss)} below entry "
                f"{usd(held.entry)} (limit {usd(self.stop_loss)})"
            )
        return None

    def _time_to_close(
        self, held: Holding, market: Market, forecast: Forecast | None, ctx: PipelineContext
    ) -> str | None:
        left = market.close_time - ctx.now
        if self.exit_before_close and left <= self.exit_before_close:
            return (
                f"time_to_close: closes in {left.total_seconds():g}s, within "
                f"{self.exit_before_close.total_seconds():g}s"
            )
        return None

    def _reversal(
        self, held: Holding, market: Market, forecast: Forecast | None, ctx: PipelineContext
    ) -> str | None:
        if forecast is None or not self.reversal:
            return None
        belief = side_probability(forecast.probability, held.side)
        # Selling at the bid == buying the other side at 1 - bid; its edge is bid - belief.
        other_edge = held.bid - belief
        if other_edge > self.reversal:
            return (
                f"reversal: P({held.side}) {usd(belief)} is {usd(other_edge)} below the bid "
                f"{usd(held.bid)} (threshold {usd(self.reversal)})"
            )
        return None

    def _take_profit(
        self, held: Holding, market: Market, forecast: Forecast | None, ctx: PipelineContext
    ) -> str | None:
        gain = held.bid - held.entry
        if self.take_profit and gain >= self.take_profit:
            return (
                f"take_profit: bid {usd(held.bid)} is {usd(gain)} above entry "
                f"{usd(held.entry)} (target {usd(self.take_profit)})"
            )
        return None

    def rules(self) -> tuple[Callable[..., str | None], ...]:
        """The exit rules, most urgent first."""
        return (self._stop_loss, self._time_to_close, self._reversal, self._take_profit)

    def propose(
        self, market: Market, forecast: Forecast | None, context: PipelineContext
    ) -> Sequence[OrderIntent]:
        position = context.portfolio.positions.get(market.ticker)
        held = holding_of(position, market) if position is not None else None
        if position is None or held is None or held.bid <= 0:
            return []
        for rule in self.rules():
            reason = rule(held, market, forecast, context)
            if reason is not None:
                return [
                    OrderIntent(
                        ticker=market.ticker,
                        side=held.side,
                        action=Action.SELL,
                        price=held.bid,
                        count=abs(position.position),
                        strategy=self.name,
                        time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL,
                        reduce_only=True,
                        reason=reason,
                    )
                ]
        return []

"""Directional strategy: buy the side the forecast says is underpriced, sized by Kelly.

The side is chosen at its ask after the taker fee (what taking it now would earn); the order
then goes out at the chosen aggressiveness: ``join`` the side's bid, ``mid`` of the side's
quote, or ``take`` the ask. Size is ``kelly_fraction`` x the binary Kelly share of portfolio
value at the order price plus fee, capped by ``max_position_pct`` of portfolio value (less
what the market already holds) and ``max_count``.

The edge must clear ``min_edge + k x stderr`` (an unproven forecast, with no stderr, trades
nothing by default), and the Kelly share is scaled by ``edge / (edge + stderr)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import attrs

from kalshi_core.engine.edge import (
    DEFAULT_FEE_MODEL,
    DEFAULT_UNCERTAINTY,
    UncertaintyRule,
    expected_value,
    fee_per_contract,
    order_fee,
    required_edge,
    schedule_of,
    side_probability,
)
from kalshi_core.engine.sizing import kelly_count
from kalshi_core.engine.units import usd
from kalshi_core.fees import FeeModel
from kalshi_core.models import Action, Forecast, Market, OrderIntent, Side, TimeInForce
from kalshi_core.money import CONTRACT, DOLLAR, Count, Money, Price
from kalshi_core.protocols import PipelineContext
from kalshi_core.strategies.book import round_down, side_ask, side_bid

AGGRESSIVENESS = ("join", "mid", "take")
ORDER_STYLES = ("limit", "ioc")


class DirectionalStrategy:
    """Kelly-sized directional bets where the forecast beats the ask by ``min_edge``."""

    name = "directional"

    def __init__(
        self,
        *,
        min_edge: Money,
        kelly_fraction: Fraction,
        max_position_pct: Fraction,
        max_count: Count,
        order_style: str = "limit",
        aggressiveness: str = "take",
        post_only: bool = False,
        fee_model: FeeModel = DEFAULT_FEE_MODEL,
        uncertainty: UncertaintyRule = DEFAULT_UNCERTAINTY,
    ) -> None:
        if aggressiveness not in AGGRESSIVENESS or order_style not in ORDER_STYLES:
            raise ValueError(
                f"directional: aggressiveness {aggressiveness!r} must be one of {AGGRESSIVENESS}"
                f" and order_style {order_style!r} one of {ORDER_STYLES}"
            )
        self.min_edge = min_edge
        self.kelly_fraction = kelly_fraction
        self.max_position_pct = max_position_pct
        self.max_count = max_count
        self.order_style = order_style
        self.aggressiveness = aggressiveness
        self.post_only = post_only
        self.fee_model = fee_model
        self.uncertainty = uncertainty

    def taker_edge(
        self, probability: int, market: Market, side: Side, ctx: PipelineContext
    ) -> Fraction:
        """Edge per contract of taking ``side`` at its ask now, after the taker fee."""
        ask = side_ask(market, side)
        fee = fee_per_contract(
            self.fee_model,
            schedule_of(ctx.fee_schedule),
            side=side,
            price=ask,
            is_taker=True,
            now=ctx.now,
        )
        return side_probability(probability, side) - ask - fee

    def pick_side(self, forecast: Forecast, market: Market, ctx: PipelineContext) -> Side | None:
        """The side whose edge at the ask (the half spread and taker fee paid) clears
        ``min_edge + k x stderr``, the larger if both do; None on an unproven edge."""
        required = required_edge(self.min_edge, self.uncertainty, forecast)
        if required is None:
            return None
        edges = {side: self.taker_edge(forecast.probability, market, side, ctx) for side in Side}
        side = max(edges, key=lambda s: edges[s])
        return side if edges[side] >= required else None

    def order_price(self, market: Market, side: Side) -> Price:
        """The limit price at the configured aggressiveness (0 when it cannot be placed)."""
        ask, bid = side_ask(market, side), side_bid(market, side)
        if self.aggressiveness == "take" or bid <= 0:
            return ask if self.aggressiveness == "take" else 0
        if self.aggressiveness == "join":
            return bid
        return round_down(market, (bid + ask) // 2)

    def propose(
        self, market: Market, forecast: Forecast | None, context: PipelineContext
    ) -> Sequence[OrderIntent]:
        if forecast is None:
            return []
        side = self.pick_side(forecast, market, context)
        if side is None:
            return []
        price = self.order_price(market, side)
        ask = side_ask(market, side)
        if not 0 < price <= ask or ask >= DOLLAR:
            return []
        resting = price < ask and self.order_style == "limit"
        stderr = self.uncertainty.stderr_of(forecast)
        count = self.size(
            forecast.probability, side, price, market, context, taker=not resting, stderr=stderr
        )
        if count <= 0:
            return []
        intent = self._intent(
            forecast, market, side, price=price, count=count, resting=resting, context=context
        )
        return [intent]

    def size(
        self,
        probability: int,
        side: Side,
        price: Price,
        market: Market,
        context: PipelineContext,
        *,
        taker: bool,
        stderr: int | None = None,
    ) -> Count:
        """Fractional-Kelly count at ``price`` plus its fee, shrunk by the forecast's
        uncertainty (:func:`~kalshi_core.engine.sizing.confidence_scale`), within the caps."""
        schedule = schedule_of(context.fee_schedule)
        fee = fee_per_contract(
            self.fee_model, schedule, side=side, price=price, is_taker=taker, now=context.now
        )
        portfolio = context.portfolio
        room = int(portfolio.value * self.max_position_pct) - portfolio.exposure(market.ticker)
        return kelly_count(
            side_probability(probability, side),
            price + fee,
            bankroll=portfolio.value,
            kelly_fraction=self.kelly_fraction,
            max_stake=room,
            max_count=self.max_count,
            stderr=stderr,
        )

    def _intent(
        self,
        forecast: Forecast,
        market: Market,
        side: Side,
        *,
        price: Price,
        count: Count,
        resting: bool,
        context: PipelineContext,
    ) -> OrderIntent:
        tif = TimeInForce.GOOD_TILL_CANCELED
        if self.order_style == "ioc":
            tif = TimeInForce.IMMEDIATE_OR_CANCEL
        belief = side_probability(forecast.probability, side)
        draft = OrderIntent(
            ticker=market.ticker,
            side=side,
            action=Action.BUY,
            price=price,
            count=count,
            strategy=self.name,
            time_in_force=tif,
            post_only=self.post_only and resting,
            reason=(
                f"P({side}) {usd(belief)} vs {self.aggressiveness} price {usd(price)}; "
                f"{count // CONTRACT} contracts by {float(self.kelly_fraction):g} Kelly"
            ),
        )
        schedule = schedule_of(context.fee_schedule)
        fee = order_fee(self.fee_model, schedule, draft, is_taker=not resting, now=context.now)
        ev = expected_value(forecast.probability, side, price, count, fee)
        return attrs.evolve(draft, expected_value=ev)

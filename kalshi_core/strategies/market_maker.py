"""Market maker: two-sided post-only quotes around a fair value, skewed against inventory.

Contract with the execution layer: each cycle :meth:`MarketMakerStrategy.propose` describes
the quotes it *wants resting* for a market, as post-only GTC intents with reason
``"quote bid"`` / ``"quote ask"``. Execution cancels or replaces resting quotes that differ
and cancels every resting quote of this strategy that is not re-proposed. So emitting no
quotes (adverse move, no fair value, one-sided book) means "pull my quotes".

The ask is expressed in outcome terms as *buy NO at $1 - ask* (see
:func:`kalshi_core.models.to_book`), so quoting never needs a YES position to sell.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from fractions import Fraction
from itertools import pairwise

import attrs

from kalshi_core.engine.edge import DEFAULT_FEE_MODEL, fee_per_contract, schedule_of
from kalshi_core.fees import FeeModel
from kalshi_core.models import Action, Forecast, Market, OrderIntent, Side, TimeInForce
from kalshi_core.money import CONTRACT, DOLLAR, Count, Money, Price
from kalshi_core.protocols import PipelineContext
from kalshi_core.strategies.book import round_down, round_up, tick_at


@attrs.frozen
class Quote:
    """A two-sided YES quote: ``0 < bid < ask < DOLLAR``."""

    bid: Price
    ask: Price


@attrs.frozen(kw_only=True)
class QuoteParams:
    """How wide and how skewed to quote."""

    base_half_spread: Money
    volatility_multiplier: Fraction
    skew_per_contract: Money
    max_skew: Money


def mean_abs_change(mids: Sequence[Price]) -> Fraction:
    """Average absolute move between consecutive mids: a float-free volatility measure."""
    if len(mids) < 2:
        return Fraction(0)
    moves = [abs(b - a) for a, b in pairwise(mids)]
    return Fraction(sum(moves), len(moves))


def skew_for(inventory: Count, params: QuoteParams) -> Money:
    """How far to shift both quotes down (long YES) or up (short YES), capped."""
    raw = Fraction(inventory * params.skew_per_contract, CONTRACT)
    capped: Fraction = max(Fraction(-params.max_skew), min(Fraction(params.max_skew), raw))
    return int(capped)


def make_quote(
    fair: Price,
    *,
    inventory: Count,
    volatility: Fraction,
    round_trip_fee: Fraction,
    params: QuoteParams,
    tick: Price = 100,
) -> Quote | None:
    """The quote around ``fair``, shifted against ``inventory``; None if none fits (0, $1).

    The half-spread is the widest of the base, the volatility term and half the round-trip
    fee plus one tick, so the spread always pays for the fees of both legs.
    """
    fee_floor = int(round_trip_fee / 2) + tick
    vol_term = int(volatility * params.volatility_multiplier)
    half = max(params.base_half_spread, vol_term, fee_floor, tick)
    center = fair - skew_for(inventory, params)
    bid = (center - half) // tick * tick
    ask = -((-(center + half)) // tick) * tick
    bid, ask = max(bid, tick), min(ask, DOLLAR - tick)
    if not 0 < bid < ask < DOLLAR or ask - bid <= round_trip_fee:
        return None
    return Quote(bid, ask)


class MarketMakerStrategy:
    """Two-sided quotes; see the module docstring for the contract with execution.

    State kept per ticker: a rolling window of recent mids (volatility) and the last mid
    (adverse-move detection). Emits nothing for a market whose mid moved more than
    ``adverse_move`` since the last cycle; quotes again on the next calm cycle.
    """

    manages_quotes = True
    reacts_to_updates = True  # streamed market data: re-quote a market as soon as it moves

    name = "market_maker"

    def __init__(
        self,
        *,
        params: QuoteParams,
        quote_count: Count,
        max_inventory: Count,
        adverse_move: Money,
        use_forecast: bool = True,
        window: int = 20,
        fee_model: FeeModel = DEFAULT_FEE_MODEL,
    ) -> None:
        self.params = params
        self.quote_count = quote_count
        self.max_inventory = max_inventory
        self.adverse_move = adverse_move
        self.use_forecast = use_forecast
        self.window = max(window, 2)
        self.fee_model = fee_model
        self.mids: dict[str, deque[Price]] = {}

    def observe(self, ticker: str, mid: Price | None) -> bool:
        """Record ``mid``; True when it moved more than ``adverse_move`` since the last one."""
        if mid is None:
            return False
        history = self.mids.setdefault(ticker, deque(maxlen=self.window))
        adverse = bool(history) and abs(mid - history[-1]) > self.adverse_move
        if adverse:
            history.clear()
        history.append(mid)
        return adverse

    def fair_value(self, market: Market, forecast: Forecast | None) -> Price | None:
        if self.use_forecast and forecast is not None:
            return forecast.probability
        return market.mid

    def propose(
        self, market: Market, forecast: Forecast | None, context: PipelineContext
    ) -> Sequence[OrderIntent]:
        if self.observe(market.ticker, market.mid):
            return []
        fair = self.fair_value(market, forecast)
        if fair is None or not 0 < fair < DOLLAR:
            return []
        held = context.portfolio.positions.get(market.ticker)
        inventory = held.position if held is not None else 0
        quote = make_quote(
            fair,
            inventory=inventory,
            volatility=mean_abs_change(list(self.mids.get(market.ticker, ()))),
            round_trip_fee=self._round_trip_fee(fair, context),
            params=self.params,
            tick=tick_at(market, fair),
        )
        if quote is None:
            return []
        return self._intents(market, self._inside_book(market, quote), inventory, fair)

    def _round_trip_fee(self, fair: Price, context: PipelineContext) -> Fraction:
        schedule = schedule_of(context.fee_schedule)
        one_leg = fee_per_contract(
            self.fee_model, schedule, side=Side.YES, price=fair, is_taker=False, now=context.now
        )
        return 2 * one_leg

    @staticmethod
    def _inside_book(market: Market, quote: Quote) -> Quote:
        """Keep post-only quotes from crossing the book (they would be rejected)."""
        bid, ask = quote.bid, quote.ask
        if market.yes_ask < DOLLAR:
            bid = min(bid, round_down(market, market.yes_ask - 1))
        if market.yes_bid > 0:
            ask = max(ask, round_up(market, market.yes_bid + 1))
        return Quote(bid, ask)

    def _intents(
        self, market: Market, quote: Quote, inventory: Count, fair: Price
    ) -> list[OrderIntent]:
        intents = []
        if quote.bid > 0 and inventory < self.max_inventory:
            edge = fair - quote.bid
            intents.append(self._quote(market.ticker, Side.YES, quote.bid, "quote bid", edge))
        if quote.ask < DOLLAR and inventory > -self.max_inventory:
            edge = quote.ask - fair
            no_price = DOLLAR - quote.ask
            intents.append(self._quote(market.ticker, Side.NO, no_price, "quote ask", edge))
        return intents

    def _quote(
        self, ticker: str, side: Side, price: Price, reason: str, edge: Money
    ) -> OrderIntent:
        """A post-only quote; its expected value is the half spread it captures if filled
        (what allocation ranks it by: a quote without one was never allocated cash)."""
        return OrderIntent(
            expected_value=max(edge, 0) * self.quote_count // CONTRACT,
            ticker=ticker,
            side=side,
            action=Action.BUY,
            price=price,
            count=self.quote_count,
            strategy=self.name,
            time_in_force=TimeInForce.GOOD_TILL_CANCELED,
            post_only=True,
            reason=reason,
        )

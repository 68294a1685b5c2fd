"""The interfaces plugins implement. The hot path calls these plain objects, never pluggy.

Registration hooks (:mod:`kalshi_core.hookspecs`) hand the core *factories*; the core calls a
factory once at start-up with the plugin's own settings section and keeps the object it returns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import attrs

from kalshi_core.models import Forecast, Market, OrderBook, OrderIntent, Position, Verdict
from kalshi_core.money import Money, Price, complement, notional


def marked_value(position: Position, yes_mark: Price) -> Money:
    """What ``position`` is worth at the YES price ``yes_mark`` (a NO contract is worth the
    rest of $1), rounded down: a mark never flatters the book."""
    price = yes_mark if position.position > 0 else complement(yes_mark)
    return notional(price, abs(position.position), round_up=False)


@attrs.frozen(kw_only=True)
class Portfolio:
    """What we hold, as last reconciled with the venue.

    ``resting_exposure`` is the money our resting orders would lock per ticker if filled;
    ``event_of`` maps a held ticker to its event (for per-event exposure limits); ``marks``
    the YES mid price of each held market that has a two-sided quote (for unrealised P&L).
    """

    cash: Money
    positions: Mapping[str, Position] = attrs.field(factory=dict)
    resting_exposure: Mapping[str, Money] = attrs.field(factory=dict)
    event_of: Mapping[str, str] = attrs.field(factory=dict)
    start_of_day_value: Money | None = None
    marks: Mapping[str, Price] = attrs.field(factory=dict)

    @property
    def unrealized_pnl(self) -> Money:
        """Open positions at their marks less what they cost; a position without a mark
        counts at cost (nothing unrealised is claimed without a price)."""
        return sum(
            marked_value(p, self.marks[t]) - p.market_exposure
            for t, p in self.positions.items()
            if t in self.marks
        )

    @property
    def positions_value(self) -> Money:
        """Money at risk in open positions (their exposure), a conservative valuation."""
        return sum(p.market_exposure for p in self.positions.values())

    @property
    def value(self) -> Money:
        return self.cash + self.positions_value

    def exposure(self, ticker: str) -> Money:
        held = self.positions.get(ticker)
        return (held.market_exposure if held else 0) + self.resting_exposure.get(ticker, 0)

    def event_exposure(self, event_ticker: str) -> Money:
        tickers = {t for t, e in self.event_of.items() if e == event_ticker}
        return sum(self.exposure(t) for t in tickers)


@attrs.frozen(kw_only=True)
class AnalysisRecord:
    """When a market was last analysed and at what YES mid price (for de-duplication)."""

    at: datetime
    price: Price


@attrs.frozen(kw_only=True)
class PipelineContext:
    """Everything a validator or strategy may look at besides the market itself.

    ``now`` comes from the injected clock: backtest, paper and live look the same.
    ``fee_schedule`` holds the market's fee terms (``kalshi_core.fees.FeeSchedule``, from its
    series), ``category_of`` each series' category. ``orderbook`` is the market's book for a
    plugin that declares ``wants_orderbook = True`` (``None`` otherwise: books cost a call).
    """

    now: datetime
    portfolio: Portfolio
    orderbook: OrderBook | None = None
    last_analysis: Mapping[str, AnalysisRecord] = attrs.field(factory=dict)
    ai_spend_today: Money = 0
    category_of: Mapping[str, str] = attrs.field(factory=dict)
    fee_schedule: Any = None
    extra: Mapping[str, Any] = attrs.field(factory=dict)


@runtime_checkable
class Validator(Protocol):
    """Screens a candidate market before any forecast; a rejection's reason is stored."""

    name: str

    def validate(self, market: Market, context: PipelineContext) -> Verdict: ...


@runtime_checkable
class IntentValidator(Protocol):
    """Screens an order intent after the strategies (edge after fees, spread, exposure).

    A validator may implement this, :class:`Validator`, or both; the pipeline runs each stage
    it implements. No intent that fails one passes on to risk.
    """

    name: str

    def validate_intent(
        self,
        intent: OrderIntent,
        market: Market,
        forecast: Forecast | None,
        context: PipelineContext,
    ) -> Verdict: ...


@runtime_checkable
class Forecaster(Protocol):
    """Estimates P(yes); returns ``None`` when it declines (refusal, budget, bad output)."""

    name: str

    async def forecast(self, market: Market, context: PipelineContext) -> Forecast | None: ...


@runtime_checkable
class Strategy(Protocol):
    """Turns a market, its forecast and the portfolio into order intents."""

    name: str

    def propose(
        self, market: Market, forecast: Forecast | None, context: PipelineContext
    ) -> Sequence[OrderIntent]: ...


@attrs.frozen(kw_only=True)
class Alert:
    """Something a human should hear about."""

    title: str
    body: str
    severity: str = "info"  # info | warning | critical
    created_time: datetime | None = None
    fields: Mapping[str, str] = attrs.field(factory=dict)


@runtime_checkable
class Alerter(Protocol):
    """Delivers alerts to a channel (a log, Slack, a webhook, e-mail, ...)."""

    name: str

    async def send(self, alert: Alert) -> None: ...

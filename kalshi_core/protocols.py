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
from kalshi_core.money import Money

SettingsSection = Mapping[str, Any]


@attrs.frozen(kw_only=True)
class Portfolio:
    """What we hold, as last reconciled with the venue."""

    cash: Money
    positions: Mapping[str, Position] = attrs.field(factory=dict)
    resting_exposure: Mapping[str, Money] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class PipelineContext:
    """Everything a validator or strategy may look at besides the market itself.

    ``now`` comes from the injected clock: backtest, paper and live look the same.
    """

    now: datetime
    portfolio: Portfolio
    orderbook: OrderBook | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict)


@runtime_checkable
class Validator(Protocol):
    """Screens a candidate market; a rejection carries a reason that is stored."""

    name: str

    def validate(self, market: Market, context: PipelineContext) -> Verdict: ...


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

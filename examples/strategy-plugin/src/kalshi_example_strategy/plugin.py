"""Hook implementations: settings for our two sections, a strategy and a validator."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kalshi_core.hookspecs import hookimpl
from kalshi_core.models import Action, Forecast, Market, OrderIntent, Side, Verdict
from kalshi_core.money import CENT, CONTRACT, DOLLAR
from kalshi_core.protocols import PipelineContext
from kalshi_core.settings_rules import Rule

STRATEGY = "strategies.fade_extremes"
VALIDATOR = "validators.max_spread"


class FadeExtremes:
    """Buy the cheap side of a market priced at an extreme when the forecast disagrees."""

    name = "fade_extremes"

    def __init__(self, edge: float, contracts: int) -> None:
        self.edge = round(edge * DOLLAR)
        self.count = contracts * CONTRACT

    def propose(
        self, market: Market, forecast: Forecast | None, context: PipelineContext
    ) -> Sequence[OrderIntent]:
        if forecast is None or market.mid is None:
            return []
        if forecast.probability - market.yes_ask >= self.edge:
            return [self._buy(market, Side.YES, market.yes_ask)]
        if market.yes_bid - forecast.probability >= self.edge:
            return [self._buy(market, Side.NO, DOLLAR - market.yes_bid)]
        return []

    def _buy(self, market: Market, side: Side, price: int) -> OrderIntent:
        return OrderIntent(
            ticker=market.ticker,
            side=side,
            action=Action.BUY,
            price=price,
            count=self.count,
            strategy=self.name,
            reason="forecast disagrees with an extreme price",
        )


class MaxSpread:
    """Reject markets whose YES bid/ask spread is wider than the limit."""

    name = "max_spread"

    def __init__(self, max_spread_cents: int) -> None:
        self.max_spread = max_spread_cents * CENT

    def validate(self, market: Market, context: PipelineContext) -> Verdict:
        if market.spread > self.max_spread:
            return Verdict.reject(self.name, f"spread {market.spread // CENT}c is too wide")
        return Verdict.accept(self.name)


@hookimpl
def register_settings(register: Any) -> None:
    register(
        STRATEGY,
        {"edge": 0.10, "contracts": 5},
        [
            Rule(key=f"{STRATEGY}.edge", types=(float,), minimum=0, maximum=1),
            Rule(key=f"{STRATEGY}.contracts", types=(int,), minimum=1, maximum=10_000),
        ],
    )
    register(
        VALIDATOR,
        {"max_spread_cents": 10},
        [Rule(key=f"{VALIDATOR}.max_spread_cents", types=(int,), minimum=1, maximum=99)],
    )


@hookimpl
def register_strategies(register: Any) -> None:
    register("fade_extremes", lambda s: FadeExtremes(s["edge"], s["contracts"]))


@hookimpl
def register_validators(register: Any) -> None:
    register("max_spread", lambda s: MaxSpread(s["max_spread_cents"]))


def section(settings: Mapping[str, Any], path: str) -> Mapping[str, Any]:
    """Helper for tests: a dotted section of a plain dict."""
    node: Any = settings
    for part in path.split("."):
        node = node[part]
    return dict(node)

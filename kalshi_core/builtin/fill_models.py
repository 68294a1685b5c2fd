"""Built-in fill models (see :mod:`kalshi_core.exchange.fill_models`): ``trade_through`` (the
default: conservative), ``prob_queue``, ``l2_replay`` and ``synthetic_book`` (the paper
exchange's original market maker)."""

from __future__ import annotations

from typing import Any

from kalshi_core.exchange.fill_models.recorded import L2Replay, ProbQueue, TradeThrough, builder
from kalshi_core.exchange.liquidity import LiquidityProvider
from kalshi_core.hookspecs import hookimpl
from kalshi_core.settings_rules import Rule

MODELS = {
    "trade_through": TradeThrough,
    "prob_queue": ProbQueue,
    "l2_replay": L2Replay,
    "synthetic_book": LiquidityProvider,
}


@hookimpl
def register_settings(register: Any) -> None:
    for name in MODELS:
        rules = [
            Rule(
                key=f"fill_models.{name}.levels",
                types=(int,),
                minimum=1,
                maximum=100,
                description="book levels shown a side (the recorded top, then a synthetic "
                "ladder a tick apart)",
            )
        ]
        defaults: dict[str, Any] = {"levels": 3}
        if name == "prob_queue":
            defaults["power"] = 2.0
            rules.append(
                Rule(
                    key="fill_models.prob_queue.power",
                    types=(int, float),
                    minimum=0,
                    exclusive_minimum=True,
                    maximum=10,
                    description="n of the queue's power function f(x) = x^n",
                )
            )
        register(f"fill_models.{name}", defaults, rules)


@hookimpl
def register_fill_models(register: Any) -> None:
    for name, cls in MODELS.items():
        register(name, builder(cls))

"""Built-in statistical forecasters: ``platt``, ``logistic``, ``longshot`` and ``ladder``.

The first three read a model file written by ``kalshi-core fit --model NAME``; ``ladder`` needs
none. See docs/forecasters.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kalshi_core.forecasting.statistical import KINDS
from kalshi_core.forecasting.statistical_forecasters import (
    LadderForecaster,
    ModelForecaster,
    load_model,
)
from kalshi_core.hookspecs import hookimpl
from kalshi_core.settings_rules import Rule


def _rule(name: str) -> Rule:
    return Rule(
        key=f"forecasters.{name}.model_path",
        types=(str,),
        description=f"model file written by `kalshi-core fit --model {name}` (required)",
    )


LADDER_RULE = Rule(
    key="forecasters.ladder.max_age_seconds",
    types=(int, float),
    minimum=0,
    maximum=86_400,
    description="ladder: ignore a sibling market's price older than this (pipeline clock)",
)


@hookimpl
def register_settings(register: Any) -> None:
    for name in KINDS:
        register(f"forecasters.{name}", {"model_path": ""}, [_rule(name)])
    register("forecasters.ladder", {"max_age_seconds": 300}, [LADDER_RULE])


def _factory(name: str) -> Callable[[Mapping[str, Any]], ModelForecaster]:
    def make(section: Mapping[str, Any]) -> ModelForecaster:
        return ModelForecaster(name, load_model(name, str(section.get("model_path", ""))))

    return make


def _make_ladder(section: Mapping[str, Any]) -> LadderForecaster:
    return LadderForecaster(max_age_seconds=float(section.get("max_age_seconds", 300)))


@hookimpl
def register_forecasters(register: Any) -> None:
    for name in KINDS:
        register(name, _factory(name))
    register("ladder", _make_ladder)

"""Built-in strategies ``directional``, ``market_maker`` and ``exits``: settings and factories.

Each reads its own section ``strategies.<name>``; prices and edges are in cents, shares of
the portfolio as fractions (0.05 == 5%), sizes in whole contracts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from kalshi_core.engine.edge import MISSING_STDERR, uncertainty_rule
from kalshi_core.engine.units import cents, contracts, share
from kalshi_core.hookspecs import hookimpl
from kalshi_core.settings_rules import Rule
from kalshi_core.strategies.directional import AGGRESSIVENESS, ORDER_STYLES, DirectionalStrategy
from kalshi_core.strategies.exits import ExitStrategy
from kalshi_core.strategies.market_maker import MarketMakerStrategy, QuoteParams

NUMBER = (int, float)

DEFAULTS: dict[str, dict[str, Any]] = {
    "directional": {
        "min_edge_cents": 5,
        "kelly_fraction": 0.25,
        "max_position_pct": 0.05,
        "max_contracts": 100,
        "order_style": "limit",
        "aggressiveness": "take",
        "post_only": False,
        "stderrs": 2,
        "missing_stderr": "refuse",
        "assumed_stderr_cents": 5,
    },
    "market_maker": {
        "fair_value": "forecast",
        "base_half_spread_cents": 2,
        "volatility_multiplier": 1.0,
        "volatility_window": 20,
        "skew_cents_per_contract": 0.1,
        "max_skew_cents": 5,
        "quote_contracts": 10,
        "max_inventory_contracts": 50,
        "adverse_move_cents": 5,
    },
    "exits": {
        "take_profit_cents": 15,
        "stop_loss_cents": 10,
        "exit_seconds_before_close": 3600,
        "reversal_cents": 5,
    },
}

# (strategy, key) -> (types, minimum, maximum, choices, description)
RULES: dict[tuple[str, str], tuple[tuple[type, ...], float | None, float | None, Any, str]] = {
    ("directional", "min_edge_cents"): (NUMBER, 0, 100, None, "edge at the ask after fees"),
    ("directional", "kelly_fraction"): (NUMBER, 0, 1, None, "share of full Kelly to bet"),
    ("directional", "max_position_pct"): (NUMBER, 0, 1, None, "per-market share of value"),
    ("directional", "max_contracts"): (NUMBER, 0, None, None, "largest order, contracts"),
    ("directional", "order_style"): ((str,), None, None, ORDER_STYLES, "resting or IOC"),
    ("directional", "aggressiveness"): ((str,), None, None, AGGRESSIVENESS, "order price"),
    ("directional", "post_only"): ((bool,), None, None, None, "resting orders never take"),
    ("directional", "stderrs"): (NUMBER, 0, 100, None, "edge must clear k stderrs too"),
    ("directional", "missing_stderr"): ((str,), None, None, MISSING_STDERR, "no stderr: refuse"),
    ("directional", "assumed_stderr_cents"): (NUMBER, 0, 100, None, "stderr if assumed"),
    ("market_maker", "fair_value"): ((str,), None, None, ("forecast", "mid"), "quote around"),
    ("market_maker", "base_half_spread_cents"): (NUMBER, 0, 50, None, "narrowest half-spread"),
    ("market_maker", "volatility_multiplier"): (NUMBER, 0, 100, None, "half-spread per move"),
    ("market_maker", "volatility_window"): ((int,), 2, 10_000, None, "mids kept per market"),
    ("market_maker", "skew_cents_per_contract"): (NUMBER, 0, 100, None, "shift per contract"),
    ("market_maker", "max_skew_cents"): (NUMBER, 0, 100, None, "largest inventory shift"),
    ("market_maker", "quote_contracts"): (NUMBER, 0, None, None, "size of each quote"),
    ("market_maker", "max_inventory_contracts"): (NUMBER, 0, None, None, "stop adding beyond"),
    ("market_maker", "adverse_move_cents"): (NUMBER, 0, 100, None, "pull quotes on a jump"),
    ("exits", "take_profit_cents"): (NUMBER, 0, 100, None, "gain per contract; 0 = off"),
    ("exits", "stop_loss_cents"): (NUMBER, 0, 100, None, "loss per contract; 0 = off"),
    ("exits", "exit_seconds_before_close"): (NUMBER, 0, None, None, "0 = off"),
    ("exits", "reversal_cents"): (NUMBER, 0, 100, None, "forecast against us; 0 = off"),
}


def _rules_for(name: str) -> list[Rule]:
    return [
        Rule(
            key=f"strategies.{name}.{key}",
            types=types,
            minimum=minimum,
            maximum=maximum,
            choices=choices,
            description=description,
        )
        for (owner, key), (types, minimum, maximum, choices, description) in RULES.items()
        if owner == name
    ]


def _settings(name: str, section: Mapping[str, Any]) -> dict[str, Any]:
    return {**DEFAULTS[name], **section}


def make_directional(section: Mapping[str, Any]) -> DirectionalStrategy:
    s = _settings("directional", section)
    return DirectionalStrategy(
        min_edge=cents(s["min_edge_cents"], "min_edge_cents"),
        kelly_fraction=share(s["kelly_fraction"], "kelly_fraction"),
        max_position_pct=share(s["max_position_pct"], "max_position_pct"),
        max_count=contracts(s["max_contracts"], "max_contracts"),
        order_style=s["order_style"],
        aggressiveness=s["aggressiveness"],
        post_only=bool(s["post_only"]),
        uncertainty=uncertainty_rule(s),
    )


def make_market_maker(section: Mapping[str, Any]) -> MarketMakerStrategy:
    s = _settings("market_maker", section)
    params = QuoteParams(
        base_half_spread=cents(s["base_half_spread_cents"], "base_half_spread_cents"),
        volatility_multiplier=share(s["volatility_multiplier"], "volatility_multiplier"),
        skew_per_contract=cents(s["skew_cents_per_contract"], "skew_cents_per_contract"),
        max_skew=cents(s["max_skew_cents"], "max_skew_cents"),
    )
    return MarketMakerStrategy(
        params=params,
        quote_count=contracts(s["quote_contracts"], "quote_contracts"),
        max_inventory=contracts(s["max_inventory_contracts"], "max_inventory_contracts"),
        adverse_move=cents(s["adverse_move_cents"], "adverse_move_cents"),
        use_forecast=s["fair_value"] == "forecast",
        window=int(s["volatility_window"]),
    )


def make_exits(section: Mapping[str, Any]) -> ExitStrategy:
    s = _settings("exits", section)
    before_close = float(s["exit_seconds_before_close"])
    return ExitStrategy(
        take_profit=cents(s["take_profit_cents"], "take_profit_cents"),
        stop_loss=cents(s["stop_loss_cents"], "stop_loss_cents"),
        exit_before_close=timedelta(seconds=before_close) if before_close else None,
        reversal=cents(s["reversal_cents"], "reversal_cents"),
    )


FACTORIES: dict[str, Callable[[Mapping[str, Any]], object]] = {
    "directional": make_directional,
    "market_maker": make_market_maker,
    "exits": make_exits,
}


@hookimpl
def register_settings(register: Any) -> None:
    for name, defaults in DEFAULTS.items():
        register(f"strategies.{name}", dict(defaults), _rules_for(name))


@hookimpl
def register_strategies(register: Any) -> None:
    for name, factory in FACTORIES.items():
        register(name, factory)

"""Exits: take-profit, stop-loss, time to close and forecast reversal on held positions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kalshi_core.builtin import strategies as builtin
from kalshi_core.models import Action, Side, TimeInForce
from kalshi_core.money import CONTRACT
from tests.engine.builders import (
    NOW,
    context,
    forecast,
    market,
    portfolio,
    position,
    positions,
    unless_installed,
)

EXITS = {
    "take_profit_cents": 15,
    "stop_loss_cents": 10,
    "exit_seconds_before_close": 3600,
    "reversal_cents": 5,
}


def holding(contracts: int, cost_each: int) -> Any:
    return context(
        portfolio(positions=positions(position("KXTEST-25JUL01-A", contracts, cost_each)))
    )


def test_take_profit_sells_the_whole_position_at_the_bid() -> None:
    [intent] = builtin.make_exits(EXITS).propose(
        market(yes_bid=6000, yes_ask=6200), None, holding(20, 4500)
    )
    assert (intent.side, intent.action, intent.price, intent.count) == (
        Side.YES,
        Action.SELL,
        6000,
        20 * CONTRACT,
    )
    assert intent.reduce_only
    assert intent.time_in_force is TimeInForce.IMMEDIATE_OR_CANCEL
    assert (
        intent.reason == "take_profit: bid $0.6000 is $0.1500 above entry $0.4500 (target $0.1500)"
    )


def test_stop_loss_on_a_no_position_uses_the_no_bid() -> None:
    # NO bought at 50c; YES ask 62c -> NO bid 38c -> 12c loss
    [intent] = builtin.make_exits(EXITS).propose(
        market(yes_bid=6000, yes_ask=6200), None, holding(-10, 5000)
    )
    assert (intent.side, intent.price) == (Side.NO, 3800)
    assert intent.reason.startswith("stop_loss: bid $0.3800 is $0.1200 below entry $0.5000")


def test_time_to_close_exit() -> None:
    soon = market(close_time=NOW + timedelta(minutes=30))
    [intent] = builtin.make_exits(EXITS).propose(soon, None, holding(10, 5000))
    assert intent.reason == "time_to_close: closes in 1800s, within 3600s"


def test_forecast_reversal_exit() -> None:
    # held YES, bid 48c, forecast 40% -> the NO side has an 8c edge at its ask
    [intent] = builtin.make_exits(EXITS).propose(market(), forecast(4000), holding(10, 5000))
    assert intent.reason.startswith("reversal: P(yes) $0.4000 is $0.0800 below the bid $0.4800")
    assert builtin.make_exits(EXITS).propose(market(), forecast(4500), holding(10, 5000)) == []


def test_no_exit_when_nothing_fires_flat_or_no_bid() -> None:
    exits = builtin.make_exits(EXITS)
    assert exits.propose(market(), forecast(5000), holding(10, 5000)) == []
    assert exits.propose(market(), None, context()) == []
    assert exits.propose(market(yes_bid=0), None, holding(10, 9000)) == []


def test_strategies_register_through_the_plugin_manager(kalshi_app_factory: Any) -> None:
    app = kalshi_app_factory(
        *unless_installed(builtin), settings={"strategies.exits.stop_loss_cents": 3}
    )
    assert {"directional", "market_maker", "exits"} <= set(app.registry("strategies").names())
    assert app.build("strategies", "exits").stop_loss == 300
    assert app.build("strategies", "directional").aggressiveness == "take"
    assert app.problems() == []

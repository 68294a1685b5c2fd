"""Directional: no trade on an unproven or noisy edge; Kelly shrunk by the stderr."""

from __future__ import annotations

from typing import Any

from kalshi_core.builtin import strategies as builtin
from kalshi_core.money import CONTRACT
from tests.engine.builders import context, forecast, market


def directional(**settings: Any) -> Any:
    return builtin.make_directional(settings)


def test_no_order_on_a_forecast_without_stderr() -> None:
    assert directional().propose(market(), forecast(9000, stderr=None), context()) == []


def test_assumed_stderr_lets_an_unproven_forecast_trade_when_asked() -> None:
    strategy = directional(missing_stderr="assume", assumed_stderr_cents=5)
    [intent] = strategy.propose(market(), forecast(9000, stderr=None), context())
    assert intent.count > 0


def test_edge_within_its_noise_places_no_order() -> None:
    # P 0.62 at the 52c ask: 10c less fee 1.75c = 8.25c; min 5c + 2 x 2c = 9c -> no order
    assert (
        directional(min_edge_cents=5).propose(market(), forecast(6200, stderr=200), context()) == []
    )
    # 1.5c stderr: 5c + 3c = 8c <= 8.25c -> an order
    [intent] = directional(min_edge_cents=5).propose(
        market(), forecast(6200, stderr=150), context()
    )
    assert intent.count > 0


def test_kelly_is_scaled_by_confidence() -> None:
    strategy = directional(min_edge_cents=5, kelly_fraction=0.25, max_contracts=1000, stderrs=0)
    [certain] = strategy.propose(market(), forecast(6200, stderr=0), context())
    [unsure] = strategy.propose(market(), forecast(6200, stderr=825), context())
    # certain: 82 contracts (test_directional). edge at the ask + exact fee is 8.2528c; a
    # stderr of 8.25c scales the stake by 8.2528 / 16.5028 = 0.50008: $44.61 -> $22.31 -> 41
    assert certain.count == 82 * CONTRACT
    assert unsure.count == 41 * CONTRACT

"""Intent-stage validators: exposure, cash reserve, edge after fees, spread."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kalshi_core.builtin import validators as v
from kalshi_core.engine.pipeline_steps import screen_intents
from kalshi_core.fees import FeeSchedule
from kalshi_core.models import Action, Side
from kalshi_core.money import DOLLAR
from kalshi_core.protocols import IntentValidator
from tests.engine.builders import (
    NOW,
    buy,
    context,
    forecast,
    market,
    portfolio,
    position,
    positions,
    unless_installed,
)


def test_exposure_per_market_counts_the_intent() -> None:
    check = v.make_exposure({"max_market_pct": 0.05, "max_event_pct": 0.5})
    assert isinstance(check, IntentValidator)
    ok = check.validate_intent(buy(5000, 100), market(), None, context())  # $50 of $1000
    assert ok.accepted
    verdict = check.validate_intent(buy(5000, 101), market(), None, context())
    assert not verdict.accepted
    assert "market KXTEST-25JUL01-A exposure $0.0000 + order cost $50.5000" in verdict.reason
    assert "5% of portfolio value $1000.0000 = $50.0000" in verdict.reason


def test_exposure_per_event_counts_sibling_markets() -> None:
    check = v.make_exposure({"max_market_pct": 1, "max_event_pct": 0.1})
    held = portfolio(
        cash=920 * DOLLAR,
        positions=positions(position("KXTEST-25JUL01-B", 100, 8000)),
        event_of={"KXTEST-25JUL01-B": "KXTEST-25JUL01"},
    )
    verdict = check.validate_intent(buy(5000, 50), market(), None, context(held))
    assert not verdict.accepted
    assert "event KXTEST-25JUL01 exposure $80.0000 + order cost $25.0000" in verdict.reason
    assert check.validate_intent(buy(5000, 40), market(), None, context(held)).accepted


def test_cash_reserve() -> None:
    check = v.make_cash_reserve({"min_cash_pct": 0.5})
    ctx = context(portfolio(cash=100 * DOLLAR))
    assert check.validate_intent(buy(5000, 90), market(), None, ctx).accepted
    verdict = check.validate_intent(buy(5000, 100), market(), None, ctx)
    assert not verdict.accepted
    assert "cash $100.0000 less order cost $50.0000 and fee $1.7500" in verdict.reason
    assert "reserve $50.0000 (50% of portfolio value $100.0000)" in verdict.reason


def test_min_edge_after_taker_fee() -> None:
    check = v.make_min_edge({"min_edge_cents": 3})
    # P 0.56 vs 50c: 6c gross; 10 contracts pay 0.07*10*0.25 = 17.5c -> 18c -> 1.8c each
    ok = check.validate_intent(buy(5000, 10), market(), forecast(5600), context())
    assert ok.accepted
    verdict = check.validate_intent(buy(5000, 10), market(), forecast(5400), context())
    assert not verdict.accepted
    assert "edge $0.0220 per contract" in verdict.reason
    assert "less fee $0.0180" in verdict.reason
    assert "minimum $0.0300" in verdict.reason


def test_min_edge_buying_no_uses_one_minus_p() -> None:
    check = v.make_min_edge({"min_edge_cents": 3})
    no_buy = buy(4000, 10, side=Side.NO)
    assert check.validate_intent(no_buy, market(), forecast(5000), context()).accepted
    verdict = check.validate_intent(no_buy, market(), forecast(5600), context())
    assert "P(no) $0.4400" in verdict.reason
    no_forecast = check.validate_intent(no_buy, market(), None, context())
    assert "no forecast" in no_forecast.reason


def test_min_edge_honours_the_fee_schedule_waiver() -> None:
    check = v.make_min_edge({"min_edge_cents": 3})
    waived = context(fee_schedule=FeeSchedule(waiver_until=NOW + timedelta(days=1)))
    assert check.validate_intent(buy(5000, 10), market(), forecast(5300), waived).accepted
    assert not check.validate_intent(buy(5000, 10), market(), forecast(5300), context()).accepted


def test_spread_intent_stage_lets_exits_through() -> None:
    check = v.make_spread({"max_spread_cents": 5})
    wide = market(yes_bid=3000, yes_ask=6000)
    assert not check.validate_intent(buy(6000), wide, None, context()).accepted
    sell = buy(3000, action=Action.SELL, reduce_only=True)
    assert check.validate_intent(sell, wide, None, context()).accepted


def test_intent_validators_never_block_exits() -> None:
    checks = [v.make_exposure({}), v.make_cash_reserve({}), v.make_min_edge({})]
    sell = buy(5000, 1000, action=Action.SELL, reduce_only=True)
    result = screen_intents([sell], checks, market(), None, context(portfolio(cash=0)))
    assert result.passed == (sell,)


def test_registered_through_the_plugin_manager(kalshi_app_factory: Any) -> None:
    app = kalshi_app_factory(
        *unless_installed(v), settings={"validators.min_edge.min_edge_cents": 4}
    )
    names = app.registry("validators").names()
    assert {
        "ai_budget",
        "dedup",
        "liquidity",
        "categories",
        "time_to_close",
        "positions",
        "spread",
        "exposure",
        "cash_reserve",
        "min_edge",
        "market_status",
    } <= set(names)
    assert app.section("validators.dedup") == {"min_interval_seconds": 900, "price_move_cents": 2}
    assert app.build("validators", "min_edge").min_edge == 400
    assert app.problems() == []

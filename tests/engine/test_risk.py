"""The risk step: order size, position and gross exposure caps, order rate, kill switch."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kalshi_core import signals
from kalshi_core.engine.edge import intent_cost
from kalshi_core.engine.risk import RiskLimits, RiskManager
from kalshi_core.models import Action, Position
from kalshi_core.money import CONTRACT, DOLLAR
from tests.engine.builders import NOW, buy, context, portfolio, position, positions

SECTION = {
    "max_position_pct": 0.05,
    "max_daily_loss_pct": 0.10,
    "max_gross_exposure_pct": 0.80,
    "max_order_contracts": 100,
    "max_orders_per_minute": 60,
}


def limits(**overrides: Any) -> RiskLimits:
    return RiskLimits.from_section({**SECTION, **overrides})


@pytest.fixture
def risk_signals() -> Iterator[list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []

    def receiver(sender: object, **kwargs: Any) -> None:
        seen.append(kwargs)

    signals.risk_limit_hit.connect(receiver)
    yield seen
    signals.risk_limit_hit.disconnect(receiver)


def test_limits_from_the_core_risk_section() -> None:
    parsed = limits()
    assert parsed.max_position_pct == Fraction(1, 20)
    assert parsed.max_order_count == 100 * CONTRACT
    assert parsed.max_orders_per_minute == 60


def test_approves_an_order_within_every_limit() -> None:
    intent = buy(5000, 10)
    result = RiskManager(limits()).review([intent], context())
    assert result.approved == (intent,)
    assert result.rejections == ()


def test_resizes_an_order_over_max_order_contracts() -> None:
    result = RiskManager(limits(max_order_contracts=5, max_position_pct=1)).review(
        [buy(5000, 50)], context()
    )
    assert [i.count for i in result.approved] == [5 * CONTRACT]


def test_shrinks_to_the_per_market_position_cap() -> None:
    # $1000 x 5% = $50 room; 40c contracts -> 125 contracts; max order 100 keeps it at 100
    # holding $30 already leaves $20 -> 50 contracts
    held = portfolio(cash=970 * DOLLAR, positions=positions(position("KXTEST-25JUL01-A", 75, 4000)))
    result = RiskManager(limits()).review([buy(4000, 100)], context(held))
    assert [i.count for i in result.approved] == [50 * CONTRACT]


def test_rejects_when_the_market_is_at_its_cap(risk_signals: list[dict[str, Any]]) -> None:
    held = portfolio(
        cash=950 * DOLLAR, positions=positions(position("KXTEST-25JUL01-A", 100, 5000))
    )
    result = RiskManager(limits()).review([buy(5000, 1)], context(held))
    assert result.approved == ()
    [rejection] = result.rejections
    assert rejection.rule == "max_position_pct"
    assert "$50.0000" in rejection.reason
    assert "5%" in rejection.reason
    assert "$1000.0000" in rejection.reason
    assert risk_signals[-1]["rule"] == "max_position_pct"


def test_rejects_past_gross_exposure() -> None:
    held = portfolio(
        cash=200 * DOLLAR,
        positions=positions(*(position(f"KXOTHER-X-{i}", 200, 5000) for i in range(8))),
    )
    result = RiskManager(limits(max_position_pct=1)).review([buy(5000, 1)], context(held))
    [rejection] = result.rejections
    assert rejection.rule == "max_gross_exposure_pct"
    assert "gross exposure $800.0000" in rejection.reason
    assert "80%" in rejection.reason


def test_one_batch_cannot_overshoot_the_position_cap() -> None:
    result = RiskManager(limits()).review([buy(5000, 60), buy(5000, 60)], context())
    # $50 room at 50c: the first takes 60 contracts ($30), the second the remaining 40
    assert [i.count for i in result.approved] == [60 * CONTRACT, 40 * CONTRACT]
    assert sum(intent_cost(i) for i in result.approved) == 50 * DOLLAR


def test_order_rate_uses_the_context_clock() -> None:
    manager = RiskManager(limits(max_orders_per_minute=2, max_position_pct=1))
    first = manager.review([buy(100, 1), buy(100, 1), buy(100, 1)], context())
    assert len(first.approved) == 2
    assert first.rejections[0].rule == "max_orders_per_minute"
    assert "2 orders per minute" in first.rejections[0].reason
    same_instant = manager.review([buy(100, 1)], context())
    assert same_instant.approved == ()
    later = manager.review([buy(100, 1)], context(now=NOW + timedelta(seconds=30)))
    assert len(later.approved) == 1


def test_kill_switch_trips_on_daily_loss_and_stays_tripped(
    risk_signals: list[dict[str, Any]],
) -> None:
    manager = RiskManager(limits())
    losing = portfolio(cash=899 * DOLLAR, start_of_day_value=1000 * DOLLAR)
    result = manager.review([buy(5000, 1)], context(losing))
    assert result.approved == ()
    assert manager.kill_switch_tripped
    assert manager.state == "tripped"
    assert "$899.0000" in (manager.tripped_reason or "")
    assert "$900.0000" in (manager.tripped_reason or "")
    assert "10%" in (manager.tripped_reason or "")
    assert result.rejections[0].rule == "kill_switch"
    assert risk_signals[0]["rule"] == "max_daily_loss"
    recovered = portfolio(cash=2000 * DOLLAR, start_of_day_value=1000 * DOLLAR)
    assert manager.review([buy(5000, 1)], context(recovered)).approved == ()
    manager.reset()
    assert len(manager.review([buy(5000, 1)], context(recovered)).approved) == 1


def test_loss_within_the_limit_keeps_trading() -> None:
    manager = RiskManager(limits())
    ok = portfolio(cash=901 * DOLLAR, start_of_day_value=1000 * DOLLAR)
    assert len(manager.review([buy(5000, 1)], context(ok)).approved) == 1
    assert not manager.kill_switch_tripped


def test_sells_skip_exposure_caps_but_not_order_size() -> None:
    held = portfolio(cash=0, positions=positions(position("KXTEST-25JUL01-A", 500, 5000)))
    sell = buy(5000, 500, action=Action.SELL, reduce_only=True)
    result = RiskManager(limits()).review([sell], context(held))
    assert [i.count for i in result.approved] == [100 * CONTRACT]


intent_lists = st.lists(
    st.builds(
        buy,
        st.integers(1, DOLLAR - 1),
        st.integers(0, 500),
        ticker=st.sampled_from(["KXA-1-A", "KXA-1-B", "KXB-1-A"]),
    ),
    max_size=12,
)


@given(
    intents=intent_lists,
    cash=st.integers(0, 10_000 * DOLLAR),
    held_cost=st.integers(0, 5000 * DOLLAR),
    max_contracts=st.integers(0, 200),
    gross_pct=st.sampled_from([0.1, 0.5, 0.8, 1.0]),
)
def test_never_approves_oversize_orders_or_gross_past_the_cap(
    intents: list[Any], cash: int, held_cost: int, max_contracts: int, gross_pct: float
) -> None:
    held = Position(ticker="KXC-1-A", position=100 * CONTRACT, market_exposure=held_cost)
    port = portfolio(cash=cash, positions={"KXC-1-A": held})
    lim = limits(max_order_contracts=max_contracts, max_gross_exposure_pct=gross_pct)
    result = RiskManager(lim).review(intents, context(port))
    assert all(i.count <= max_contracts * CONTRACT for i in result.approved)
    added = sum(intent_cost(i) for i in result.approved)
    cap = port.value * lim.max_gross_exposure_pct
    if added:
        assert held_cost + added <= cap
    for ticker in {i.ticker for i in result.approved}:
        spent = sum(intent_cost(i) for i in result.approved if i.ticker == ticker)
        assert spent <= port.value * lim.max_position_pct


@given(intents=intent_lists, loss=st.integers(1, 1000 * DOLLAR), later=intent_lists)
def test_nothing_is_approved_once_the_kill_switch_trips(
    intents: list[Any], loss: int, later: list[Any]
) -> None:
    manager = RiskManager(limits())
    start = 10_000 * DOLLAR
    losing = portfolio(cash=start * 9 // 10 - loss, start_of_day_value=start)
    assert manager.review(intents, context(losing)).approved == ()
    assert manager.kill_switch_tripped
    fine = portfolio(cash=start, start_of_day_value=start)
    assert manager.review(later, context(fine)).approved == ()

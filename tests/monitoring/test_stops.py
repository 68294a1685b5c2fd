"""Graded stops: levels only rise by themselves, every change is a signal and an audit event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kalshi_core import signals
from kalshi_core.clock import ManualClock
from kalshi_core.engine.audit import AuditTrail
from kalshi_core.models import (
    Action,
    Market,
    MarketStatus,
    OrderIntent,
    Position,
    Side,
    TimeInForce,
)
from kalshi_core.money import CONTRACT
from kalshi_core.monitoring.anomalies import Anomaly
from kalshi_core.monitoring.stops import StopController
from kalshi_core.storage.database import Database

T0 = datetime(2026, 1, 2, 15, tzinfo=UTC)


def test_levels_rise_and_only_a_resume_lowers_them() -> None:
    stops = StopController()
    assert stops.allows_entries
    assert stops.escalate("cancel_resting", "drawdown")
    assert not stops.escalate("pause_entries", "order rate")  # lower: ignored
    assert (stops.level, stops.reason) == ("cancel_resting", "drawdown")
    assert not stops.allows_entries
    assert stops.cancels_resting
    assert not stops.flattens
    assert not stops.stops
    stops.resume("operator checked")
    assert stops.level == "running"
    assert stops.allows_entries


def test_an_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown stop level 'halt'"):
        StopController().escalate("halt", "x")


def test_anomalies_that_ask_for_a_halt_escalate() -> None:
    stops = StopController()
    with stops:
        signals.anomaly_detected.send(object(), anomaly=Anomaly(detector="slippage", message="m"))
        assert stops.level == "running"  # halt "none": alert only
        signals.anomaly_detected.send(
            object(), anomaly=Anomaly(detector="drawdown", message="15% down", halt="flatten")
        )
    assert stops.level == "flatten"
    assert stops.reason == "drawdown: 15% down"


async def test_every_change_is_stored_as_an_audit_event(kalshi_database: Database) -> None:
    trail = AuditTrail(kalshi_database.audit, ManualClock(T0))
    stops = StopController()
    stops.escalate("stop", "operator")
    stops.resume("fixed")
    await trail.flush()
    trail.close()
    stored = await kalshi_database.audit.between(T0, T0 + timedelta(seconds=1), "stop_changed")
    changes = [(e.payload["previous"], e.payload["level"], e.message) for e in stored]
    assert changes == [("running", "stop", "operator"), ("stop", "running", "fixed")]


def _market(ticker: str, yes_bid: int, no_bid: int) -> Market:
    return Market(
        ticker=ticker,
        event_ticker="E",
        status=MarketStatus.ACTIVE,
        open_time=T0,
        close_time=T0 + timedelta(hours=1),
        yes_bid=yes_bid,
        no_bid=no_bid,
    )


def test_flatten_sells_each_position_at_a_limit_below_the_bid() -> None:
    stops = StopController(flatten_concession=500)
    stops.escalate("flatten", "drawdown")
    positions = {
        "A": Position(ticker="A", position=3 * CONTRACT),
        "B": Position(ticker="B", position=-2 * CONTRACT),
        "C": Position(ticker="C", position=CONTRACT),  # no bid: next cycle
        "D": Position(ticker="D", position=0),
    }
    markets = {"A": _market("A", 4000, 5500), "B": _market("B", 3000, 400), "C": _market("C", 0, 0)}
    intents = stops.flatten_intents(positions, markets)
    assert [(i.ticker, i.side, i.price, i.count) for i in intents] == [
        ("A", Side.YES, 3500, 3 * CONTRACT),
        ("B", Side.NO, 100, 2 * CONTRACT),  # never below one cent
    ]
    assert all(i.action is Action.SELL and i.reduce_only for i in intents)
    assert all(i.time_in_force is TimeInForce.IMMEDIATE_OR_CANCEL for i in intents)
    assert intents[0].reason == "flatten: drawdown"


def _intent(action: Action, reduce_only: bool = False) -> OrderIntent:
    return OrderIntent(
        ticker="A",
        side=Side.YES,
        action=action,
        price=4500,
        count=CONTRACT,
        strategy="s",
        reduce_only=reduce_only,
    )


def test_admit_lets_only_exits_through_a_pause_and_nothing_through_a_stop() -> None:
    buy, sell, reducing_buy = _intent(Action.BUY), _intent(Action.SELL), _intent(Action.BUY, True)
    stops = StopController()
    assert stops.admit([buy, sell, reducing_buy]) == (buy, sell, reducing_buy)
    stops.escalate("pause_entries", "order rate")
    assert stops.admit([buy, sell, reducing_buy]) == (sell, reducing_buy)
    stops.escalate("flatten", "drawdown")
    assert stops.admit([buy, sell]) == (sell,)
    stops.escalate("stop", "operator")
    assert stops.admit([buy, sell]) == ()

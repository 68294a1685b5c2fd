"""The engine's cycle end to end on the in-process venue and a real SQLite database."""

from __future__ import annotations

import os
from datetime import timedelta
from fractions import Fraction

import pytest

from kalshi_core import signals
from kalshi_core.app import App
from kalshi_core.clock import ManualClock
from kalshi_core.engine.alerts import AlertRouter
from kalshi_core.engine.execution import PlannedOrder, order_request
from kalshi_core.engine.reconcile import NOT_FOUND
from kalshi_core.engine.risk import RiskLimits, RiskManager
from kalshi_core.engine.session import worker_id
from kalshi_core.exchange.venue import Venue
from kalshi_core.fees import FeeSchedule
from kalshi_core.models import (
    Action,
    MarketResult,
    OrderIntent,
    OrderStatus,
    Series,
    Side,
    TimeInForce,
)
from kalshi_core.money import CONTRACT
from kalshi_core.monitoring.stops import StopController
from kalshi_core.protocols import Portfolio
from kalshi_core.storage.database import Database
from kalshi_core.storage.records import OrderState
from kalshi_core.venues.simulated import VenueGateway, venue_order

from .conftest import RISK, TICKERS, TRADER, BuyBelowForecast, make_engine
from .test_alerts import Collecting


async def test_cycle_places_orders_and_records_every_fill(
    venue: Venue, database: Database, clock: ManualClock
) -> None:
    engine = make_engine(venue, database, clock)
    reports = []
    for _ in range(3):
        reports.append(await engine.run_cycle())
        clock.advance(timedelta(minutes=1))
    assert [r.markets for r in reports] == [len(TICKERS)] * 3
    assert [r.placed for r in reports] == [len(TICKERS)] * 3  # the edge stays
    assert [r.fills for r in reports] == [0, len(TICKERS), len(TICKERS)]  # reconciled a cycle later
    final = await engine.run_cycle()
    venue_fills = venue.fills(TRADER)
    assert len(venue_fills) == 4 * len(TICKERS)
    stored = [f for t in TICKERS for f in await database.fills.for_market(t)]
    assert sorted(f.fill_id for f in stored) == sorted(f.fill_id for f in venue_fills[:9])
    held = {p.ticker: p.position for p in final.portfolio.positions.values()}
    assert held == {ticker: 6 * CONTRACT for ticker in TICKERS}


async def test_no_edge_means_no_orders(
    venue: Venue, database: Database, clock: ManualClock
) -> None:
    engine = make_engine(venue, database, clock, probability=3000)
    report = await engine.run_cycle()
    assert report.forecasts == len(TICKERS)
    assert report.placed == 0
    assert venue.orders(TRADER) == []


async def test_decisions_are_stored_with_forecasts(
    venue: Venue, database: Database, clock: ManualClock
) -> None:
    engine = make_engine(venue, database, clock)
    await engine.run_cycle()
    stored = await database.decisions.for_market(
        TICKERS[0], clock.now() - timedelta(hours=1), clock.now() + timedelta(hours=1)
    )
    assert len(stored) == 1
    assert stored[0].forecast is not None
    assert stored[0].intents[0].ticker == TICKERS[0]


async def test_executing_the_same_plan_twice_places_once(
    venue: Venue, database: Database, clock: ManualClock
) -> None:
    engine = make_engine(venue, database, clock)
    intent = OrderIntent(
        ticker=TICKERS[0],
        side=Side.YES,
        action=Action.BUY,
        price=4500,
        count=CONTRACT,
        strategy="t",
    )
    planned = [PlannedOrder(intent=intent, decision_id="d-1", client_order_id="kc-same")]
    first = await engine.executor.execute(planned)
    second = await engine.executor.execute(planned)
    assert len(first.placed) == 1
    assert second.placed == []
    assert "already recorded" in second.skipped[0][1]
    assert len(venue.orders(TRADER)) == 1


async def test_restart_after_crash_between_placing_and_recording(
    venue: Venue, database: Database, clock: ManualClock
) -> None:
    """The intent was recorded and the order reached the venue, then the process died."""
    intent = OrderIntent(
        ticker=TICKERS[1],
        side=Side.NO,
        action=Action.BUY,
        price=5500,
        count=CONTRACT,
        strategy="t",
    )
    planned = PlannedOrder(intent=intent, decision_id="d-2", client_order_id="kc-crashed")
    await database.orders.record_intent("kc-crashed", intent, clock.now(), "d-2")
    placed = venue.place_order(venue_order(TRADER, order_request(planned)))
    never_sent = PlannedOrder(intent=intent, decision_id="d-3", client_order_id="kc-never")
    await database.orders.record_intent("kc-never", never_sent.intent, clock.now(), "d-3")

    restarted = make_engine(venue, database, clock, probability=3000)
    await restarted.run_cycle()

    found = await database.orders.get("kc-crashed")
    assert found is not None
    assert found.order_id == placed.order_id
    assert found.state in (OrderState.RESTING, OrderState.EXECUTED)
    missing = await database.orders.get("kc-never")
    assert missing is not None
    assert missing.state is OrderState.REJECTED
    assert missing.error == NOT_FOUND
    assert len(venue.orders(TRADER)) == 1


async def test_model_spend_is_stored_and_seen_by_the_next_cycle(
    venue: Venue, database: Database, clock: ManualClock
) -> None:
    engine = make_engine(venue, database, clock, probability=3000)
    signals.ai_spend.send(object(), ticker=TICKERS[0], model="m", cost=1234, input_tokens=5)
    await engine.run_cycle()
    midnight = clock.now().replace(hour=0, minute=0)
    assert await database.ai_spend.total_since(midnight) == 1234
    assert engine._context(engine_portfolio(), await engine._spent_today()).ai_spend_today == 1234


def engine_portfolio() -> Portfolio:
    return Portfolio(cash=0)


async def test_daily_loss_trips_the_kill_switch_cancels_and_stops_trading(
    venue: Venue, database: Database, clock: ManualClock
) -> None:
    engine = make_engine(venue, database, clock)
    engine.risk = RiskManager(RiskLimits.from_section({**RISK, "max_daily_loss_pct": 0.02}))
    engine.pipeline = type(engine.pipeline)(
        forecasters=engine.pipeline.forecasters,
        strategies=[BuyBelowForecast(contracts=40, tif=TimeInForce.GOOD_TILL_CANCELED)],
    )
    first = await engine.run_cycle()
    assert first.placed == len(TICKERS)
    clock.advance(timedelta(minutes=1))
    for ticker in TICKERS[:2]:
        venue.close_market(ticker)
        venue.determine(ticker, MarketResult.NO)
    low_bid = OrderIntent(
        ticker=TICKERS[2],
        side=Side.YES,
        action=Action.BUY,
        price=500,
        count=CONTRACT,
        strategy="t",
    )
    await engine.executor.execute(
        [PlannedOrder(intent=low_bid, decision_id="d-low", client_order_id="kc-low")]
    )
    resting_before = venue.orders(TRADER, status=OrderStatus.RESTING)
    channel = Collecting()
    router = AlertRouter([channel], clock)
    with router:  # alert subscribers ride along, as in a session
        tripped = await engine.run_cycle()
    await router.flush()
    assert [a.title for a in channel.alerts] == ["risk limit: max_daily_loss"]
    assert tripped.kill_switch
    assert tripped.placed == 0
    assert resting_before  # the third market's order was resting ...
    assert venue.orders(TRADER, status=OrderStatus.RESTING) == []  # ... and was canceled
    day = await database.daily_pnl.get(clock.now().date())
    assert day is not None
    assert day.realized_pnl < 0


async def test_order_events_reach_the_audit_trail(
    venue: Venue, database: Database, clock: ManualClock
) -> None:
    engine = make_engine(venue, database, clock)
    await engine.run_cycle()
    events = await database.audit.between(
        clock.now() - timedelta(minutes=1), clock.now() + timedelta(minutes=1)
    )
    placed = [e for e in events if e.kind == "order_placed"]
    assert sorted(e.ticker for e in placed) == sorted(TICKERS)
    assert all(e.payload["client_order_id"].startswith("kc-") for e in placed)


class Exploding:
    name = "exploding"

    async def forecast(self, market: object, context: object) -> None:
        raise RuntimeError("model endpoint is down")

    def validate(self, market: object, context: object) -> None:
        raise ValueError("bad data in validator")


async def test_a_failing_plugin_costs_one_market_not_the_cycle(
    venue: Venue, database: Database, clock: ManualClock
) -> None:
    engine = make_engine(venue, database, clock)
    working = engine.pipeline.forecasters
    engine.pipeline = type(engine.pipeline)(
        forecasters=[Exploding(), *working], strategies=engine.pipeline.strategies
    )
    report = await engine.run_cycle()
    assert report.placed == len(TICKERS)  # the second forecaster answered
    engine.pipeline = type(engine.pipeline)(validators=[Exploding()])
    clock.advance(timedelta(minutes=1))
    failed = await engine.run_cycle()
    assert failed.markets == len(TICKERS)
    assert failed.candidates == 0
    stored = await database.decisions.for_market(
        TICKERS[0], clock.now() - timedelta(minutes=1), clock.now() + timedelta(minutes=1)
    )
    reasons = [v.reason for d in stored for v in d.verdicts if not v.accepted]
    assert any("ValueError: bad data in validator" in r for r in reasons)


async def test_markets_that_were_forecast_are_snapshotted(
    venue: Venue, database: Database, clock: ManualClock
) -> None:
    await make_engine(venue, database, clock).run_cycle()
    snapshot = await database.market_snapshots.latest(TICKERS[0])
    assert snapshot is not None
    assert snapshot.captured_time == clock.now()
    assert (snapshot.market.yes_bid, snapshot.market.yes_ask) == (4000, 4500)


async def test_the_daily_kill_switch_rearms_the_next_day_unless_manual(
    venue: Venue, database: Database, clock: ManualClock
) -> None:
    for rearm in (True, False):
        engine = make_engine(venue, database, clock)
        engine.rearm_daily = rearm
        engine.risk.tripped_reason = "tripped earlier today"
        await engine.run_cycle()
        assert engine.risk.kill_switch_tripped
        clock.advance(timedelta(days=1))
        report = await engine.run_cycle()
        assert report.kill_switch is not rearm


async def test_a_settled_position_announces_position_closed_once(
    venue: Venue, database: Database, clock: ManualClock
) -> None:
    engine = make_engine(venue, database, clock)
    await engine.run_cycle()
    clock.advance(timedelta(minutes=1))
    await engine.run_cycle()  # the fills are reconciled: positions held
    closed: list[str] = []

    def collect(sender: object, **_: object) -> None:
        closed.append(str(sender))

    signals.position_closed.connect(collect)
    try:
        venue.determine(TICKERS[0], MarketResult.NO)
        clock.advance(timedelta(minutes=1))
        await engine.run_cycle()
        clock.advance(timedelta(minutes=1))
        await engine.run_cycle()
    finally:
        signals.position_closed.disconnect(collect)
    assert closed == [TICKERS[0]]
    stored = await database.positions.get(TICKERS[0])
    assert stored is not None
    assert stored.position == 0  # zeroed as the venue reports it, not a phantom open position
    assert stored.realized_pnl < 0


async def test_each_market_sees_its_own_series_fee_terms_and_category(
    venue: Venue, database: Database, clock: ManualClock
) -> None:
    seen: dict[str, tuple[object, str]] = {}

    class Spy(BuyBelowForecast):
        def propose(self, market, forecast, context):  # type: ignore[no-untyped-def]
            category = context.category_of.get(market.series_ticker, "")
            seen[market.ticker] = (context.fee_schedule, category)
            return []

    series = Series(ticker="KXTEST", title="test", category="Economics", fee_multiplier=1.75)
    gateway = VenueGateway(venue, TRADER, {"KXTEST": series})
    engine = make_engine(venue, database, clock, gateway=gateway, strategies=[Spy()])
    await engine.run_cycle()
    assert set(seen) == set(TICKERS)
    for ticker, (schedule, category) in seen.items():
        if ticker.startswith("KXTEST-"):
            assert schedule == FeeSchedule.from_series(series)
            assert schedule.multiplier == Fraction(7, 4)
            assert category == "Economics"
        else:  # a series the venue knows nothing about: default terms, no category
            assert schedule == FeeSchedule()
            assert category == ""


async def test_a_restarted_worker_takes_its_own_leases_back_at_once(
    venue: Venue, database: Database, clock: ManualClock
) -> None:
    crashed = make_engine(venue, database, clock)
    crashed.worker_id = "worker-1"
    first = await crashed.run_cycle()  # then the process dies: no release
    assert first.markets == len(TICKERS)
    clock.advance(timedelta(minutes=1))
    other = make_engine(venue, database, clock)
    other.worker_id = "worker-2"
    assert (await other.run_cycle()).markets == 0  # the dead worker's leases still hold
    restarted = make_engine(venue, database, clock)
    restarted.worker_id = "worker-1"
    assert (await restarted.run_cycle()).markets == len(TICKERS)


def test_the_worker_id_comes_from_settings_or_is_unique_per_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KALSHI_RUN__WORKER_ID", "bot-a")
    assert worker_id(App.create()) == "bot-a"
    monkeypatch.delenv("KALSHI_RUN__WORKER_ID")
    assert worker_id(App.create()).endswith(f":{os.getpid()}")


async def test_a_strategy_that_wants_the_book_gets_it_and_others_cost_nothing(
    venue: Venue, database: Database, clock: ManualClock
) -> None:
    books: dict[str, object] = {}

    class Reader(BuyBelowForecast):
        wants_orderbook = True

        def propose(self, market, forecast, context):  # type: ignore[no-untyped-def]
            books[market.ticker] = context.orderbook
            return []

    reads: list[str] = []
    gateway = VenueGateway(venue, TRADER)
    loader = gateway.orderbook

    async def counting(ticker: str) -> object:
        reads.append(ticker)
        return await loader(ticker)

    gateway.orderbook = counting  # type: ignore[method-assign]
    engine = make_engine(venue, database, clock, gateway=gateway, strategies=[Reader()])
    await engine.run_cycle()
    assert sorted(reads) == sorted(TICKERS)
    for ticker, book in books.items():
        assert book == venue.orderbook(ticker)
        assert book.yes  # type: ignore[attr-defined]
    plain = make_engine(venue, database, clock, gateway=gateway)
    reads.clear()
    await plain.run_cycle()
    assert reads == []


async def test_graded_stops_pause_entries_cancel_resting_and_flatten(
    venue: Venue, database: Database, clock: ManualClock
) -> None:
    gtc = BuyBelowForecast(tif=TimeInForce.GOOD_TILL_CANCELED)
    engine = make_engine(venue, database, clock, strategies=[gtc])
    engine.stops = StopController()
    await engine.run_cycle()  # buys: fills at the ask
    clock.advance(timedelta(minutes=1))
    held = {p.ticker for p in venue.positions(TRADER) if p.position}
    assert held == set(TICKERS)

    engine.stops.escalate("pause_entries", "test")
    assert (await engine.run_cycle()).placed == 0  # entries refused, nothing to exit
    clock.advance(timedelta(minutes=1))

    engine.stops.escalate("flatten", "test")
    report = await engine.run_cycle()
    assert report.placed == len(TICKERS)  # one reduce-only IOC sell per position
    flattening = [o for o in venue.orders(TRADER) if o.reduce_only]
    assert {o.ticker for o in flattening} == set(TICKERS)
    assert all(o.time_in_force is TimeInForce.IMMEDIATE_OR_CANCEL for o in flattening)
    assert venue.orders(TRADER, status=OrderStatus.RESTING) == []

    engine.stops.escalate("stop", "test")
    clock.advance(timedelta(minutes=1))
    assert (await engine.run_cycle()).placed == 0

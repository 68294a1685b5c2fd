"""Each repository round-trips domain objects exactly, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import attrs
import pytest

from kalshi_core.models import (
    BookSide,
    Fill,
    Market,
    MarketResult,
    MarketStatus,
    Order,
    OrderStatus,
    Position,
    Settlement,
    Side,
    Verdict,
)
from kalshi_core.storage.database import Database
from kalshi_core.storage.records import AiSpend, AuditEvent, DailyPnl, OrderState

NOW = datetime(2026, 11, 25, 14, 30, 15, 123456, tzinfo=UTC)


def assert_aware_utc(value: datetime | None) -> None:
    assert value is not None
    assert value.utcoffset() == timedelta(0)


async def test_market_snapshots_round_trip(database: Database, samples) -> None:
    first = samples.market()
    later = samples.market(yes_bid=4400, status=MarketStatus.CLOSED, settlement_value=None)
    await database.market_snapshots.record(first, NOW)
    await database.market_snapshots.record(later, NOW + timedelta(minutes=1))
    await database.market_snapshots.record(samples.market("OTHER-1-X"), NOW)

    latest = await database.market_snapshots.latest(first.ticker)
    assert latest is not None
    assert latest.market == later
    assert latest.captured_time == NOW + timedelta(minutes=1)
    history = await database.market_snapshots.history(first.ticker, NOW, NOW + timedelta(hours=1))
    assert [s.market for s in history] == [first, later]
    assert await database.market_snapshots.latest("NOPE") is None


async def test_forecasts_round_trip_with_model_prompt_tokens_and_cost(
    database: Database, samples
) -> None:
    forecast = samples.forecast()
    bare = samples.forecast(
        created_time=NOW + timedelta(seconds=1),
        confidence=None,
        stderr=None,
        prompt_hash=None,
        cost=0,
    )
    first_id = await database.forecasts.record(forecast)
    second_id = await database.forecasts.record(bare)
    assert second_id != first_id
    stored = await database.forecasts.for_market(forecast.ticker)
    assert stored == [forecast, bare]
    assert isinstance(stored[0].cost, int)
    assert_aware_utc(stored[0].created_time)
    assert await database.forecasts.for_market(forecast.ticker, since=bare.created_time) == [bare]
    assert (stored[0].stderr, stored[1].stderr) == (420, None)


async def test_a_zero_stderr_is_stored_as_zero_not_unknown(database: Database, samples) -> None:
    certain = samples.forecast(stderr=0)
    await database.forecasts.record(certain)
    await database.decisions.record_many([samples.decision("d-0", forecast=certain)])
    stored = await database.forecasts.for_market(certain.ticker)
    assert [f.stderr for f in stored] == [0, 0]
    decision = await database.decisions.get("d-0")
    assert decision is not None
    assert decision.forecast is not None
    assert decision.forecast.stderr == 0


async def test_decisions_keep_every_verdict_forecast_and_intent(
    database: Database, samples
) -> None:
    decision = samples.decision()
    assert await database.decisions.record(decision) is True
    stored = await database.decisions.get("d-1")
    assert stored == decision
    assert stored is not None
    assert [v.reason for v in stored.verdicts] == ["", "spread 87 above limit 50"]
    assert stored.accepted is False


async def test_decision_recorded_twice_is_stored_once(database: Database, samples) -> None:
    decision = samples.decision()
    assert await database.decisions.record(decision) is True
    assert await database.decisions.record(decision) is False
    # the repeated forecast was rolled back with the duplicate decision
    assert len(await database.forecasts.for_market(decision.ticker)) == 1


async def test_record_many_stores_each_decision_once_with_its_forecast(
    database: Database, samples
) -> None:
    first = [samples.decision("d-1"), samples.decision("d-2", forecast=None)]
    assert await database.decisions.record_many(first) == 2
    again = [samples.decision("d-2", forecast=None), samples.decision("d-3")]
    assert await database.decisions.record_many(again) == 1
    assert await database.decisions.get("d-1") == first[0]
    assert await database.decisions.get("d-3") == again[1]
    # no forecast of a repeated decision was stored again
    assert len(await database.forecasts.for_market(first[0].ticker)) == 2
    assert await database.decisions.record_many([]) == 0


async def test_decisions_by_market_and_time_window(database: Database, samples) -> None:
    times = [NOW + timedelta(minutes=i) for i in range(5)]
    for i, at in enumerate(times):
        await database.decisions.record(
            samples.decision(f"d-{i}", created_time=at, forecast=None, verdicts=(), intents=())
        )
    await database.decisions.record(samples.decision("other", ticker="OTHER-1-X"))
    window = await database.decisions.for_market(samples.market().ticker, times[1], times[4])
    assert [d.decision_id for d in window] == ["d-3", "d-2", "d-1"]
    limited = await database.decisions.for_market(
        samples.market().ticker, times[0], times[4] + timedelta(1), limit=2
    )
    assert [d.decision_id for d in limited] == ["d-4", "d-3"]
    assert await database.decisions.get("missing") is None


async def test_order_lifecycle_round_trip(database: Database, samples) -> None:
    intent = samples.intent()
    recorded = await database.orders.record_intent("coid-1", intent, NOW, decision_id="d-1")
    assert recorded.state is OrderState.PENDING_SUBMIT
    assert recorded.intent == intent
    assert recorded.remaining_count == intent.count
    assert recorded.decision_id == "d-1"
    assert_aware_utc(recorded.created_time)

    exchange = Order(
        order_id="ord-9",
        client_order_id="coid-1",
        ticker=intent.ticker,
        outcome_side=Side.NO,
        book_side=BookSide.ASK,
        status=OrderStatus.RESTING,
        yes_price=4213,
        no_price=5787,
        initial_count=10_00,
        fill_count=2_50,
        remaining_count=7_50,
        taker_fill_cost=1447,
        created_time=NOW,
    )
    later = NOW + timedelta(seconds=2)
    acknowledged = await database.orders.mark_acknowledged(exchange, later)
    assert acknowledged.state is OrderState.RESTING
    assert acknowledged.order_id == "ord-9"
    assert (acknowledged.fill_count, acknowledged.remaining_count) == (2_50, 7_50)
    assert acknowledged.exchange_order == exchange
    assert acknowledged.updated_time == later
    assert acknowledged.created_time == NOW
    assert await database.orders.get("coid-1") == acknowledged

    executed = attrs.evolve(exchange, status=OrderStatus.EXECUTED, remaining_count=0)
    done = await database.orders.mark_acknowledged(executed, later)
    assert done.state is OrderState.EXECUTED


async def test_live_orders_of_a_market_include_pending_and_resting_only(
    database: Database, samples
) -> None:
    ticker = samples.market().ticker
    await database.orders.record_intent("a", samples.intent(), NOW)
    await database.orders.record_intent("b", samples.intent(), NOW)
    await database.orders.record_intent("c", samples.intent(), NOW)
    await database.orders.record_intent("d", samples.intent("OTHER-1-X"), NOW)
    await database.orders.mark_unknown("b", NOW, "timeout after 10s")
    await database.orders.mark_rejected("c", NOW, "insufficient_balance")
    live = await database.orders.live_for_market(ticker)
    assert [(o.client_order_id, o.state) for o in live] == [
        ("a", OrderState.PENDING_SUBMIT),
        ("b", OrderState.PENDING_UNKNOWN),
    ]
    unknown = await database.orders.in_state(OrderState.PENDING_UNKNOWN)
    assert [(o.client_order_id, o.error) for o in unknown] == [("b", "timeout after 10s")]


async def test_orders_in_states_of_one_run_or_of_all(database: Database, samples) -> None:
    database.scope.run_id = "run-a"
    await database.orders.record_intent("a", samples.intent(), NOW)
    database.scope.run_id = "run-b"
    await database.orders.record_intent("b", samples.intent(), NOW)
    await database.orders.mark_unknown("b", NOW, "timeout after 10s")
    states = (OrderState.PENDING_SUBMIT, OrderState.PENDING_UNKNOWN)
    assert [o.client_order_id for o in await database.orders.in_states(states)] == ["a", "b"]
    assert [o.client_order_id for o in await database.orders.in_states(states, "run-a")] == ["a"]
    assert [o.client_order_id for o in await database.orders.in_states(states, "run-b")] == ["b"]
    assert await database.orders.in_states(states, "run-c") == []


async def test_fills_round_trip(database: Database) -> None:
    fill = Fill(
        fill_id="f-1",
        order_id="ord-9",
        ticker="KXHIGHNY-26NOV25-T50",
        outcome_side=Side.YES,
        book_side=BookSide.BID,
        count=1_25,
        yes_price=4213,
        no_price=5787,
        is_taker=False,
        fee_cost=7,
        created_time=NOW,
        client_order_id="coid-1",
    )
    assert await database.fills.record(fill) is True
    assert await database.fills.for_order("ord-9") == [fill]
    assert await database.fills.for_market(fill.ticker, since=NOW) == [fill]


async def test_positions_upsert_and_open_positions(database: Database) -> None:
    long_yes = Position(
        ticker="A-1-X",
        position=5_00,
        market_exposure=2100,
        total_traded=2100,
        realized_pnl=-300,
        fees_paid=14,
        last_updated_ts=NOW,
    )
    flat = Position(ticker="B-1-X", position=0, realized_pnl=900)
    short = Position(ticker="C-1-X", position=-2_50, market_exposure=1447)
    await database.positions.save([long_yes, flat, short])
    assert await database.positions.get("A-1-X") == long_yes
    assert await database.positions.open() == [long_yes, short]

    closed = attrs.evolve(long_yes, position=0, realized_pnl=500, last_updated_ts=NOW)
    await database.positions.save([closed])
    assert await database.positions.open() == [short]
    assert await database.positions.get("A-1-X") == closed


async def test_settlements_recorded_once(database: Database) -> None:
    settlement = Settlement(
        ticker="A-1-X",
        event_ticker="A-1",
        market_result=MarketResult.NO,
        yes_count=0,
        no_count=10_00,
        no_total_cost=5787,
        revenue=10_000,
        fee_cost=0,
        settled_time=NOW,
    )
    assert await database.settlements.record(settlement) is True
    assert await database.settlements.record(attrs.evolve(settlement, revenue=1)) is False
    assert await database.settlements.get("A-1-X") == settlement
    assert await database.settlements.between(NOW, NOW + timedelta(1)) == [settlement]


async def test_daily_pnl_overwrites_the_day(database: Database) -> None:
    day = date(2026, 11, 25)
    await database.daily_pnl.save(DailyPnl(day=day, realized_pnl=100), NOW)
    latest = DailyPnl(day=day, realized_pnl=-2_500, unrealized_pnl=700, fees=31, ai_cost=90)
    await database.daily_pnl.save(latest, NOW)
    other = DailyPnl(day=date(2026, 11, 26))
    await database.daily_pnl.save(other, NOW)
    assert await database.daily_pnl.get(day) == latest
    assert await database.daily_pnl.between(day, date(2026, 11, 30)) == [latest, other]


async def test_ai_spend_totals_since_start_of_day(database: Database) -> None:
    start_of_day = NOW.replace(hour=0, minute=0, second=0, microsecond=0)
    yesterday = AiSpend(created_time=start_of_day - timedelta(microseconds=1), model="m", cost=999)
    today = [
        AiSpend(created_time=start_of_day, model="m", cost=37, ticker="A-1-X", input_tokens=5),
        AiSpend(created_time=NOW, model="other", cost=5, purpose="summary", output_tokens=9),
    ]
    for spend in [yesterday, *today]:
        await database.ai_spend.record(spend)
    assert await database.ai_spend.total_since(start_of_day) == 42
    assert await database.ai_spend.total_since(NOW + timedelta(1)) == 0
    assert await database.ai_spend.between(start_of_day, NOW + timedelta(1)) == today


async def test_audit_events_round_trip(database: Database) -> None:
    event = AuditEvent(
        created_time=NOW,
        kind="order_placed",
        message="placed coid-1",
        ticker="A-1-X",
        payload={"client_order_id": "coid-1", "price": 4213},
    )
    await database.audit.record(event)
    await database.audit.record(attrs.evolve(event, kind="risk_limit_hit", ticker=None))
    assert await database.audit.between(NOW, NOW + timedelta(1), kind="order_placed") == [event]
    assert len(await database.audit.between(NOW, NOW + timedelta(1))) == 2


async def test_times_in_other_offsets_come_back_as_the_same_instant_in_utc(
    database: Database, samples
) -> None:
    eastern = timezone(timedelta(hours=-5))
    local = datetime(2026, 11, 25, 9, 30, 15, 123456, tzinfo=eastern)
    await database.forecasts.record(samples.forecast(created_time=local))
    [stored] = await database.forecasts.for_market(samples.forecast().ticker)
    assert stored.created_time == local
    assert stored.created_time.tzinfo == UTC


async def test_naive_datetimes_are_refused(database: Database, samples) -> None:
    naive = datetime(2026, 11, 25, 9, 30)
    with pytest.raises(Exception, match="timezone-aware"):
        await database.forecasts.record(samples.forecast(created_time=naive))


async def test_run_decisions_reads_one_run_and_finds_the_latest(
    database: Database, samples
) -> None:
    assert await database.run_decisions.latest_run_id() is None
    database.scope.run_id = "run-a"
    await database.decisions.record_many([samples.decision("a-1"), samples.decision("a-2")])
    database.scope.run_id = "run-b"
    screened = samples.decision(
        "b-1",
        forecast=None,
        intents=(),
        verdicts=(Verdict.reject("liquidity", "thin"), Verdict.reject("spread", "wide")),
    )
    await database.decisions.record_many([screened])
    await database.market_snapshots.record(
        Market(
            ticker="KXHIGHNY-26NOV25-T50",
            event_ticker="KXHIGHNY-26NOV25",
            status=MarketStatus.ACTIVE,
            open_time=NOW,
            close_time=NOW,
            yes_bid=4100,
            yes_ask=4300,
        ),
        NOW,
    )
    assert await database.run_decisions.latest_run_id() == "run-b"
    [only] = await database.run_decisions.facts("run-b")
    assert (only.decision_id, only.intents, only.forecast) == ("b-1", 0, None)
    assert only.rejection == Verdict.reject("liquidity", "thin")  # the first rejection
    first, second = await database.run_decisions.facts("run-a")
    assert (first.decision_id, second.decision_id) == ("a-1", "a-2")
    assert first.intents == 2
    assert first.rejection == Verdict.reject("spread", "spread 87 above limit 50")
    assert first.forecast is not None
    assert (first.forecast.probability, first.forecast.stderr) == (3500, 420)
    assert (first.yes_bid, first.yes_ask) == (4100, 4300)  # the quote the forecast saw
    assert await database.run_decisions.facts("run-none") == []

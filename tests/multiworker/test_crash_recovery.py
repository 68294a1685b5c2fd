"""A worker killed (SIGKILL) while placing an order: a new engine on the same database settles
it by ``client_order_id``, on SQLite and on PostgreSQL.

Two workers die: one after the exchange accepted its order but before storing the ack, one
after recording the intent but before sending it. Reconciliation must store the first as
placed (with the venue's id, fills and resting remainder) and the second as never placed,
leaving the database and the exchange telling the same story.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from kalshi_core.engine.reconcile import NOT_FOUND
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.money import CONTRACT
from kalshi_core.storage.database import Database
from kalshi_core.storage.records import OrderState, StoredOrder
from kalshi_core.venues.client_gateway import ClientGateway
from tests.multiworker.crash_worker import AFTER_SEND, BEFORE_SEND
from tests.multiworker.harness import (
    assert_consistent,
    client_arguments,
    serve_exchange,
    start_worker,
)
from tests.multiworker.support import (
    RECORDED,
    SENT,
    TRADER,
    ApiKey,
    crash_planned,
    make_client,
    make_engine,
    market_tickers,
    open_database,
    stored_orders,
)

DEPTH = 5  # the maker's quote: an 8-contract buy fills 5 and rests 3
CONTRACTS = 8


async def crash(
    exchange: LocalExchange, key: ApiKey, database_url: str, ticker: str, kill: str, logs: Path
) -> str:
    """Run one crashing worker to its death; what it said before dying."""
    arguments = [*client_arguments(exchange, key), "--ticker", ticker]
    arguments += ["--contracts", str(CONTRACTS), "--kill", kill]
    worker = await start_worker("crash_worker", arguments, database_url, logs, f"crash-{kill}")
    try:
        said = await worker.line()
        assert await worker.exit_code() == -signal.SIGKILL
    finally:
        worker.stop()
    return said


async def by_client_id(database: Database) -> dict[str, StoredOrder]:
    return {o.client_order_id: o for o in await stored_orders(database)}


@pytest.mark.slow
async def test_orders_of_a_killed_worker_are_settled_by_client_order_id(
    database_url: str, trader_key: ApiKey, tmp_path: Path
) -> None:
    tickers = market_tickers(3, "KXCRASH")
    sent, unsent = crash_planned(tickers[0], CONTRACTS), crash_planned(tickers[1], CONTRACTS)
    async with serve_exchange(tickers, DEPTH, trader_key) as exchange:
        assert (
            await crash(exchange, trader_key, database_url, tickers[0], AFTER_SEND, tmp_path)
            == SENT
        )
        assert (
            await crash(exchange, trader_key, database_url, tickers[1], BEFORE_SEND, tmp_path)
            == RECORDED
        )
        [on_venue] = exchange.venue.orders(TRADER)
        assert on_venue.client_order_id == sent.client_order_id
        database = open_database(database_url)
        client = make_client(exchange.base_url, trader_key.key_id, trader_key.private_key_path)
        try:
            before = await by_client_id(database)
            assert {c: (o.state, o.order_id) for c, o in before.items()} == {
                sent.client_order_id: (OrderState.PENDING_SUBMIT, None),
                unsent.client_order_id: (OrderState.PENDING_SUBMIT, None),
            }
            engine = make_engine(ClientGateway(client), database, exchange.clock, worker_id="heir")
            state = await engine.reconciler.reconcile()
            after = await by_client_id(database)
            placed, never = after[sent.client_order_id], after[unsent.client_order_id]
            assert (placed.state, placed.order_id) == (OrderState.RESTING, on_venue.order_id)
            assert (placed.fill_count, placed.remaining_count) == (DEPTH * CONTRACT, 3 * CONTRACT)
            assert (never.state, never.order_id, never.error) == (
                OrderState.REJECTED,
                None,
                NOT_FOUND,
            )
            assert [o.client_order_id for o in state.resting] == [sent.client_order_id]
            assert sum(f.count for f in state.new_fills) == DEPTH * CONTRACT
            await assert_consistent(database, exchange.venue, tickers)

            retried = await engine.executor.execute([sent, unsent])  # the decisions, re-run
            assert retried.placed == []
            assert [p.client_order_id for p, _ in retried.skipped] == [
                sent.client_order_id,
                unsent.client_order_id,
            ]
            assert [o.order_id for o in exchange.venue.orders(TRADER)] == [on_venue.order_id]
            await assert_consistent(database, exchange.venue, tickers)
        finally:
            await client.aclose()
            await database.close()

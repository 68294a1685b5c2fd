"""The engine's market data on the stream, and its fallback to REST polling when the stream is
down: a log line and a metric for each switch, the books right throughout."""

from __future__ import annotations

import logging

import pytest
from prometheus_client import CollectorRegistry

from kalshi_core.client import KalshiClient, Signer
from kalshi_core.clock import ManualClock
from kalshi_core.engine.market_data import MarketData
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.models import BookSide
from kalshi_core.money import CENT
from kalshi_core.monitoring.metrics import KalshiMetrics
from kalshi_core.venues.client_gateway import ClientGateway
from tests.exchange_stream.conftest import START, TAKER, TICKERS, order

from .conftest import WAIT, Sleeps, drop_connections, make_source
from .test_books import until


def switches(registry: CollectorRegistry, mode: str) -> float:
    value = registry.get_sample_value("kalshi_market_data_switches_total", {"mode": mode})
    return value or 0.0


async def test_the_engine_falls_back_to_polling_while_the_stream_is_down(
    exchange: LocalExchange,
    signer: Signer,
    sleeps: Sleeps,
    client: KalshiClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    metrics = KalshiMetrics(ManualClock(START))
    venue = exchange.venue
    venue.place_order(order(BookSide.BID, 40 * CENT, 2, TICKERS[0]))
    with metrics, caplog.at_level(logging.INFO, "kalshi_core.engine.market_data"):
        async with make_source(exchange, signer, sleeps) as source:
            assert await source.wait_live(WAIT)
            data = MarketData(ClientGateway(client), source)
            assert await data.refresh(TICKERS[:2]) == {TICKERS[0], TICKERS[1]}
            assert data.mode == "stream"
            assert switches(metrics.registry, "stream") == 1
            assert await data.orderbook(TICKERS[0]) == await client.get_orderbook(TICKERS[0])
            assert (data.streamed, data.polled) == (1, 0)

            sleeps.hold()  # the reconnect waits in its backoff
            await drop_connections(exchange.app.feed)
            await until(lambda: not source.live)
            venue.place_order(order(BookSide.BID, 41 * CENT, 1, TICKERS[0]))
            assert await data.refresh(TICKERS[:2]) == frozenset()
            assert data.mode == "poll"
            assert switches(metrics.registry, "poll") == 1
            assert metrics.registry.get_sample_value("kalshi_market_data_streaming") == 0
            assert await data.orderbook(TICKERS[0]) == await client.get_orderbook(TICKERS[0])
            assert (data.streamed, data.polled) == (1, 1)  # served over REST meanwhile

            sleeps.release()
            assert await source.wait_live(WAIT)
            await data.refresh(TICKERS[:2])
            assert data.mode == "stream"
            assert switches(metrics.registry, "stream") == 2
            assert await data.orderbook(TICKERS[0]) == await client.get_orderbook(TICKERS[0])
            assert data.switches == 3
    messages = [r.getMessage() for r in caplog.records]
    assert sum("the stream is down; polling over REST" in m for m in messages) == 1
    assert sum("the stream is live" in m for m in messages) == 2


async def test_polling_market_data_never_streams(client: KalshiClient) -> None:
    data = MarketData(ClientGateway(client))
    assert await data.refresh(TICKERS) == frozenset()
    assert data.mode == "poll"
    assert not await data.wait_update(0.01)
    assert await data.orderbook(TICKERS[0]) == await client.get_orderbook(TICKERS[0])
    assert (data.streamed, data.polled, data.switches) == (0, 1, 0)


async def test_streamed_fills_are_checked_against_rest(
    exchange: LocalExchange,
    signer: Signer,
    sleeps: Sleeps,
    client: KalshiClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    venue = exchange.venue
    ours = exchange.account_id  # the account the stream and the client sign for
    async with make_source(exchange, signer, sleeps) as source:
        assert await source.wait_live(WAIT)
        data = MarketData(ClientGateway(client), source)
        await data.refresh(TICKERS[:1])
        for _ in range(2):
            venue.place_order(order(BookSide.BID, 50 * CENT, 1, TICKERS[0], account=ours))
            venue.place_order(order(BookSide.ASK, 50 * CENT, 1, TICKERS[0], account=TAKER))
        await data.refresh(TICKERS[:1])
        fills = sorted(f.fill_id for f in (await client.get_fills(ticker=TICKERS[0])).items)
        assert len(fills) == 2
        assert data.confirm_fills(fills[:1]) == []  # the second may still be on its way
        assert data.confirm_fills([], cycle=False) == []  # a reaction does not age it
        with caplog.at_level(logging.WARNING, "kalshi_core.engine.market_data"):
            assert data.confirm_fills([]) == [fills[1]]  # two cycles: reported
        assert data.unconfirmed_fills == 1
        assert fills[1] in caplog.text
        assert data.confirm_fills([]) == []  # reported once


async def test_streamed_order_states_are_checked_against_rest(
    exchange: LocalExchange,
    signer: Signer,
    sleeps: Sleeps,
    client: KalshiClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """user_orders arrive on the stream; REST's resting orders confirm each state. One REST
    still contradicts after two cycles (here: a listing read before the cancel) is reported."""
    venue, ours = exchange.venue, exchange.account_id
    gateway = ClientGateway(client)
    async with make_source(exchange, signer, sleeps) as source:
        assert await source.wait_live(WAIT)
        data = MarketData(gateway, source)
        await data.refresh(TICKERS[:1])
        kept = venue.place_order(order(BookSide.BID, 30 * CENT, 1, TICKERS[0], account=ours))
        gone = venue.place_order(order(BookSide.BID, 31 * CENT, 1, TICKERS[0], account=ours))
        before_cancel = await gateway.resting_orders()
        venue.cancel(ours, gone.order_id)
        await data.refresh(TICKERS[:1])
        assert data.confirm_orders(await gateway.resting_orders()) == []  # both agree
        assert data.unconfirmed_orders == 0

        venue.cancel(ours, kept.order_id)
        await data.refresh(TICKERS[:1])
        assert data.confirm_orders(before_cancel) == []  # one cycle of grace
        assert data.confirm_orders(before_cancel, cycle=False) == []  # a reaction: no ageing
        with caplog.at_level(logging.WARNING, "kalshi_core.engine.market_data"):
            assert data.confirm_orders(before_cancel) == [kept.order_id]
        assert data.unconfirmed_orders == 1
        assert kept.order_id in caplog.text
        assert data.confirm_orders(before_cancel) == []  # reported once

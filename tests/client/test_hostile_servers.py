"""Issue 17 item 9: the client against hostile servers on loopback (real sockets, no mocks).

Deep JSON, short batch replies, a body dripped a byte at a time and endless pagination all
end in a clean :class:`ExchangeError` (or :class:`OrderStateUnknown` for order writes), never
a ``RecursionError``, a crash in the engine or a call that never returns.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from kalshi_core.builtin.kalshi_source import make_kalshi_client
from kalshi_core.client import KalshiClient, OrderRequest, OrderStateUnknown, RetryPolicy
from kalshi_core.client.transport import DEFAULT_DEADLINE
from kalshi_core.errors import ConfigError, ExchangeError
from kalshi_core.models import BookSide

from .conftest import TICKER, SleepRecorder, client_options
from .hostile import Answer, Answerer, HostileServer, Request, json_answer

DEEP = b"[" * 200_000 + b"]" * 200_000
STATUS_JSON = b'{"exchange_active": true, "trading_active": true}'


def _order(coid: str) -> OrderRequest:
    return OrderRequest(
        ticker=TICKER, book_side=BookSide.BID, price=4200, count=100, client_order_id=coid
    )


class Hostile:
    """A running hostile server and a factory of clients for it."""

    def __init__(self, sleeps: SleepRecorder) -> None:
        self.sleeps = sleeps
        self.server = HostileServer(lambda _: Answer())
        self.clients: list[KalshiClient] = []

    def client(self, answer: Answerer, **overrides: Any) -> KalshiClient:
        self.server.answer = answer
        made = KalshiClient(self.server.base_url, **(client_options(None, self.sleeps) | overrides))
        self.clients.append(made)
        return made


@pytest.fixture
async def hostile(sleeps: SleepRecorder) -> AsyncIterator[Hostile]:
    made = Hostile(sleeps)
    async with made.server.running():
        try:
            yield made
        finally:
            for client in made.clients:
                await client.aclose()


async def test_deeply_nested_json_on_a_read_is_a_clean_exchange_error(hostile: Hostile) -> None:
    client = hostile.client(lambda _: Answer(body=DEEP))
    with pytest.raises(ExchangeError, match="nested too deeply") as caught:
        await client.get_exchange_status()
    assert caught.value.endpoint == "GET /exchange/status"
    assert caught.value.__suppress_context__


async def test_deeply_nested_json_on_an_order_write_is_order_state_unknown(
    hostile: Hostile,
) -> None:
    client = hostile.client(lambda _: Answer(status=201, body=DEEP))
    with pytest.raises(OrderStateUnknown, match="nested too deeply") as caught:
        await client.create_order(_order("deep-1"))
    assert caught.value.client_order_id == "deep-1"


def _batch_reply(keep: int) -> Answerer:
    """Acknowledge only the first ``keep`` orders of a batch."""

    def answer(request: Request) -> Answer:
        orders = request.body["orders"][:keep]
        results = [
            {"order_id": f"o-{i}", "client_order_id": o["client_order_id"]}
            for i, o in enumerate(orders)
        ]
        return json_answer({"orders": results}, status=201)

    return answer


async def test_a_short_batch_reply_leaves_the_missing_orders_unknown(hostile: Hostile) -> None:
    client = hostile.client(_batch_reply(keep=1))
    with pytest.raises(OrderStateUnknown) as caught:
        await client.batch_create_orders([_order("s-1"), _order("s-2"), _order("s-3")])
    assert caught.value.client_order_ids == ("s-1", "s-2", "s-3")  # the engine looks all up
    assert "1 result(s) for 3 order(s)" in str(caught.value)
    assert "no result for s-2, s-3" in str(caught.value)
    assert len(hostile.server.requests) == 1  # an unknown write is never re-sent


async def test_a_batch_reply_for_other_orders_is_unknown_too(hostile: Hostile) -> None:
    def swapped(request: Request) -> Answer:
        ids = [o["client_order_id"] for o in request.body["orders"]][::-1]
        return json_answer({"orders": [{"client_order_id": cid} for cid in ids]}, status=201)

    client = hostile.client(swapped)
    with pytest.raises(OrderStateUnknown, match="out of order"):
        await client.batch_create_orders([_order("t-1"), _order("t-2")])


async def test_a_full_batch_reply_is_accepted(hostile: Hostile) -> None:
    client = hostile.client(_batch_reply(keep=2))
    results = await client.batch_create_orders([_order("f-1"), _order("f-2")])
    assert [r.client_order_id for r in results] == ["f-1", "f-2"]


async def test_a_dripping_server_is_cut_off_by_the_request_deadline(hostile: Hostile) -> None:
    # every byte arrives well within the read timeout: only an overall deadline can end this
    client = hostile.client(
        lambda _: Answer(body=STATUS_JSON, drip=0.05),
        timeout=httpx.Timeout(5.0, read=1.0),
        deadline=0.3,
        retry=RetryPolicy(max_attempts=2),
    )
    with pytest.raises(ExchangeError, match=r"0\.3 s request deadline") as caught:
        await client.get_exchange_status()
    assert "gave up after 2 attempts" in str(caught.value)
    assert len(hostile.server.requests) == 2
    assert ("GET /exchange/status", "timeout") in client.metrics.calls


async def test_an_order_write_cut_off_by_the_deadline_is_unknown(hostile: Hostile) -> None:
    client = hostile.client(
        lambda _: Answer(status=201, body=b'{"order_id": "x"}', drip=0.05),
        deadline=0.2,
        retry=RetryPolicy(max_attempts=1),
    )
    with pytest.raises(OrderStateUnknown, match="request deadline"):
        await client.create_order(_order("drip-1"))


def test_the_deadline_is_on_by_default_and_must_be_positive() -> None:
    client = KalshiClient("http://127.0.0.1:1/trade-api/v2")
    assert client.transport.deadline == DEFAULT_DEADLINE
    with pytest.raises(ConfigError, match="deadline"):
        KalshiClient("http://127.0.0.1:1/trade-api/v2", deadline=0)


def test_deadline_and_page_cap_come_from_settings() -> None:
    section = {
        "base_url": "http://127.0.0.1:1/trade-api/v2",
        "timeout_seconds": 2.0,
        "request_deadline_seconds": 4.5,
        "max_pages": 7,
    }
    client = make_kalshi_client(section)
    assert (client.transport.deadline, client.max_pages) == (4.5, 7)
    with pytest.raises(ConfigError, match=r"below kalshi\.timeout_seconds"):
        make_kalshi_client(section | {"timeout_seconds": 10.0})


async def test_endless_fresh_cursors_stop_at_the_page_cap(hostile: Hostile) -> None:
    counter = itertools.count(1)
    client = hostile.client(
        lambda _: json_answer({"markets": [], "cursor": f"c{next(counter)}"}), max_pages=5
    )
    with pytest.raises(ExchangeError, match="after 5 pages") as caught:
        _ = [market async for market in client.iter_markets()]
    assert caught.value.endpoint == "GET /markets"
    assert len(hostile.server.requests) == 5


async def test_a_repeated_cursor_is_detected(hostile: Hostile) -> None:
    cursors = iter(["a", "b", "a"])
    client = hostile.client(lambda _: json_answer({"markets": [], "cursor": next(cursors)}))
    with pytest.raises(ExchangeError, match="cursor 'a' repeated"):
        _ = [market async for market in client.iter_markets()]
    assert [r.query.get("cursor") for r in hostile.server.requests] == [None, "a", "b"]

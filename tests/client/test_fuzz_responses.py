"""Fuzz of the client's response parsing: whatever a server answers (any status, any JSON, the
right keys with wrong values, bytes that are not JSON), every call either returns a value of
its type or raises one of kalshi-core's own errors, naming the endpoint. Never a raw
``KeyError``, ``TypeError``, ``ValueError`` or ``RecursionError``.

The answers come from a real server on loopback (:mod:`.hostile`); Hypothesis draws them.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kalshi_core.client import KalshiClient, OrderRequest, RetryPolicy
from kalshi_core.errors import KalshiCoreError
from kalshi_core.models import BookSide

from .conftest import TICKER, SleepRecorder, client_options
from .hostile import Answer, HostileServer, Request

EXAMPLES = int(os.environ.get("KALSHI_FUZZ_EXAMPLES", "25"))
KEYS = (
    "markets", "market", "cursor", "orderbook", "orderbook_fp", "yes_dollars", "no_dollars",
    "balance", "portfolio_value", "market_positions", "event_positions", "orders", "order",
    "fills", "settlements", "series", "event", "events", "trades", "order_id",
    "client_order_id", "fill_count_fp", "remaining_count_fp", "ticker", "status", "error",
    "code", "message", "exchange_active", "trading_active", "now", "stepped", "yes_price_dollars",
    "count_fp", "created_time", "ts", "price", "side", "action",
)  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(["0.5000", "1e999", "-1", "NaN", "2026-01-02T00:00:00Z", "yes", "bid", ""]),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(KEYS), inner, max_size=6),
    ),
    max_leaves=25,
)
BODIES = st.one_of(
    JSON.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=64),
    st.just(b"[" * 5000),
)
STATUSES = st.sampled_from([200, 201, 204, 400, 401, 404, 409, 429, 500, 503])

Call = Callable[[KalshiClient], Awaitable[Any]]


def _order(cid: str) -> OrderRequest:
    return OrderRequest(
        ticker=TICKER, book_side=BookSide.BID, price=5000, count=100, client_order_id=cid
    )


CALLS: dict[str, Call] = {
    "exchange status": lambda c: c.get_exchange_status(),
    "local clock": lambda c: c.get_local_clock(),
    "markets page": lambda c: c.get_markets(limit=10),
    "market": lambda c: c.get_market(TICKER),
    "orderbook": lambda c: c.get_orderbook(TICKER),
    "series": lambda c: c.get_series("KXTEST"),
    "balance": lambda c: c.get_balance(),
    "positions": lambda c: c.get_positions(),
    "orders": lambda c: c.get_orders(),
    "fills": lambda c: c.get_fills(),
    "settlements": lambda c: c.get_settlements(),
    "create order": lambda c: c.create_order(_order("fuzz-1")),
    "batch create": lambda c: c.batch_create_orders([_order("fuzz-2"), _order("fuzz-3")]),
    "cancel order": lambda c: c.cancel_order("order-1"),
    "find order": lambda c: c.find_order("fuzz-4", ticker=TICKER),
}


@pytest.fixture
async def server() -> AsyncIterator[HostileServer]:
    made = HostileServer(lambda _: Answer())
    async with made.running():
        yield made


@pytest.mark.parametrize("name", sorted(CALLS))
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(status=STATUSES, body=BODIES)
async def test_any_answer_is_a_value_or_a_kalshi_core_error(
    name: str, status: int, body: bytes, server: HostileServer
) -> None:
    def answer(request: Request) -> Answer:
        return Answer(status=status, body=body)

    server.answer = answer
    options = client_options(None, SleepRecorder()) | {"retry": RetryPolicy(max_attempts=2)}
    # Only kalshi-core's own errors may come out; anything else fails the test.
    async with KalshiClient(server.base_url, **options) as client:
        with contextlib.suppress(KalshiCoreError):
            await CALLS[name](client)

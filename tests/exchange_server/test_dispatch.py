"""The route table answers exactly as Starlette's router does: every request below is sent to
the exchange's app and to the same app with an empty table (every request through Starlette),
and the status, headers and body must be the same."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from kalshi_core.client import Signer
from kalshi_core.exchange import Venue
from kalshi_core.exchange.http.app import PREFIX, ExchangeApp
from kalshi_core.exchange.http.dispatch import RouteTable
from kalshi_core.exchange.local import LocalExchange

from .conftest import TICKER

BASE = "http://127.0.0.1" + PREFIX

REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/markets", {"params": {"limit": "3"}}),
    ("GET", "/markets", {"params": {"limit": "-1"}}),  # 400 from a handler
    ("GET", f"/markets/{TICKER}", {}),
    ("GET", "/markets/KXNONE-1", {}),  # 404 from a handler
    ("GET", f"/markets/{TICKER}/orderbook", {"params": {"depth": "2"}}),
    ("GET", "/markets/orderbooks", {"params": {"tickers": TICKER}}),  # before /markets/{ticker}
    ("GET", "/markets/trades", {}),
    ("GET", "/series/KXTEST", {}),
    ("GET", "/nowhere", {}),  # Starlette's 404
    ("GET", "/markets/", {}),  # Starlette's redirect
    ("DELETE", "/markets", {}),  # Starlette's 405
    ("HEAD", f"/markets/{TICKER}", {}),
    ("GET", "/portfolio/balance", {}),
    ("POST", "/portfolio/events/orders", {"content": b"{not json"}),  # 400 from a handler
    ("GET", "/portfolio/orders/no-such-order", {}),
]


@pytest.fixture
async def both(
    exchange: LocalExchange,
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """Clients of the exchange's app and of one that sends every request through Starlette,
    each request signed; an app's failure is answered, not raised into the test."""
    starlette_only = ExchangeApp(exchange.context)
    starlette_only.routes = RouteTable([])
    assert exchange.private_key_path is not None
    signer = Signer.from_file(exchange.api_key_id, exchange.private_key_path)

    async def sign(request: httpx.Request) -> None:
        request.headers.update(signer.headers(request.method, request.url.path))

    def client(app: ExchangeApp) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app, raise_app_exceptions=False)
        hooks = {"request": [sign]}
        return httpx.AsyncClient(transport=transport, base_url=BASE, event_hooks=hooks)

    async with client(exchange.app) as fast, client(starlette_only) as slow:
        yield fast, slow


@pytest.mark.parametrize(("method", "path", "options"), REQUESTS)
async def test_the_table_answers_as_starlette_does(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient],
    method: str,
    path: str,
    options: dict[str, Any],
) -> None:
    fast, slow = both
    ours = await fast.request(method, path, **options)
    theirs = await slow.request(method, path, **options)
    assert (ours.status_code, ours.headers.multi_items(), ours.content) == (
        theirs.status_code,
        theirs.headers.multi_items(),
        theirs.content,
    )


def test_the_table_finds_the_first_route_starlette_would() -> None:
    async def first(request: Any) -> Any: ...
    async def second(request: Any) -> Any: ...

    table = RouteTable(
        [("GET", "/a/{x}", first), ("GET", "/a/b", second), ("POST", "/a/c", second)]
    )
    assert table.find("GET", "/a/b") == (first, {"x": "b"})
    assert table.find("POST", "/a/c") == (second, {})
    assert table.find("POST", "/a/b") is None
    assert table.find("GET", "/a/") is None  # a parameter is never empty
    assert table.find("GET", "/a/b/c") is None


async def test_an_unexpected_failure_answers_as_starlette_does(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient],
    venue: Venue,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(ticker: str, depth: int = 0) -> None:
        raise ValueError("a bug")

    monkeypatch.setattr(venue, "orderbook", broken)
    await test_the_table_answers_as_starlette_does(both, "GET", f"/markets/{TICKER}/orderbook", {})

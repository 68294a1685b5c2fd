"""The clients ``bench_clients.py`` races: kalshi-core's and its peers, behind one interface.

Each runner does the same three jobs against the same exchange, the way that client's own
documentation has a user do them:

* ``list_markets``: every open market, page after page (1,000 a page, Kalshi's maximum);
* ``place_cancel``: ``n`` resting bids placed and cancelled one after the other;
* ``read_books``: the order books of ``tickers``, all requested at once (async clients gather
  coroutines; sync clients use a thread per request, as their users would).

Each returns a count the benchmark checks against the others, so a client that silently did
less work cannot look faster. The peers are optional: a missing package is reported, not
faked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

from cycle_exchange import ExchangeInfo

from kalshi_core.client import KalshiClient, OrderRequest, RateLimiter, Signer
from kalshi_core.models import BookSide
from kalshi_core.money import CONTRACT

PAGE = 1000
BID_PRICE = 100  # $0.01: rests below every maker quote, never fills
BID_TEXT = "0.0100"


class Runner(Protocol):
    name: str

    def list_markets(self) -> int: ...
    def place_cancel(self, n: int, prefix: str) -> int: ...
    def read_books(self, tickers: list[str]) -> int: ...
    def close(self) -> None: ...


def _threaded(fn: Callable[[str], Any], tickers: list[str]) -> int:
    with ThreadPoolExecutor(max_workers=len(tickers)) as pool:
        return len(list(pool.map(fn, tickers)))


class CoreRunner:
    """kalshi-core's async client on a loop of its own; no client-side rate limit, like the
    peers (its default is Kalshi's basic tier)."""

    name = "kalshi-core"

    def __init__(self, info: ExchangeInfo, ticker: str) -> None:
        self._loop = asyncio.Runner()
        signer = Signer.from_file(info.api_key_id, info.private_key_path)
        limiter = RateLimiter.for_rates(1_000_000, 1_000_000)
        self._client = KalshiClient(info.base_url, signer=signer, rate_limiter=limiter)
        self._ticker = ticker

    def list_markets(self) -> int:
        async def listing() -> int:
            return len([m async for m in self._client.iter_markets(limit=PAGE, status="open")])

        return self._loop.run(listing())

    def place_cancel(self, n: int, prefix: str) -> int:
        async def round_trips() -> int:
            for index in range(n):
                order = OrderRequest(
                    ticker=self._ticker,
                    book_side=BookSide.BID,
                    price=BID_PRICE,
                    count=CONTRACT,
                    client_order_id=f"{prefix}-{index}",
                )
                ack = await self._client.create_order(order)
                await self._client.cancel_order(ack.order_id)
            return n

        return self._loop.run(round_trips())

    def read_books(self, tickers: list[str]) -> int:
        async def books() -> int:
            found = await asyncio.gather(*(self._client.get_orderbook(t) for t in tickers))
            return len(found)

        return self._loop.run(books())

    def close(self) -> None:
        self._loop.run(self._client.aclose())
        self._loop.close()


def _sdk_config(module: Any, info: ExchangeInfo) -> Any:
    config = module.Configuration(host=info.base_url)
    config.api_key_id = info.api_key_id
    config.private_key_pem = Path(info.private_key_path).read_text()
    return config


class SdkSyncRunner:
    """The official ``kalshi-python-sync`` SDK (urllib3, pydantic models)."""

    name = "SDK sync 3.34"

    def __init__(self, info: ExchangeInfo, ticker: str) -> None:
        import kalshi_python_sync as sdk  # noqa: PLC0415 - optional peer

        self._client = sdk.KalshiClient(_sdk_config(sdk, info))
        self._ticker = ticker

    def list_markets(self) -> int:
        count, cursor = 0, None
        while True:
            page = self._client.get_markets(limit=PAGE, status="open", cursor=cursor)
            count += len(page.markets)
            cursor = page.cursor
            if not cursor:
                return count

    def place_cancel(self, n: int, prefix: str) -> int:
        for index in range(n):
            created = self._client.create_order_v2(
                ticker=self._ticker,
                client_order_id=f"{prefix}-{index}",
                side="bid",
                count="1.00",
                price=BID_TEXT,
                time_in_force="good_till_canceled",
                self_trade_prevention_type="taker_at_cross",
            )
            self._client.cancel_order_v2(created.order_id)
        return n

    def read_books(self, tickers: list[str]) -> int:
        return _threaded(self._client.get_market_orderbook, tickers)

    def close(self) -> None:
        self._client.rest_client.pool_manager.clear()


class SdkAsyncRunner:
    """The official ``kalshi-python-async`` SDK (aiohttp, pydantic models)."""

    name = "SDK async 3.34"

    def __init__(self, info: ExchangeInfo, ticker: str) -> None:
        import kalshi_python_async as sdk  # noqa: PLC0415 - optional peer

        self._loop = asyncio.Runner()
        self._client = sdk.KalshiClient(_sdk_config(sdk, info))
        self._ticker = ticker

    def list_markets(self) -> int:
        async def listing() -> int:
            count, cursor = 0, None
            while True:
                page = await self._client.get_markets(limit=PAGE, status="open", cursor=cursor)
                count += len(page.markets)
                cursor = page.cursor
                if not cursor:
                    return count

        return self._loop.run(listing())

    def place_cancel(self, n: int, prefix: str) -> int:
        async def round_trips() -> int:
            for index in range(n):
                created = await self._client.create_order_v2(
                    ticker=self._ticker,
                    client_order_id=f"{prefix}-{index}",
                    side="bid",
                    count="1.00",
                    price=BID_TEXT,
                    time_in_force="good_till_canceled",
                    self_trade_prevention_type="taker_at_cross",
                )
                await self._client.cancel_order_v2(created.order_id)
            return n

        return self._loop.run(round_trips())

    def read_books(self, tickers: list[str]) -> int:
        async def books() -> int:
            found = await asyncio.gather(*(self._client.get_market_orderbook(t) for t in tickers))
            return len(found)

        return self._loop.run(books())

    def close(self) -> None:
        self._loop.run(self._client.close())
        self._loop.close()


class PykalshiSyncRunner:
    """``pykalshi`` 2.0's sync client (httpx, pydantic models)."""

    name = "pykalshi 2.0 sync"

    def __init__(self, info: ExchangeInfo, ticker: str) -> None:
        from pykalshi import KalshiClient as Pykalshi  # noqa: PLC0415 - optional peer
        from pykalshi.enums import MarketStatus  # noqa: PLC0415
        from pykalshi.models import OrderbookResponse  # noqa: PLC0415

        self._open = MarketStatus.OPEN
        self._client = Pykalshi(
            api_key_id=info.api_key_id,
            private_key_path=info.private_key_path,
            api_base=info.base_url,
        )
        self._book = OrderbookResponse
        self._ticker = ticker

    def list_markets(self) -> int:
        return len(self._client.get_markets(status=self._open, limit=PAGE, fetch_all=True))

    def place_cancel(self, n: int, prefix: str) -> int:
        for index in range(n):
            order = self._client.portfolio.place_order(
                self._ticker,
                book_side="bid",
                count_fp="1.00",
                price_dollars=BID_TEXT,
                client_order_id=f"{prefix}-{index}",
            )
            self._client.portfolio.cancel_order(order.order_id)
        return n

    def _book_of(self, ticker: str) -> Any:
        # What pykalshi's Market.get_orderbook() does, without first fetching the market.
        return self._book.model_validate(self._client.get(f"/markets/{ticker}/orderbook"))

    def read_books(self, tickers: list[str]) -> int:
        return _threaded(self._book_of, tickers)

    def close(self) -> None:
        self._client.close()


class PykalshiAsyncRunner:
    """``pykalshi`` 2.0's async client (httpx, pydantic models)."""

    name = "pykalshi 2.0 async"

    def __init__(self, info: ExchangeInfo, ticker: str) -> None:
        from pykalshi import AsyncKalshiClient  # noqa: PLC0415 - optional peer
        from pykalshi.enums import MarketStatus  # noqa: PLC0415
        from pykalshi.models import OrderbookResponse  # noqa: PLC0415

        self._open = MarketStatus.OPEN
        self._loop = asyncio.Runner()
        self._client = AsyncKalshiClient(
            api_key_id=info.api_key_id,
            private_key_path=info.private_key_path,
            api_base=info.base_url,
        )
        self._book = OrderbookResponse
        self._ticker = ticker

    def list_markets(self) -> int:
        async def listing() -> int:
            markets = await self._client.get_markets(status=self._open, limit=PAGE, fetch_all=True)
            return len(markets)

        return self._loop.run(listing())

    def place_cancel(self, n: int, prefix: str) -> int:
        async def round_trips() -> int:
            for index in range(n):
                order = await self._client.portfolio.place_order(
                    self._ticker,
                    book_side="bid",
                    count_fp="1.00",
                    price_dollars=BID_TEXT,
                    client_order_id=f"{prefix}-{index}",
                )
                await self._client.portfolio.cancel_order(order.order_id)
            return n

        return self._loop.run(round_trips())

    async def _book_of(self, ticker: str) -> Any:
        return self._book.model_validate(await self._client.get(f"/markets/{ticker}/orderbook"))

    def read_books(self, tickers: list[str]) -> int:
        async def books() -> int:
            return len(await asyncio.gather(*(self._book_of(t) for t in tickers)))

        return self._loop.run(books())

    def close(self) -> None:
        self._loop.run(self._client.aclose())
        self._loop.close()


RUNNERS: dict[str, type[Any]] = {
    "core": CoreRunner,
    "sdk-sync": SdkSyncRunner,
    "sdk-async": SdkAsyncRunner,
    "pykalshi-sync": PykalshiSyncRunner,
    "pykalshi-async": PykalshiAsyncRunner,
}

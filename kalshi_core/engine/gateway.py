"""What the engine needs from a venue, in domain terms.

Paper and live trading use :class:`ClientGateway` over the Kalshi HTTP client (pointed at the
local exchange or at Kalshi); a backtest can supply an in-process gateway with the same
methods. Strategies and validators never see the gateway.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from kalshi_core.client import BatchOrderResult, CancelAck, KalshiClient, OrderAck, OrderRequest
from kalshi_core.errors import ExchangeError
from kalshi_core.models import (
    Balance,
    Fill,
    Market,
    Order,
    OrderStatus,
    Position,
    Series,
    Settlement,
)

MARKETS_PAGE = 1000


class Gateway(Protocol):
    """The venue as the engine sees it."""

    async def open_markets(self) -> list[Market]: ...

    async def balance(self) -> Balance: ...

    async def positions(self) -> list[Position]: ...

    async def all_positions(self) -> list[Position]:
        """Every market traded, settled ones included (the session report)."""
        ...

    async def resting_orders(self) -> list[Order]: ...

    async def fills(self, since: datetime | None = None) -> list[Fill]: ...

    async def settlements(self) -> list[Settlement]: ...

    async def find_order(self, client_order_id: str, ticker: str) -> Order | None: ...

    async def series(self, series_ticker: str) -> Series | None:
        """The series' terms (category, fee type and multiplier); ``None`` if unknown."""
        ...

    async def place(self, requests: Sequence[OrderRequest]) -> list[BatchOrderResult]: ...

    async def place_one(self, request: OrderRequest) -> OrderAck: ...

    async def cancel(self, order_id: str) -> CancelAck: ...


class ClientGateway:
    """A :class:`Gateway` over :class:`KalshiClient`; each method is one paginated read or
    one write, so a steady-state cycle costs a handful of API calls."""

    def __init__(self, client: KalshiClient) -> None:
        self.client = client

    async def open_markets(self) -> list[Market]:
        return [m async for m in self.client.iter_markets(status="open", limit=MARKETS_PAGE)]

    async def balance(self) -> Balance:
        return await self.client.get_balance()

    async def positions(self) -> list[Position]:
        return [p async for p in self.client.iter_positions(limit=MARKETS_PAGE)]

    async def all_positions(self) -> list[Position]:
        return [p async for p in self.client.iter_positions(settlement_status="all")]

    async def resting_orders(self) -> list[Order]:
        orders = self.client.iter_orders(status=OrderStatus.RESTING.value, limit=MARKETS_PAGE)
        return [o async for o in orders]

    async def fills(self, since: datetime | None = None) -> list[Fill]:
        """Our fills, only those at or after ``since`` when given (one page in steady state)."""
        filters = {"min_ts": int(since.timestamp())} if since else {}
        return [f async for f in self.client.iter_fills(limit=MARKETS_PAGE, **filters)]

    async def settlements(self) -> list[Settlement]:
        return [s async for s in self.client.iter_settlements(limit=MARKETS_PAGE)]

    async def find_order(self, client_order_id: str, ticker: str) -> Order | None:
        return await self.client.find_order(client_order_id, ticker=ticker)

    async def series(self, series_ticker: str) -> Series | None:
        try:
            return await self.client.get_series(series_ticker)
        except ExchangeError as error:
            if error.status == 404:
                return None
            raise

    async def place(self, requests: Sequence[OrderRequest]) -> list[BatchOrderResult]:
        return await self.client.batch_create_orders(requests)

    async def place_one(self, request: OrderRequest) -> OrderAck:
        return await self.client.create_order(request)

    async def cancel(self, order_id: str) -> CancelAck:
        return await self.client.cancel_order(order_id)

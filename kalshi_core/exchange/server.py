"""The local exchange's HTTP face: Kalshi's Trade API v2 under ``/trade-api/v2`` (Starlette).

The implementation lives in :mod:`kalshi_core.exchange.http`, one module per section; this
module keeps the names other code imports.

Every response body has the shape the official SDK 3.34 requires (money and counts as
strings, valid enums, ``cursor: ""`` on the last page, 201 for creates, 204 for cancel-all)
and is built with the project's one wire converter (:mod:`kalshi_core.wire`). Errors are
``{"error": {"code", "message", "service": "exchange"}}`` with Kalshi's statuses.
"""

from __future__ import annotations

from kalshi_core.exchange.http.app import PREFIX, DroppedConnection, ExchangeApp, build_routes
from kalshi_core.exchange.http.auth import ApiKey, KeyRegistry
from kalshi_core.exchange.http.base import Handlers
from kalshi_core.exchange.http.candles import build_candles
from kalshi_core.exchange.http.context import Catalog, ServerContext
from kalshi_core.exchange.http.errors import SERVICE, error_response
from kalshi_core.exchange.http.orders import MAX_BATCH, parse_create
from kalshi_core.exchange.http.pages import paginate
from kalshi_core.exchange.http.shapes import market_json, order_ack

__all__ = [
    "MAX_BATCH",
    "PREFIX",
    "SERVICE",
    "ApiKey",
    "Catalog",
    "DroppedConnection",
    "ExchangeApp",
    "Handlers",
    "KeyRegistry",
    "ServerContext",
    "build_candles",
    "build_routes",
    "error_response",
    "market_json",
    "order_ack",
    "paginate",
    "parse_create",
]

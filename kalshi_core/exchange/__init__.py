"""The local Kalshi exchange: an in-process matching engine and venue.

:class:`Venue` holds markets, accounts and order books; an HTTP server wraps it for paper
trading and the backtester calls it directly. Fees are pluggable (:class:`FeeModel`).
"""

from __future__ import annotations

from kalshi_core.exchange.accounts import Account, Holding
from kalshi_core.exchange.book import Book, OrderState
from kalshi_core.exchange.venue import Ledger, OrderRequest, Venue
from kalshi_core.fees import FeeModel, FeeSchedule, KalshiFeeModel, NoFees

__all__ = [
    "Account",
    "Book",
    "FeeModel",
    "FeeSchedule",
    "Holding",
    "KalshiFeeModel",
    "Ledger",
    "NoFees",
    "OrderRequest",
    "OrderState",
    "Venue",
]

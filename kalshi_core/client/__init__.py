"""Async HTTP client for the Kalshi Trade API v2 (and the local exchange that speaks it).

``KalshiClient`` turns endpoints into domain objects; underneath, :class:`Transport` signs
(:mod:`.auth`), rate limits (:mod:`.ratelimit`), retries, coalesces identical reads and counts
(:mod:`.metrics`). Only loopback URLs are accepted unless ``allow_remote=True``.
"""

from kalshi_core.client.auth import Signer, verify_signature
from kalshi_core.client.client import KalshiClient, encode_params, order_body
from kalshi_core.client.errors import OrderStateUnknown
from kalshi_core.client.metrics import ClientMetrics, LatencyHistogram
from kalshi_core.client.ratelimit import TIERS, RateLimiter, Tier, TokenBucket
from kalshi_core.client.transport import (
    DEFAULT_LIMITS,
    DEFAULT_TIMEOUT,
    DEMO_BASE_URL,
    PRODUCTION_BASE_URL,
    Call,
    Reply,
    RetryPolicy,
    Transport,
    check_base_url,
)
from kalshi_core.client.types import (
    AmendAck,
    BatchCancelResult,
    Candlestick,
    DecreaseAck,
    EventDetail,
    ExchangeStatus,
    LocalClock,
    Page,
    PriceOHLC,
)
from kalshi_core.gateway import (
    BatchOrderResult,
    CancelAck,
    ItemError,
    OrderAck,
    OrderRequest,
)

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_TIMEOUT",
    "DEMO_BASE_URL",
    "PRODUCTION_BASE_URL",
    "TIERS",
    "AmendAck",
    "BatchCancelResult",
    "BatchOrderResult",
    "Call",
    "CancelAck",
    "Candlestick",
    "ClientMetrics",
    "DecreaseAck",
    "EventDetail",
    "ExchangeStatus",
    "ItemError",
    "KalshiClient",
    "LatencyHistogram",
    "LocalClock",
    "OrderAck",
    "OrderRequest",
    "OrderStateUnknown",
    "Page",
    "PriceOHLC",
    "RateLimiter",
    "Reply",
    "RetryPolicy",
    "Signer",
    "Tier",
    "TokenBucket",
    "Transport",
    "check_base_url",
    "encode_params",
    "order_body",
    "verify_signature",
]

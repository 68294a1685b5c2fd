"""The ``[cache]`` settings section: which backend, where, and one TTL per kind of value."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kalshi_core.settings_rules import Rule

NUMBER = (int, float)
DEFAULT_KIND = "*"
DAY = 86_400
WEEK = 7 * DAY

#: settings key -> the kinds of value (see :mod:`kalshi_core.cache.kinds`) it sets the TTL of
TTL_KEYS: dict[str, tuple[str, ...]] = {
    "markets_ttl_seconds": ("markets", "market"),
    "orderbook_ttl_seconds": ("orderbook",),
    "series_ttl_seconds": ("series", "event"),
    "status_ttl_seconds": ("status",),
    "forecast_ttl_seconds": ("forecast",),
    "account_ttl_seconds": ("balance", "positions", "resting", "fills", "settlements"),
}


def _ttl(key: str, description: str, maximum: float = DAY) -> Rule:
    return Rule(
        key=f"cache.{key}",
        types=NUMBER,
        minimum=0,
        maximum=maximum,
        description=f"seconds {description} stay cached; 0 = not cached",
    )


CACHE_RULES: tuple[Rule, ...] = (
    Rule(key="cache.backend", types=(str,), description="registered cache backend"),
    Rule(
        key="cache.url",
        types=(str,),
        secret=True,
        description="where a shared backend is (redis://host:port/db); unused by memory",
    ),
    Rule(key="cache.namespace", types=(str,), description="key prefix; one per account"),
    Rule(key="cache.max_entries", types=(int,), minimum=1, maximum=10_000_000),
    Rule(key="cache.ttl_seconds", types=NUMBER, minimum=0, maximum=DAY),
    _ttl("markets_ttl_seconds", "open-market lists and market metadata"),
    _ttl("orderbook_ttl_seconds", "order books"),
    _ttl("series_ttl_seconds", "series and events", WEEK),
    _ttl("status_ttl_seconds", "the exchange status"),
    _ttl("forecast_ttl_seconds", "forecasts (analysis de-duplication)", 30 * DAY),
    _ttl(
        "account_ttl_seconds",
        "the account snapshot (balance, positions, orders, fills, settlements) shared by workers",
        60,
    ),
    Rule(
        key="cache.forecast_price_bucket",
        types=(int,),
        minimum=1,
        maximum=10_000,
        description="money units a mid price may move and still reuse a cached forecast",
    ),
    Rule(
        key="cache.lock_lease_seconds",
        types=NUMBER,
        minimum=0,
        exclusive_minimum=True,
        maximum=600,
        description="how long one worker's refresh of a key may hold the others off",
    ),
    Rule(
        key="cache.retry_seconds",
        types=NUMBER,
        minimum=0,
        maximum=3_600,
        description="how often an unreachable shared backend is tried again",
    ),
    Rule(
        key="cache.timeout_seconds",
        types=NUMBER,
        minimum=0,
        exclusive_minimum=True,
        maximum=60,
        description="longest wait for one shared-backend operation",
    ),
    Rule(
        key="cache.shared_rate_limit",
        types=(bool,),
        description="share the API rate budget across workers (needs a shared backend)",
    ),
)


def ttls_from_section(section: Mapping[str, Any]) -> dict[str, float]:
    """Kind name -> TTL seconds from a validated ``[cache]`` section; ``DEFAULT_KIND`` holds
    ``ttl_seconds``, the TTL of any kind without a setting of its own."""
    ttls = {kind: float(section.get(key, 0)) for key, kinds in TTL_KEYS.items() for kind in kinds}
    ttls[DEFAULT_KIND] = float(section.get("ttl_seconds", 0))
    return ttls

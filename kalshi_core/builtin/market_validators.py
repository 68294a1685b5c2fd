"""Built-in validator ``market_status``: only markets open for trading are candidates."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from kalshi_core.hookspecs import hookimpl
from kalshi_core.models import Market, MarketStatus, Verdict
from kalshi_core.protocols import PipelineContext
from kalshi_core.settings_rules import Rule

SECTION = "validators.market_status"


class MarketStatusValidator:
    """Rejects markets that are not ``active`` or that close within ``min_seconds_to_close``.

    A market about to close cannot be exited before it does, so it is not worth analysing.
    """

    name = "market_status"

    def __init__(self, min_seconds_to_close: float = 0) -> None:
        self.min_to_close = timedelta(seconds=min_seconds_to_close)

    def validate(self, market: Market, context: PipelineContext) -> Verdict:
        if market.status is not MarketStatus.ACTIVE:
            return Verdict.reject(self.name, f"market status is {market.status}, not active")
        if market.close_time - context.now < self.min_to_close:
            return Verdict.reject(self.name, f"market closes at {market.close_time.isoformat()}")
        return Verdict.accept(self.name)


def make_market_status(section: Mapping[str, Any]) -> MarketStatusValidator:
    return MarketStatusValidator(min_seconds_to_close=section.get("min_seconds_to_close", 0))


@hookimpl
def register_settings(register: Any) -> None:
    register(
        SECTION,
        {"min_seconds_to_close": 60},
        [
            Rule(
                key=f"{SECTION}.min_seconds_to_close",
                types=(int, float),
                minimum=0,
                maximum=7 * 86_400,
                description="skip markets closing sooner than this",
            )
        ],
    )


@hookimpl
def register_validators(register: Any) -> None:
    register("market_status", make_market_status)

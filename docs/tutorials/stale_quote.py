"""A validator that refuses a market whose last trade is far from its mid."""

from __future__ import annotations

from typing import Any

from kalshi_core.hookspecs import hookimpl
from kalshi_core.models import Market, Verdict
from kalshi_core.money import DOLLAR, format_dollars
from kalshi_core.protocols import PipelineContext
from kalshi_core.settings_rules import Rule

NAME = "stale_quote"
SECTION = f"validators.{NAME}"


class StaleQuote:
    """Refuse a market whose last trade is more than ``max_gap`` dollars from its mid."""

    name = NAME

    def __init__(self, max_gap: float) -> None:
        self.max_gap = round(max_gap * DOLLAR)

    def validate(self, market: Market, context: PipelineContext) -> Verdict:
        mid = market.mid
        if mid is None or not market.last_price:
            return Verdict.reject(self.name, "no two-sided quote or no trade yet")
        gap = abs(market.last_price - mid)
        if gap > self.max_gap:
            return Verdict.reject(
                self.name,
                f"last trade ${format_dollars(market.last_price)} is ${format_dollars(gap)} "
                f"from the mid ${format_dollars(mid)}, over ${format_dollars(self.max_gap)}",
            )
        return Verdict.accept(self.name)


@hookimpl
def register_settings(register: Any) -> None:
    register(
        SECTION,
        {"max_gap": 0.10},
        [Rule(key=f"{SECTION}.max_gap", types=(float,), minimum=0, maximum=1)],
    )


@hookimpl
def register_validators(register: Any) -> None:
    register(NAME, lambda section: StaleQuote(section["max_gap"]))

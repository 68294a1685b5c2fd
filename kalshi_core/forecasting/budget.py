"""What model calls cost, and the hard daily budget the ``llm`` forecaster keeps.

Prices are configured in dollars per million tokens and converted once, with ``Decimal``, into
integer money units per million tokens; a call's cost is rounded *up* to the next money unit.

The budget is checked before a call with that call's worst case (the prompt's length in
UTF-8 bytes as an upper bound of its tokens, plus ``max_tokens`` of output) and reserved, so
concurrent forecasts cannot together overrun it; the reservation is then settled to the real
cost from the reply's usage. A call whose outcome is unknown (timeout) keeps its worst case.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

import attrs

from kalshi_core.errors import ConfigError
from kalshi_core.money import Money, parse_dollars

TOKENS_PER_PRICE_UNIT = 1_000_000


def dollars_setting(value: object, where: str) -> Money:
    """A dollar amount from settings (``"0.15"``, ``0.15``, ``2``) as integer money units."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ConfigError(f"{where}: expected a dollar amount, got {value!r}")
    try:
        money = parse_dollars(Decimal(str(value)), what=where)
    except (ValueError, InvalidOperation) as exc:
        raise ConfigError(f"{where}: {exc}") from None
    if money < 0:
        raise ConfigError(f"{where}: must not be negative, got {value!r}")
    return money


@attrs.frozen(kw_only=True)
class ModelPrice:
    """Money units per million input and output tokens."""

    input_per_million: Money
    output_per_million: Money

    def cost(self, input_tokens: int, output_tokens: int) -> Money:
        """Cost of one call, rounded up to a whole money unit."""
        micro = input_tokens * self.input_per_million + output_tokens * self.output_per_million
        return -(-micro // TOKENS_PER_PRICE_UNIT)


MESSAGE_FRAMING_TOKENS = 64


def worst_case_input_tokens(prompt_bytes: int) -> int:
    """Byte-level BPE tokenizers yield at most one token per UTF-8 byte, plus message framing."""
    return prompt_bytes + MESSAGE_FRAMING_TOKENS


class DailyBudget:
    """Spend per UTC day of the pipeline clock, with reservations for calls in flight."""

    def __init__(self, limit: Money) -> None:
        self.limit = limit
        self._spent: dict[date, Money] = {}

    def spent(self, day: date) -> Money:
        return self._spent.get(day, 0)

    def reserve(self, day: date, amount: Money, known_elsewhere: Money = 0) -> bool:
        """Reserve ``amount`` unless spend (ours, or the engine's if larger) would exceed it."""
        already = max(self.spent(day), known_elsewhere)
        if already + amount > self.limit:
            return False
        self._spent[day] = self.spent(day) + amount
        return True

    def settle(self, day: date, reserved: Money, actual: Money) -> None:
        """Replace a reservation by what the call really cost."""
        self._spent[day] = self.spent(day) - reserved + actual

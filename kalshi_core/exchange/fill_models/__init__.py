"""Fill models: how a replay of recorded history turns into fills for our orders.

A fill model is fed the replay's events (a market listed, a recorded quote, a recorded print,
a market closed) and acts on the :class:`~kalshi_core.exchange.venue.Venue`: it shows the
recorded (or inferred) book to members and decides which prints reach their resting orders.
Each model writes its assumptions down in :meth:`FillModel.describe`, which reports print.

Built in (registered through the ``register_fill_models`` hook, chosen by
``exchange.fill_model``):

* ``trade_through`` (default) -- :class:`~kalshi_core.exchange.fill_models.recorded.TradeThrough`
* ``prob_queue`` -- :class:`~kalshi_core.exchange.fill_models.recorded.ProbQueue`
* ``l2_replay`` -- :class:`~kalshi_core.exchange.fill_models.recorded.L2Replay`
* ``synthetic_book`` -- :class:`~kalshi_core.exchange.liquidity.LiquidityProvider`, the
  paper exchange's original market maker
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from kalshi_core.history_format import Quote
    from kalshi_core.models import Market, Trade

__all__ = ["FillModel"]


class FillModel(Protocol):
    """What a :class:`~kalshi_core.exchange.replay.Replay` drives. Deterministic for a seed."""

    name: str

    def register(self, market: Market) -> None:
        """A market was listed: start tracking it."""
        ...

    def forget(self, ticker: str) -> None:
        """A market closed (the venue canceled its resting orders): stop tracking it."""
        ...

    def on_quote(self, quote: Quote) -> None:
        """A recorded top of book (with sizes when the recording has them)."""
        ...

    def on_trade(self, trade: Trade) -> None:
        """A recorded print: it may fill members' resting orders, never beyond its size."""
        ...

    def describe(self) -> dict[str, str]:
        """The model's assumptions, one sentence per topic, for reports to print."""
        ...

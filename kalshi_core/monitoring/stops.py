"""Graded stops: how far trading is wound down, as one object the engine consults.

Levels, each including the ones before it:

``running`` -> ``pause_entries`` (no new positions; exits still trade) -> ``cancel_resting``
(cancel every resting order) -> ``flatten`` (close positions with limit orders no worse than
``flatten_concession`` below the best bid) -> ``stop`` (end the session).

The engine consults it each cycle: :meth:`StopController.admit` filters the approved intents,
``cancels_resting`` / ``flattens`` / ``stops`` say what else to do, :meth:`flatten_intents`
builds the closing orders.

Anomalies ask for a level (``anomalies.<name>.halt``); a human (or the web dashboard's controls)
calls :meth:`StopController.escalate` or :meth:`StopController.resume`. The level only rises
by itself; going back down is always an explicit resume. Every change is announced with
:data:`kalshi_core.signals.stop_changed` (audited, alerted, exported as ``kalshi_stop_level``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kalshi_core import signals
from kalshi_core.engine.edge import lowers_risk
from kalshi_core.models import Action, Market, OrderIntent, Position, Side, TimeInForce
from kalshi_core.money import Price
from kalshi_core.monitoring.anomalies import NO_HALT
from kalshi_core.monitoring.subscriptions import Handler, Subscriber

LEVELS = ("running", "pause_entries", "cancel_resting", "flatten", "stop")
HALT_CHOICES = (NO_HALT, *LEVELS[1:])
MIN_PRICE = 100  # one cent, the lowest price a sell may ask


def level_rank(level: str) -> int:
    if level not in LEVELS:
        raise ValueError(f"unknown stop level {level!r}; allowed: {', '.join(LEVELS)}")
    return LEVELS.index(level)


class StopController(Subscriber):
    """The current stop level, raised by anomalies that ask for a halt."""

    def __init__(self, flatten_concession: Price = 500) -> None:
        self.level = "running"
        self.reason = ""
        self.flatten_concession = flatten_concession

    def subscriptions(self) -> Sequence[tuple[Any, Handler]]:
        return ((signals.anomaly_detected, self._on_anomaly),)

    def _on_anomaly(self, sender: object, *, anomaly: Any = None, **_: object) -> None:
        halt = getattr(anomaly, "halt", NO_HALT)
        if halt != NO_HALT:
            self.escalate(halt, f"{getattr(anomaly, 'detector', 'anomaly')}: {anomaly}")

    def escalate(self, level: str, reason: str) -> bool:
        """Raise the level to ``level`` (never lowers it); True when it changed."""
        if level_rank(level) <= level_rank(self.level):
            return False
        self._change(level, reason)
        return True

    def resume(self, reason: str) -> None:
        """Back to ``running``: a human decision."""
        if self.level != "running":
            self._change("running", reason)

    def _change(self, level: str, reason: str) -> None:
        previous, self.level, self.reason = self.level, level, reason
        signals.stop_changed.send(self, level=level, previous=previous, reason=reason)

    def at_least(self, level: str) -> bool:
        return level_rank(self.level) >= level_rank(level)

    @property
    def allows_entries(self) -> bool:
        return not self.at_least("pause_entries")

    @property
    def cancels_resting(self) -> bool:
        return self.at_least("cancel_resting")

    @property
    def flattens(self) -> bool:
        return self.at_least("flatten")

    @property
    def stops(self) -> bool:
        return self.at_least("stop")

    def admit(self, intents: Iterable[OrderIntent]) -> tuple[OrderIntent, ...]:
        """What may still be sent: everything while running; only sells and reduce-only
        orders (exits) from ``pause_entries`` to ``flatten``; nothing at ``stop``."""
        if self.stops:
            return ()
        if self.allows_entries:
            return tuple(intents)
        return tuple(intent for intent in intents if lowers_risk(intent))

    def flatten_intents(
        self, positions: Mapping[str, Position], markets: Mapping[str, Market]
    ) -> list[OrderIntent]:
        """Reduce-only IOC sells closing each position (positive = YES held, negative = NO),
        priced ``flatten_concession`` below the best bid of the side held, never under one
        cent. A market without a bid on that side is left for the next cycle."""
        intents = []
        for ticker, held in sorted(positions.items()):
            market = markets.get(ticker)
            side = Side.YES if held.position > 0 else Side.NO
            bid = 0 if market is None else (market.yes_bid if side is Side.YES else market.no_bid)
            if held.position == 0 or bid <= 0:
                continue
            intents.append(
                OrderIntent(
                    ticker=ticker,
                    side=side,
                    action=Action.SELL,
                    price=max(MIN_PRICE, bid - self.flatten_concession),
                    count=abs(held.position),
                    strategy="flatten",
                    time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL,
                    reduce_only=True,
                    reason=f"flatten: {self.reason}",
                )
            )
        return intents

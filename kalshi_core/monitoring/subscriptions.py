"""Connecting a listener's handlers to signals for the duration of a ``with`` block."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from blinker import Signal

Handler = Callable[..., None]


class Subscriber:
    """Base for signal listeners: :meth:`subscriptions` names the pairs to connect.

    Handlers are connected strongly (blinker's default is weak) and disconnected on exit,
    so a listener hears exactly what happens inside its ``with`` block.
    """

    def subscriptions(self) -> Sequence[tuple[Signal, Handler]]:
        raise NotImplementedError

    def __enter__(self) -> Any:
        self._connected = list(self.subscriptions())
        for signal, handler in self._connected:
            signal.connect(handler, weak=False)
        return self

    def __exit__(self, *exc: object) -> None:
        for signal, handler in getattr(self, "_connected", ()):
            signal.disconnect(handler)
        self._connected = []

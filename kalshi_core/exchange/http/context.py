"""What the HTTP face and the WebSocket feed serve from."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from kalshi_core.exchange.faults import FaultInjector
from kalshi_core.exchange.http.auth import KeyRegistry, VerifiedSignatures, signed_account
from kalshi_core.exchange.http.market_index import MarketIndex
from kalshi_core.exchange.venue import Venue
from kalshi_core.models import Event, Market, Series


@attrs.define(kw_only=True)
class Catalog:
    """Series and events known beyond what the listed markets imply."""

    series: dict[str, Series] = attrs.field(factory=dict)
    events: dict[str, Event] = attrs.field(factory=dict)


@attrs.define(kw_only=True)
class ServerContext:
    """Everything the HTTP face serves from. ``sync`` runs before each request."""

    venue: Venue
    keys: KeyRegistry
    faults: FaultInjector = attrs.field(factory=FaultInjector)
    catalog: Catalog = attrs.field(factory=Catalog)
    sync: Callable[[], None] = lambda: None
    max_skew_seconds: float = 60.0
    max_body_bytes: int = 65_536  # a batch of 20 orders is a few kilobytes
    wall_clock: Callable[[], float] = time.time
    clock_control: Any = None  # a ClockControl (http/local_clock.py) when the owner has one
    verified_signatures: VerifiedSignatures = attrs.field(factory=VerifiedSignatures)
    _market_index: MarketIndex | None = attrs.field(default=None, init=False)

    def market_index(self) -> MarketIndex:
        """The venue's ticker index for ``GET /markets``, built on first use."""
        if self._market_index is None:
            self._market_index = MarketIndex(self.venue)
        return self._market_index

    def market_reports(self) -> Callable[[str], Market]:
        """Each market's report as of now (the venue swept up to the clock first), made only
        for the tickers asked for and kept while nothing changes them."""
        index = self.market_index()
        now = index.sweep()
        return lambda ticker: index.listed(ticker, now).market

    def markets_changed(self, tickers: Iterable[str]) -> None:
        """Markets changed behind the venue's notifications (prints put on the tape)."""
        if self._market_index is not None:
            self._market_index.forget(tickers)

    def signed_account(self, headers: dict[str, str], method: str, path: str) -> str | None:
        """See :func:`kalshi_core.exchange.http.auth.signed_account`."""
        return signed_account(
            self.keys,
            headers,
            method,
            path,
            now_seconds=self.wall_clock(),
            max_skew_seconds=self.max_skew_seconds,
            remembered=self.verified_signatures,
        )

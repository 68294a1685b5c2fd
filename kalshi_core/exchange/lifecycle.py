"""Market lifecycle: status changes, closing at close time, determination, settlement and
disputes.

A market moves along ``_TRANSITIONS``; closing cancels every resting order. Determining pays
every holder from escrow (``yes``/``no`` $1 a winning contract, ``scalar`` the settlement value
a YES contract, ``void`` each holder's cost back) and books what escrow keeps as rounding.
"""

from __future__ import annotations

import heapq
from datetime import datetime

from kalshi_core.exchange import rules
from kalshi_core.exchange.accounts import Account
from kalshi_core.exchange.changes import MarketChanged, PositionChanged
from kalshi_core.exchange.market import MarketState
from kalshi_core.exchange.matching import ESCROW_PER_COUNT, MatchingEngine
from kalshi_core.exchange.reports import market_report, position_report
from kalshi_core.exchange.rules import reject
from kalshi_core.exchange.state import VenueState
from kalshi_core.models import MarketResult, MarketStatus, Settlement
from kalshi_core.money import CONTRACT, DOLLAR, Money

_TRANSITIONS: dict[MarketStatus, frozenset[MarketStatus]] = {
    MarketStatus.INITIALIZED: frozenset({MarketStatus.ACTIVE, MarketStatus.CLOSED}),
    MarketStatus.ACTIVE: frozenset({MarketStatus.INACTIVE, MarketStatus.CLOSED}),
    MarketStatus.INACTIVE: frozenset({MarketStatus.ACTIVE, MarketStatus.CLOSED}),
    # A dispute comes before payment: a disputed market pays nothing until it is determined.
    MarketStatus.CLOSED: frozenset({MarketStatus.DETERMINED, MarketStatus.DISPUTED}),
    MarketStatus.DISPUTED: frozenset({MarketStatus.DETERMINED}),
    MarketStatus.DETERMINED: frozenset({MarketStatus.FINALIZED}),
}
_TRADING = (MarketStatus.ACTIVE, MarketStatus.INACTIVE)


class Lifecycle:
    """Moves the venue's markets (``engines``, by ticker) through their statuses."""

    def __init__(self, state: VenueState, engines: dict[str, MatchingEngine]) -> None:
        self.state = state
        self.engines = engines
        self._closings: list[tuple[datetime, str]] = []

    def listed(self, engine: MatchingEngine) -> None:
        """A new market: close it at its close time and announce it."""
        market = engine.market
        heapq.heappush(self._closings, (market.listed.close_time, market.listed.ticker))
        self.announce(market, None)

    def close_due(self, now: datetime) -> None:
        """Close every trading market whose close time ``now`` has reached."""
        while self._closings and self._closings[0][0] <= now:
            _, ticker = heapq.heappop(self._closings)
            engine = self.engines[ticker]
            if engine.market.status in _TRADING:
                self.set_status(engine, MarketStatus.CLOSED, now)

    def set_status(
        self, engine: MatchingEngine, status: MarketStatus, now: datetime, *, announce: bool = True
    ) -> None:
        market = engine.market
        if status not in _TRANSITIONS.get(market.status, frozenset()):
            raise reject(
                rules.INVALID_TRANSITION,
                f"{market.listed.ticker} cannot go from {market.status} to {status}",
            )
        if status is MarketStatus.CLOSED:
            for order in market.book.resting():
                engine.cancel(order, now)
        previous, market.status = market.status, status
        market.updated_time = now
        if announce:
            self.announce(market, previous)

    def determine(
        self,
        engine: MatchingEngine,
        result: MarketResult,
        settlement_value: Money | None,
        now: datetime,
    ) -> list[Settlement]:
        """Settle the market (closing it first if needed) and pay every holder."""
        market = engine.market
        yes_value = None if result is MarketResult.VOID else yes_value_of(result, settlement_value)
        if market.status in _TRADING:
            self.set_status(engine, MarketStatus.CLOSED, now)
        previous = market.status
        self.set_status(engine, MarketStatus.DETERMINED, now, announce=False)
        market.result, market.settlement_value, market.settlement_ts = result, yes_value, now
        self.announce(market, previous)  # once the result is known
        ticker = market.listed.ticker
        records = [
            self._settle(account, market, yes_value, now)
            for account in self.state.accounts.values()
            if account.holdings.get(ticker) and account.holdings[ticker].position
        ]
        escrow = market.open_interest * ESCROW_PER_COUNT
        self.state.rounding += escrow - sum(r.revenue for r in records)
        market.open_interest = 0
        return records

    def announce(self, market: MarketState, previous: MarketStatus | None) -> None:
        if self.state.listeners:
            report = market_report(market.listed, market.book, market.activity())
            self.state.notify(MarketChanged(market=report, previous=previous))

    def _settle(
        self, account: Account, market: MarketState, yes_value: Money | None, now: datetime
    ) -> Settlement:
        """Pay one holder: ``yes_value`` a YES contract (the rest of $1 a NO one), or, for a
        void market (``None``), its cost back."""
        held = account.holdings[market.listed.ticker]
        yes_count, no_count = max(0, held.position), max(0, -held.position)
        if yes_value is None:
            due = held.basis * CONTRACT
        else:
            due = yes_value * yes_count + (DOLLAR - yes_value) * no_count
        revenue = held.receive(due)
        record = Settlement(
            ticker=market.listed.ticker,
            event_ticker=market.listed.event_ticker,
            market_result=market.result,
            yes_count=yes_count,
            no_count=no_count,
            yes_total_cost=held.basis if yes_count else 0,
            no_total_cost=held.basis if no_count else 0,
            revenue=revenue,
            fee_cost=held.fees,
            settled_time=now,
        )
        account.cash += revenue
        held.realized += revenue - held.basis
        held.basis, held.position, held.updated_time = 0, 0, now
        account.refresh(held)
        self.state.settlements.setdefault(account.account_id, []).append(record)
        if self.state.listeners:
            position = position_report(held)
            self.state.notify(PositionChanged(account_id=account.account_id, position=position))
        return record


def yes_value_of(result: MarketResult, settlement_value: Money | None) -> Money:
    """What one YES contract pays for ``result`` (a NO contract pays the rest of $1)."""
    if result is MarketResult.YES:
        return DOLLAR
    if result is MarketResult.NO:
        return 0
    scalar = result is MarketResult.SCALAR and settlement_value is not None
    if scalar and settlement_value is not None and 0 <= settlement_value <= DOLLAR:
        return settlement_value
    raise reject(rules.INVALID_PARAMETERS, f"cannot settle on {result!r} / {settlement_value}")

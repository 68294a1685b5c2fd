"""The session report: what a run did, and its P&L from two independent books.

The venue's account is the truth. Our own database must agree with it: for every market whose
position is closed or settled, the P&L rebuilt from *our stored fills and settlements* must
equal the P&L the venue reports. The rebuild uses a signed-YES ledger (a NO contract is a
negative YES contract): each bid pays ``p`` per contract, each ask receives ``p``, each fee is
paid, and at settlement a net position ``q`` receives ``q x $1`` when the market resolved YES.
Over a closed position this equals Kalshi's own cash accounting exactly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

import attrs

from kalshi_core.engine.explain import Explanation, explanation_lines
from kalshi_core.models import BookSide, Fill, MarketResult, Position, Settlement
from kalshi_core.money import CONTRACT, DOLLAR, Money, format_dollars


@attrs.frozen(kw_only=True)
class LedgerLine:
    cash: Money = 0
    position: int = 0


def ledger_by_market(
    fills: Iterable[Fill], settlements: Iterable[Settlement]
) -> dict[str, LedgerLine]:
    """Signed-YES cash and net position per market from our own records."""
    cash: dict[str, Money] = defaultdict(int)
    held: dict[str, int] = defaultdict(int)
    for fill in fills:
        sign = -1 if fill.book_side is BookSide.BID else 1
        cash[fill.ticker] += sign * fill.yes_price * fill.count // CONTRACT - fill.fee_cost
        held[fill.ticker] -= sign * fill.count
    for settlement in settlements:
        # ``fee_cost`` on a settlement reports the fees already paid on the fills: not again.
        if settlement.market_result is MarketResult.YES:
            cash[settlement.ticker] += held[settlement.ticker] * DOLLAR // CONTRACT
        held[settlement.ticker] = 0
    return {t: LedgerLine(cash=cash[t], position=held[t]) for t in cash}


def venue_realized(positions: Iterable[Position]) -> dict[str, Money]:
    """The venue's realized P&L net of fees, per market."""
    return {p.ticker: p.realized_pnl - p.fees_paid for p in positions}


@attrs.frozen(kw_only=True)
class PnlCheck:
    """Our books against the venue's, over the markets whose positions are closed."""

    closed_markets: int
    ours: Money
    venue: Money
    open_markets: int

    @property
    def matches(self) -> bool:
        return self.ours == self.venue


def check_pnl(ledger: Mapping[str, LedgerLine], positions: Iterable[Position]) -> PnlCheck:
    venue_positions = list(positions)
    closed = {p.ticker for p in venue_positions if p.position == 0}
    closed &= {t for t, line in ledger.items() if line.position == 0}
    realized = venue_realized(venue_positions)
    return PnlCheck(
        closed_markets=len(closed),
        ours=sum(ledger[t].cash for t in closed),
        venue=sum(realized[t] for t in closed),
        open_markets=sum(p.position != 0 for p in venue_positions),
    )


@attrs.frozen(kw_only=True)
class SessionReport:
    """The end-of-session summary printed by ``kalshi-core run``."""

    cycles: int
    markets_scanned: int
    decisions: int
    forecasts: int
    orders_placed: int
    orders_rejected: int
    fills_venue: int
    fills_stored: int
    start_equity: Money
    end_equity: Money
    pnl_check: PnlCheck
    stopped_because: str
    caveats: tuple[str, ...] = ()  # what the replayed data's sets say about themselves
    leased_elsewhere: int = 0  # most markets a cycle skipped: other workers held them
    explanation: Explanation | None = None  # why markets were not traded

    def _leased_lines(self) -> list[str]:
        if not self.leased_elsewhere:
            return []
        return [
            f"markets leased by other workers: up to {self.leased_elsewhere} a cycle, "
            "not traded by this run (see the log for whose)"
        ]

    @property
    def pnl(self) -> Money:
        return self.end_equity - self.start_equity

    def lines(self) -> list[str]:
        check = self.pnl_check
        verdict = "matches" if check.matches else "DOES NOT MATCH"
        return [
            f"stopped: {self.stopped_because}",
            f"cycles: {self.cycles}   markets scanned: {self.markets_scanned}   "
            f"forecasts: {self.forecasts}",
            f"orders placed: {self.orders_placed}   rejected: {self.orders_rejected}",
            f"fills: {self.fills_venue} on the exchange, {self.fills_stored} stored",
            f"equity: ${format_dollars(self.start_equity)} -> ${format_dollars(self.end_equity)}"
            f"   P&L: ${format_dollars(self.pnl)} (open positions at cost)",
            f"closed markets: {check.closed_markets}   our P&L ${format_dollars(check.ours)} "
            f"vs the exchange's ${format_dollars(check.venue)}: {verdict}",
            f"open positions: {check.open_markets}",
            *self._leased_lines(),
            *(f"data caveat: {text}" for text in self.caveats),
            *(explanation_lines(self.explanation) if self.explanation else []),
        ]

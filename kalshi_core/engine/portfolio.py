"""The portfolio step: share limited cash among candidate intents from all strategies.

Candidates are ranked by expected value per dollar at risk; each is taken whole, shrunk to
what still fits, or skipped. Markets of one event are correlated (often mutually exclusive),
so at most ``max_per_event`` intents per event pass and the event's exposure stays under
``max_event_exposure_pct`` of portfolio value. Sells and reduce-only intents lock no cash and
always pass, first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction

import attrs

from kalshi_core.engine.edge import intent_cost, lowers_risk
from kalshi_core.engine.sizing import fit_count
from kalshi_core.models import OrderIntent
from kalshi_core.money import CONTRACT, Count, Money
from kalshi_core.protocols import Portfolio

CostOf = Callable[[OrderIntent], Money]


@attrs.frozen(kw_only=True)
class Candidate:
    """An intent, the event its market belongs to and its expected value in money.

    ``expected_value`` defaults to the intent's own ``expected_value``.
    """

    intent: OrderIntent
    event_ticker: str
    expected_value: Money | None = None

    @property
    def value(self) -> Money:
        return self.intent.expected_value if self.expected_value is None else self.expected_value


@attrs.frozen(kw_only=True)
class AllocationLimits:
    """How much of the portfolio the step may hand out.

    ``cash_reserve`` is money never allocated; ``lot`` the step intents are shrunk by.
    """

    max_per_event: int = 1
    max_event_exposure_pct: Fraction = Fraction(1)
    cash_reserve: Money = 0
    lot: Count = CONTRACT


def value_per_dollar(candidate: Candidate, cost_of: CostOf = intent_cost) -> Fraction:
    """Expected value per unit of money at risk (infinite for intents that risk nothing)."""
    cost = cost_of(candidate.intent)
    if lowers_risk(candidate.intent) or cost <= 0:
        return Fraction(10**18)
    return Fraction(candidate.value, cost)


def _rank(candidates: Iterable[Candidate], cost_of: CostOf) -> list[Candidate]:
    return sorted(
        candidates,
        key=lambda c: (-value_per_dollar(c, cost_of), c.intent.ticker, c.intent.side.value),
    )


@attrs.define
class _Budget:
    portfolio: Portfolio
    limits: AllocationLimits
    cash: Money
    per_event: dict[str, Money] = attrs.field(factory=dict)
    taken_per_event: dict[str, int] = attrs.field(factory=dict)

    def room(self, event: str) -> Money:
        cap = int(self.portfolio.value * self.limits.max_event_exposure_pct)
        used = self.portfolio.event_exposure(event) + self.per_event.get(event, 0)
        return min(self.cash, cap - used)

    def full(self, event: str) -> bool:
        return self.taken_per_event.get(event, 0) >= self.limits.max_per_event

    def take(self, event: str, cost: Money) -> None:
        self.cash -= cost
        self.per_event[event] = self.per_event.get(event, 0) + cost
        self.taken_per_event[event] = self.taken_per_event.get(event, 0) + 1


def _shrunk(candidate: Candidate, room: Money, lot: Count, cost_of: CostOf) -> OrderIntent | None:
    intent = candidate.intent
    count = fit_count(intent.count, intent.price, room, lot)
    while count > 0 and cost_of(attrs.evolve(intent, count=count)) > room:
        count -= lot
    if count <= 0:
        return None
    if count == intent.count:
        return intent
    scaled_value = candidate.value * count // intent.count
    return attrs.evolve(intent, count=count, expected_value=scaled_value)


def allocate(
    candidates: Sequence[Candidate],
    portfolio: Portfolio,
    limits: AllocationLimits,
    cost_of: CostOf = intent_cost,
) -> list[OrderIntent]:
    """Intents to pursue, best value per dollar first; total cost never exceeds free cash.

    ``cost_of`` prices an intent (the notional by default; pass one that adds fees to keep
    room for them). Intents with non-positive expected value that lock cash are dropped.
    """
    budget = _Budget(portfolio, limits, max(portfolio.cash - limits.cash_reserve, 0))
    chosen: list[OrderIntent] = []
    for candidate in _rank(candidates, cost_of):
        if lowers_risk(candidate.intent):
            chosen.append(candidate.intent)
            continue
        if (
            candidate.value <= 0
            or candidate.intent.count <= 0
            or budget.full(candidate.event_ticker)
        ):
            continue
        intent = _shrunk(candidate, budget.room(candidate.event_ticker), limits.lot, cost_of)
        if intent is None:
            continue
        budget.take(candidate.event_ticker, cost_of(intent))
        chosen.append(intent)
    return chosen

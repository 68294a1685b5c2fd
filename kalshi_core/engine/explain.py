"""Why markets were not traded: one run's stored decisions, counted by what stopped them.

Each stored decision falls in one place: it kept an intent (``traded``), or its first
rejecting verdict names a validator, or it passed every screen without a forecast
(``no forecast``), or with one on which no strategy proposed an order (``no edge``). A market
screened out for the same reason cycle after cycle is stored (and so counted) once.

For every decision with a forecast and a recorded quote, the edge is the better side's
``P(side) - ask - taker fee`` per contract (the half spread is in the ask), set against the
threshold of the ``min_edge`` validator, ``min_edge + k x stderr``. A forecast without a
stderr has no threshold under ``missing_stderr = 'refuse'``: it is counted as unproven.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any

import attrs

from kalshi_core.engine.edge import (
    DEFAULT_FEE_MODEL,
    DEFAULT_SCHEDULE,
    DEFAULT_UNCERTAINTY,
    UncertaintyRule,
    fee_per_contract,
    required_edge,
    side_probability,
    uncertainty_rule,
)
from kalshi_core.engine.units import cents, usd
from kalshi_core.models import Forecast, Side
from kalshi_core.money import CENT, DOLLAR, Money
from kalshi_core.storage.database import Database
from kalshi_core.storage.repositories.decisions import DecisionFacts

TRADED = "traded"
NO_FORECAST = "no forecast"
NO_EDGE = "no edge (no strategy proposed an order)"
HISTOGRAM_CENTS = 10  # the histogram spans -10c..+10c of margin; beyond is clamped


@attrs.frozen(kw_only=True)
class Outcome:
    """How many decisions ended one way, with the first one's market and reason."""

    name: str
    count: int
    example_ticker: str = ""
    example_reason: str = ""


@attrs.frozen(kw_only=True)
class EdgeSample:
    """One forecast's best edge against its threshold, money units per contract."""

    ticker: str
    edge: Fraction
    required: Fraction | None  # None: no stderr, an unproven edge

    @property
    def margin(self) -> Fraction | None:
        return None if self.required is None else self.edge - self.required


@attrs.frozen(kw_only=True)
class Explanation:
    run_id: str
    decisions: int
    outcomes: tuple[Outcome, ...]
    edges: tuple[EdgeSample, ...]
    min_edge: Money
    stderrs: Fraction

    @property
    def cleared(self) -> int:
        return sum(1 for e in self.edges if e.margin is not None and e.margin >= 0)

    @property
    def unproven(self) -> int:
        return sum(1 for e in self.edges if e.required is None)

    def histogram(self) -> list[tuple[str, int]]:
        """Margins (edge - threshold) in whole cents, clamped to +-HISTOGRAM_CENTS."""
        return _histogram(e.margin for e in self.edges if e.margin is not None)

    def unproven_histogram(self) -> list[tuple[str, int]]:
        """For forecasts without a stderr: edge - min_edge alone, what a stderr of 0 would
        have needed (how far their edges are from anything tradable)."""
        return _histogram(e.edge - self.min_edge for e in self.edges if e.required is None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "decisions": self.decisions,
            "outcomes": [attrs.asdict(o) for o in self.outcomes],
            "threshold": {"min_edge": self.min_edge, "stderrs": float(self.stderrs)},
            "edges": {
                "forecasts": len(self.edges),
                "cleared": self.cleared,
                "below": len(self.edges) - self.cleared - self.unproven,
                "unproven": self.unproven,
                "margin_histogram_cents": dict(self.histogram()),
                "unproven_over_min_edge_histogram_cents": dict(self.unproven_histogram()),
            },
        }


def _histogram(margins: Iterable[Fraction]) -> list[tuple[str, int]]:
    counts: Counter[int] = Counter()
    for margin in margins:
        whole = int(margin // CENT)
        counts[max(-HISTOGRAM_CENTS, min(HISTOGRAM_CENTS, whole))] += 1
    return [(_bin_label(c), counts[c]) for c in range(-HISTOGRAM_CENTS, HISTOGRAM_CENTS + 1)]


def _bin_label(cents: int) -> str:
    if cents == -HISTOGRAM_CENTS:
        return f"<= {cents}c"
    if cents == HISTOGRAM_CENTS:
        return f">= +{cents}c"
    return f"{cents:+d}c"


def outcome_of(facts: DecisionFacts) -> tuple[str, str]:
    """The decision's place (see the module doc) and its reason."""
    if facts.intents > 0:
        return TRADED, ""
    if facts.rejection is not None:
        return facts.rejection.validator, facts.rejection.reason
    if facts.forecast is None:
        return NO_FORECAST, ""
    return NO_EDGE, ""


def count_outcomes(facts: Sequence[DecisionFacts]) -> tuple[Outcome, ...]:
    """Outcomes, most frequent first (ties by name), each with its first example."""
    counts: Counter[str] = Counter()
    examples: dict[str, tuple[str, str]] = {}
    for one in facts:
        name, reason = outcome_of(one)
        counts[name] += 1
        examples.setdefault(name, (one.ticker, reason))
    ordered = sorted(counts, key=lambda n: (-counts[n], n))
    return tuple(
        Outcome(
            name=n, count=counts[n], example_ticker=examples[n][0], example_reason=examples[n][1]
        )
        for n in ordered
    )


def best_edge(forecast: Forecast, yes_bid: int, yes_ask: int) -> Fraction:
    """The better side's edge at its ask after the exact taker fee, per contract."""
    asks = {Side.YES: yes_ask, Side.NO: DOLLAR - yes_bid}
    return max(
        side_probability(forecast.probability, side)
        - ask
        - fee_per_contract(
            DEFAULT_FEE_MODEL, DEFAULT_SCHEDULE, side=side, price=ask, is_taker=True, now=None
        )
        for side, ask in asks.items()
    )


def edge_sample(facts: DecisionFacts, min_edge: Money, rule: UncertaintyRule) -> EdgeSample | None:
    """The decision's edge sample, or None without a forecast or a two-sided quote."""
    bid, ask, forecast = facts.yes_bid, facts.yes_ask, facts.forecast
    if forecast is None or bid is None or ask is None or bid <= 0 or ask >= DOLLAR:
        return None
    return EdgeSample(
        ticker=facts.ticker,
        edge=best_edge(forecast, bid, ask),
        required=required_edge(min_edge, rule, forecast),
    )


def explain(
    run_id: str, facts: Sequence[DecisionFacts], min_edge: Money, rule: UncertaintyRule
) -> Explanation:
    samples = (edge_sample(f, min_edge, rule) for f in facts)
    return Explanation(
        run_id=run_id,
        decisions=len(facts),
        outcomes=count_outcomes(facts),
        edges=tuple(s for s in samples if s is not None),
        min_edge=min_edge,
        stderrs=rule.stderrs,
    )


def threshold_from(section: Mapping[str, Any]) -> tuple[Money, UncertaintyRule]:
    """``min_edge`` and the k-stderr rule from the ``validators.min_edge`` settings (the
    defaults when that validator is not installed)."""
    if "min_edge_cents" not in section:
        return 0, DEFAULT_UNCERTAINTY
    return cents(section["min_edge_cents"], "min_edge_cents"), uncertainty_rule(section)


async def explain_run(
    database: Database, run_id: str | None, section: Mapping[str, Any]
) -> Explanation | None:
    """The explanation of ``run_id`` (default: the latest run), None when nothing is stored."""
    run_id = run_id or await database.run_decisions.latest_run_id()
    if run_id is None:
        return None
    min_edge, rule = threshold_from(section)
    return explain(run_id, await database.run_decisions.facts(run_id), min_edge, rule)


def _bar(count: int, most: int, width: int = 40) -> str:
    return "#" * (0 if most == 0 else max(1 if count else 0, count * width // most))


def explanation_lines(explanation: Explanation) -> list[str]:
    """Plain text for the session report and ``kalshi-core decisions`` without a terminal."""
    ex = explanation
    lines = [f"why markets were not traded (run {ex.run_id}, {ex.decisions} stored decisions):"]
    for o in ex.outcomes:
        example = f"  e.g. {o.example_ticker}: {o.example_reason}" if o.example_reason else ""
        lines.append(f"  {o.name:<40} {o.count:>7}{example}")
    below = len(ex.edges) - ex.cleared - ex.unproven
    lines.append(
        f"edges of {len(ex.edges)} forecasts against min_edge {usd(ex.min_edge)} + "
        f"{float(ex.stderrs):g} x stderr: {ex.cleared} cleared, {below} below, "
        f"{ex.unproven} unproven (no stderr: no order placed)"
    )
    lines += _histogram_lines("edge - threshold, cents:", ex.histogram())
    lines += _histogram_lines("unproven: edge - min_edge, cents:", ex.unproven_histogram())
    return lines


def _histogram_lines(title: str, histogram: list[tuple[str, int]]) -> list[str]:
    most = max((n for _, n in histogram), default=0)
    if not most:
        return []
    return [f"  {title}"] + [f"  {label:>8} {n:>6} {_bar(n, most)}" for label, n in histogram if n]

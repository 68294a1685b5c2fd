"""Why markets were not traded: outcomes by first rejecting validator, edges vs threshold."""

from __future__ import annotations

from fractions import Fraction

from rich.console import Console

from kalshi_core.builtin.decisions_command import edges_table, outcomes_table
from kalshi_core.engine.edge import UncertaintyRule
from kalshi_core.engine.explain import (
    NO_EDGE,
    NO_FORECAST,
    TRADED,
    best_edge,
    explain,
    explanation_lines,
    threshold_from,
)
from kalshi_core.models import Verdict
from kalshi_core.storage.repositories.decisions import DecisionFacts
from tests.engine.builders import forecast


def facts(n: int, **fields: object) -> DecisionFacts:
    base: dict[str, object] = {
        "decision_id": f"d-{n}",
        "ticker": f"KXT-{n}",
        "intents": 0,
        "rejection": None,
        "forecast": None,
    }
    return DecisionFacts(**{**base, **fields})  # type: ignore[arg-type]


def test_best_edge_is_the_better_side_at_its_ask_after_the_taker_fee() -> None:
    # P 0.62, YES ask 52c: 10c less fee 0.07 x 0.52 x 0.48 = 1.7472c -> 8.2528c
    assert best_edge(forecast(6200), 4800, 5200) == Fraction(82528, 100)
    # P 0.30: NO at 1 - 48c = 52c ask pays 70 - 52 - 1.7472 = 16.2528c
    assert best_edge(forecast(3000), 4800, 5200) == Fraction(162528, 100)


def test_outcomes_are_counted_by_first_rejection_with_an_example() -> None:
    many = [
        facts(1, intents=2, forecast=forecast(6200)),
        facts(2, rejection=Verdict.reject("time_to_close", "closes in 600s")),
        facts(3, rejection=Verdict.reject("time_to_close", "closes in 300s")),
        facts(4, rejection=Verdict.reject("min_edge", "edge below")),
        facts(5),
        facts(6, forecast=forecast(5000), yes_bid=4800, yes_ask=5200),
    ]
    ex = explain("run-1", many, 300, UncertaintyRule())
    counted = {o.name: (o.count, o.example_ticker, o.example_reason) for o in ex.outcomes}
    assert counted == {
        "time_to_close": (2, "KXT-2", "closes in 600s"),
        TRADED: (1, "KXT-1", ""),
        "min_edge": (1, "KXT-4", "edge below"),
        NO_FORECAST: (1, "KXT-5", ""),
        NO_EDGE: (1, "KXT-6", ""),
    }
    assert ex.outcomes[0].name == "time_to_close"  # the most frequent first
    assert ex.decisions == 6


def test_edges_against_min_edge_plus_k_stderrs_and_unproven() -> None:
    quote = {"yes_bid": 4800, "yes_ask": 5200}
    many = [
        facts(1, forecast=forecast(6200, stderr=100), **quote),  # 8.25c vs 3 + 2 = 5c: +3c
        facts(2, forecast=forecast(6200, stderr=400), **quote),  # vs 3 + 8 = 11c: -2.75c
        facts(3, forecast=forecast(6200, stderr=None), **quote),  # unproven
        facts(4, forecast=forecast(9900, stderr=0), **quote),  # +44c: clamped to >= +10c
        facts(5, forecast=forecast(6200, stderr=0), yes_bid=0, yes_ask=5200),  # one-sided
    ]
    ex = explain("run-1", many, 300, UncertaintyRule())
    assert len(ex.edges) == 4
    assert (ex.cleared, ex.unproven) == (2, 1)
    histogram = dict(ex.histogram())
    assert histogram["+3c"] == 1
    assert histogram["-3c"] == 1  # -2.75c floors to -3c
    assert histogram[">= +10c"] == 1
    assert sum(histogram.values()) == 3
    text = "\n".join(explanation_lines(ex))
    assert "2 cleared, 1 below, 1 unproven (no stderr: no order placed)" in text
    assert ex.as_dict()["edges"]["below"] == 1
    # the unproven one: 8.2528c edge - 3c min_edge = +5c
    assert dict(ex.unproven_histogram())["+5c"] == 1
    assert "unproven: edge - min_edge, cents:" in text


def test_threshold_from_settings_and_without_the_validator() -> None:
    section = {
        "min_edge_cents": 4,
        "stderrs": 1.5,
        "missing_stderr": "assume",
        "assumed_stderr_cents": 2,
    }
    minimum, rule = threshold_from(section)
    assert (minimum, rule.stderrs, rule.missing, rule.assumed_stderr) == (
        400,
        Fraction(3, 2),
        "assume",
        200,
    )
    assert threshold_from({}) == (0, UncertaintyRule())


def test_the_command_tables_render_outcomes_and_both_histograms() -> None:
    quote = {"yes_bid": 4800, "yes_ask": 5200}
    many = [
        facts(1, rejection=Verdict.reject("spread", "spread $0.1500 is wider")),
        facts(2, forecast=forecast(6200, stderr=100), **quote),
        facts(3, forecast=forecast(6200, stderr=None), **quote),
    ]
    ex = explain("run-9", many, 300, UncertaintyRule())
    console = Console(record=True, width=160)
    console.print(outcomes_table(ex))
    console.print(edges_table(ex))
    text = console.export_text()
    assert "run run-9 (3 decisions)" in text
    assert "spread $0.1500 is wider" in text
    assert "1 cleared, 0 below, 1 unproven" in text
    assert "+3c" in text
    assert "+5c" in text

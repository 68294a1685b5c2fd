"""The min_edge validator: the edge after fees must clear min_edge + k standard errors."""

from __future__ import annotations

from typing import Any

import pytest

from kalshi_core.builtin import validators as v
from kalshi_core.errors import ConfigError
from tests.engine.builders import buy, context, forecast, market, unless_installed

# buy 10 YES at 50c: the taker fee is 18c for the order, 1.8c a contract (see the fee tests)


def test_edge_must_clear_k_stderrs() -> None:
    check = v.make_min_edge({"min_edge_cents": 3, "stderrs": 2})
    # P 0.60: edge 10c - 1.8c = 8.2c; required 3c + 2 x 2c = 7c -> trades
    assert check.validate_intent(buy(5000, 10), market(), forecast(6000, stderr=200), context())
    verdict = check.validate_intent(buy(5000, 10), market(), forecast(6000, stderr=300), context())
    # required 3c + 2 x 3c = 9c > 8.2c
    assert not verdict.accepted
    assert "edge $0.0820 per contract" in verdict.reason
    assert "below the required $0.0900 = minimum $0.0300 + 2 x stderr $0.0300" in verdict.reason


def test_a_missing_stderr_is_refused_by_default_and_says_so() -> None:
    check = v.make_min_edge({})
    verdict = check.validate_intent(buy(5000, 10), market(), forecast(9000, stderr=None), context())
    assert not verdict.accepted
    assert "carries no standard error" in verdict.reason
    assert "no order is placed" in verdict.reason


def test_a_missing_stderr_can_be_assumed() -> None:
    check = v.make_min_edge(
        {"min_edge_cents": 3, "missing_stderr": "assume", "assumed_stderr_cents": 2}
    )
    # required 3c + 2 x 2c = 7c against 8.2c
    ok = check.validate_intent(buy(5000, 10), market(), forecast(6000, stderr=None), context())
    assert ok.accepted
    strict = v.make_min_edge({"missing_stderr": "assume", "assumed_stderr_cents": 3})
    verdict = strict.validate_intent(
        buy(5000, 10), market(), forecast(6000, stderr=None), context()
    )
    assert "stderr $0.0300 (assumed)" in verdict.reason


def test_a_stderr_of_zero_is_taken_as_given() -> None:
    check = v.make_min_edge({"min_edge_cents": 3, "stderrs": 50})
    assert check.validate_intent(buy(5000, 10), market(), forecast(5600, stderr=0), context())


def test_k_of_zero_is_the_old_rule_and_a_huge_stderr_blocks_all() -> None:
    loose = v.make_min_edge({"stderrs": 0})
    assert loose.validate_intent(buy(5000, 10), market(), forecast(5600, stderr=5000), context())
    strict = v.make_min_edge({"stderrs": 1})
    # a forecast of certainty 1.0 with a stderr of a full dollar still cannot clear 1 x $1
    verdict = strict.validate_intent(
        buy(5000, 10), market(), forecast(10_000, stderr=10_000), context()
    )
    assert not verdict.accepted


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"missing_stderr": "guess"}, "missing_stderr 'guess' must be one of"),
        ({"stderrs": -1}, "stderrs must not be negative"),
        ({"assumed_stderr_cents": 0.001}, "assumed_stderr_cents 0.001 is finer than"),
    ],
)
def test_bad_settings_are_clear_errors(settings: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        v.make_min_edge(settings)


def test_rules_reject_a_bad_policy_at_start_up(kalshi_app_factory: Any) -> None:
    app = kalshi_app_factory(
        *unless_installed(v), settings={"validators.min_edge.missing_stderr": "maybe"}
    )
    problems = " ".join(str(p) for p in app.problems())
    assert "validators.min_edge.missing_stderr" in problems
    assert "'refuse'" in problems

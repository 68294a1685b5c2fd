"""Candidate-stage validators: accept and reject paths, with the numbers in the reasons."""

from __future__ import annotations

from datetime import timedelta

from kalshi_core.builtin import validators as v
from kalshi_core.money import CONTRACT, DOLLAR
from kalshi_core.protocols import AnalysisRecord, Validator
from tests.engine.builders import NOW, context, market, portfolio, position, positions


def test_ai_budget() -> None:
    check = v.make_ai_budget({"daily_budget_dollars": 5})
    assert isinstance(check, Validator)
    assert check.validate(market(), context(ai_spend_today=4 * DOLLAR)).accepted
    verdict = check.validate(market(), context(ai_spend_today=5 * DOLLAR))
    assert not verdict.accepted
    assert "$5.0000" in verdict.reason
    assert verdict.validator == "ai_budget"


def test_dedup_skips_recent_unmoved_markets() -> None:
    check = v.make_dedup({"min_interval_seconds": 900, "price_move_cents": 2})
    recent = {"KXTEST-25JUL01-A": AnalysisRecord(at=NOW - timedelta(seconds=300), price=4900)}
    verdict = check.validate(market(), context(last_analysis=recent))  # mid 50c, moved 1c
    assert not verdict.accepted
    assert "300s ago (< 900s)" in verdict.reason
    assert "$0.0100" in verdict.reason
    assert "$0.0200" in verdict.reason


def test_dedup_accepts_moved_old_or_new_markets() -> None:
    check = v.make_dedup({})
    moved = {"KXTEST-25JUL01-A": AnalysisRecord(at=NOW - timedelta(seconds=10), price=4700)}
    old = {"KXTEST-25JUL01-A": AnalysisRecord(at=NOW - timedelta(hours=1), price=5000)}
    assert check.validate(market(), context(last_analysis=moved)).accepted
    assert check.validate(market(), context(last_analysis=old)).accepted
    assert check.validate(market(), context()).accepted


def test_liquidity() -> None:
    check = v.make_liquidity({"min_volume": 10, "min_open_interest": 50, "min_volume_24h": 100})
    assert check.validate(market(), context()).accepted
    verdict = check.validate(market(open_interest=20 * CONTRACT), context())
    assert not verdict.accepted
    assert verdict.reason == "open_interest 20.00 contracts is below the minimum 50.00 contracts"


def test_categories_allow_deny_and_deny_wins() -> None:
    check = v.make_categories(
        {"allow_categories": ["Economics", "Crypto"], "deny_series": ["KXBAD"]}
    )
    ctx = context(category_of={"KXTEST": "Economics", "KXBAD": "Crypto", "KXSPORT": "Sports"})
    assert check.validate(market(), ctx).accepted
    denied = check.validate(market("KXBAD-25-A"), ctx)
    assert "series 'KXBAD' is on the deny list" in denied.reason
    outside = check.validate(market("KXSPORT-25-A"), ctx)
    assert not outside.accepted
    assert "'Sports' is not in the allow list" in outside.reason
    both = v.make_categories({"allow_series": ["KXTEST"], "deny_categories": ["economics"]})
    assert not both.validate(market(), ctx).accepted


def test_time_to_close_window() -> None:
    check = v.make_time_to_close({"min_seconds": 3600, "max_seconds": 86_400})
    assert check.validate(market(close_time=NOW + timedelta(hours=5)), context()).accepted
    soon = check.validate(market(close_time=NOW + timedelta(seconds=600)), context())
    assert "closes in 600s, under the minimum 3600s" in soon.reason
    late = check.validate(market(close_time=NOW + timedelta(days=3)), context())
    assert "over the maximum 86400s" in late.reason


def test_positions_cap_allows_held_markets() -> None:
    check = v.make_positions({"max_open_positions": 2})
    held = portfolio(
        positions=positions(position("KXTEST-25JUL01-A", 5, 5000), position("KXO-1-B", -3, 4000))
    )
    assert check.validate(market(), context(held)).accepted
    verdict = check.validate(market("KXNEW-1-A"), context(held))
    assert verdict.reason == "2 open positions, at the maximum 2"
    assert check.validate(market("KXNEW-1-A"), context()).accepted


def test_spread_candidate_stage() -> None:
    check = v.make_spread({"max_spread_cents": 5})
    assert check.validate(market(yes_bid=4800, yes_ask=5200), context()).accepted
    wide = check.validate(market(yes_bid=4000, yes_ask=5000), context())
    assert "spread $0.1000" in wide.reason
    assert "maximum $0.0500" in wide.reason
    empty = check.validate(market(yes_bid=0, yes_ask=5000), context())
    assert "one side of the book is empty" in empty.reason

"""A backtest's figures against cases worked out by hand (money in 1/10,000 dollar units)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pytest

from kalshi_core.backtest import metrics
from kalshi_core.backtest.records import (
    FillRecord,
    ForecastRecord,
    Mark,
    MarketInfo,
    RunRecords,
    SettlementRecord,
)
from kalshi_core.backtest.results import MIN_GROUPS, edge_wording, interval_of
from kalshi_core.stats import Interval, brier

T0 = datetime(2026, 1, 5, 15, tzinfo=UTC)
CENTS = 100  # money units per cent
CONTRACTS = 100  # count units per contract


def fill(
    ticker: str, *, bid: bool, contracts: int, cents: int, fee_cents: int, at: int = 0
) -> FillRecord:
    return FillRecord(
        ticker=ticker,
        bid=bid,
        count=contracts * CONTRACTS,
        yes_price=cents * CENTS,
        fee=fee_cents * CENTS,
        time=T0 + timedelta(hours=at),
        strategy="directional" if bid else "exits",
    )


def settled(
    ticker: str, result: str, *, yes: int = 0, no: int = 0, revenue_cents: int = 0, at: int = 6
) -> SettlementRecord:
    return SettlementRecord(
        ticker=ticker,
        result=result,
        yes_count=yes * CONTRACTS,
        no_count=no * CONTRACTS,
        revenue=revenue_cents * CENTS,
        time=T0 + timedelta(hours=at),
    )


def info(ticker: str, event: str, result: str = "yes") -> MarketInfo:
    return MarketInfo(
        ticker=ticker,
        event_ticker=event,
        series_ticker="KXTEST",
        category="Financials",
        close_time=T0 + timedelta(hours=6),
        result=result,
    )


def records(*, fills=(), settlements=(), marks=None, start_equity=1000 * 10_000, end=None):  # type: ignore[no-untyped-def]
    return RunRecords(
        run_id="r",
        start_equity=start_equity,
        fills=tuple(fills),
        settlements=tuple(settlements),
        markets={},
        marks=marks or {},
        start_time=T0,
        end_time=end,
    )


def test_a_yes_bought_and_settled_yes_makes_one_dollar_less_price_less_fee() -> None:
    # 10 YES at $0.40, fee $0.17; settles yes: 10 x (1.00 - 0.40) - 0.17 = $5.83
    bought = fill("A", bid=True, contracts=10, cents=40, fee_cents=17)
    assert metrics.fill_pnl(bought, 10_000) == 58_300


def test_a_partial_exit_then_settling_no_adds_up_by_cash_and_by_fill() -> None:
    # buy 10 YES at 40c (fee 17c), sell 4 at 55c (fee 7c), 6 left settle NO.
    # Cash: -4.00 + 2.20 - 0.24 + 0 = -$2.04. Per fill: -4.17 and +2.13.
    run = records(
        fills=[
            fill("A", bid=True, contracts=10, cents=40, fee_cents=17, at=1),
            fill("A", bid=False, contracts=4, cents=55, fee_cents=7, at=2),
        ],
        settlements=[settled("A", "no", yes=6)],
    )
    (market,) = metrics.market_pnls(run)
    assert market.pnl == -20_400
    assert market.fees == 2_400
    assert market.status == "settled"
    assert [f.pnl for f in metrics.fill_pnls(run)] == [-41_700, 21_300]


def test_a_position_closed_out_before_settlement_is_its_cash() -> None:
    # buy 10 YES at 40c (fee 17c), sell all 10 at 55c (fee 7c), no settlement: 1.50 - 0.24
    run = records(
        fills=[
            fill("F", bid=True, contracts=10, cents=40, fee_cents=17, at=1),
            fill("F", bid=False, contracts=10, cents=55, fee_cents=7, at=2),
        ]
    )
    (market,) = metrics.market_pnls(run)
    assert (market.status, market.pnl, market.position) == ("closed", 12_600, 0)
    assert market.resolved_time == T0 + timedelta(hours=2)


def test_buying_no_is_an_ask_at_the_yes_price_and_wins_when_no() -> None:
    # 5 NO at 30c (the book's ask at YES 70c), fee 8c; settles no: pays 5 x $1 for $1.50.
    run = records(
        fills=[fill("B", bid=False, contracts=5, cents=70, fee_cents=8)],
        settlements=[settled("B", "no", no=5, revenue_cents=500)],
    )
    (market,) = metrics.market_pnls(run)
    assert market.pnl == 3_50 * CENTS - 8 * CENTS


def test_an_open_position_is_marked_at_its_mark_and_reported_unrealised() -> None:
    # 10 YES at 40c (fee 17c), still open, last recorded price 55c: 10 x 0.15 - 0.17 = $1.33
    end = T0 + timedelta(hours=3)
    run = records(
        fills=[fill("C", bid=True, contracts=10, cents=40, fee_cents=17)],
        marks={"C": Mark(ticker="C", price=55 * CENTS, source="last recorded trade", time=end)},
        end=end,
    )
    (market,) = metrics.market_pnls(run)
    assert (market.status, market.pnl, market.position) == ("open", 13_300, 1_000)
    assert market.value_source == "marked at the last recorded trade"
    assert market.resolved_time == end


def test_an_open_position_without_any_price_is_held_at_cost() -> None:
    run = records(fills=[fill("D", bid=True, contracts=3, cents=20, fee_cents=4)])
    (market,) = metrics.market_pnls(run)
    assert market.pnl == -4 * CENTS  # only the fee
    assert "at cost" in market.value_source


@pytest.mark.parametrize(
    ("settlement", "payout"),
    [
        (settled("S", "yes", yes=10, revenue_cents=1000), 10_000),
        (settled("S", "no", no=10, revenue_cents=1000), 0),
        # scalar at 0.30: 10 YES receive $3.00; 10 NO would receive $7.00
        (settled("S", "scalar", yes=10, revenue_cents=300), 3_000),
        (settled("S", "scalar", no=10, revenue_cents=700), 3_000),
        # void: refunded at cost, 10 YES bought at 40c get $4.00 back
        (settled("S", "void", yes=10, revenue_cents=400), 4_000),
    ],
)
def test_the_yes_payout_follows_the_venues_revenue(
    settlement: SettlementRecord, payout: int
) -> None:
    assert metrics.yes_payout(settlement) == payout


def test_max_drawdown_takes_the_deepest_fall_and_its_recovery() -> None:
    hours = [T0 + timedelta(hours=h) for h in range(4)]
    found = metrics.max_drawdown(list(zip(hours, [100, 120, 90, 130], strict=True)), None)
    assert (found.amount, found.fraction) == (30, 0.25)
    assert (found.peak_time, found.trough_time, found.recovery_time) == tuple(hours[1:4])
    assert found.duration == timedelta(hours=2)


def test_a_drawdown_not_recovered_lasts_until_the_end() -> None:
    hours = [T0 + timedelta(hours=h) for h in range(6)]
    curve = list(zip(hours, [100, 120, 90, 110, 125, 80], strict=True))
    found = metrics.max_drawdown(curve, T0 + timedelta(hours=10))
    assert (found.amount, found.peak_time, found.recovery_time) == (45, hours[4], None)
    assert found.duration == timedelta(hours=6)


def test_no_losses_no_drawdown() -> None:
    hours = [T0 + timedelta(hours=h) for h in range(3)]
    assert metrics.max_drawdown(list(zip(hours, [1, 2, 3], strict=True)), None).amount == 0


def test_the_daily_path_drawdown_counts_from_the_start_by_hand() -> None:
    assert metrics.path_drawdown([-5, 10, -3, -4, 2]) == 7  # peak 5, trough -2
    assert metrics.path_drawdown([-5, 1]) == 5  # the start (0) is the first peak
    assert metrics.path_drawdown([3, 4]) == 0
    assert metrics.path_drawdown([]) == 0


def test_sharpe_and_sortino_of_three_days_by_hand() -> None:
    returns = [0.01, -0.01, 0.02]
    # mean 0.0066667, sample sd 0.0152753 -> 0.436436 a day, x sqrt(365)
    assert metrics.sharpe(returns) == pytest.approx(0.436436 * math.sqrt(365), rel=1e-5)
    # downside deviation sqrt(0.0001 / 3) = 0.0057735 -> 1.154701 a day
    assert metrics.sortino(returns) == pytest.approx(1.154701 * math.sqrt(365), rel=1e-5)
    assert math.isnan(metrics.sharpe([0.01]))
    assert math.isnan(metrics.sortino([0.01, 0.02]))  # no downside


def test_daily_returns_fill_quiet_days_and_compound() -> None:
    markets = [
        metrics.MarketPnl(
            ticker=t,
            event=t,
            pnl=p,
            fees=0,
            position=0,
            status="settled",
            resolved_time=T0 + timedelta(days=d),
            value=0,
            value_source="",
        )
        for t, p, d in (("A", 100, 0), ("B", -110, 2))
    ]
    days = metrics.daily_pnl(markets)
    assert days == [(date(2026, 1, 5), 100), (date(2026, 1, 6), 0), (date(2026, 1, 7), -110)]
    assert metrics.daily_returns(days, 1000) == [0.1, 0.0, -0.1]


def test_exposure_integrates_the_money_at_risk_over_the_run() -> None:
    # $4.00 at risk for the first hour of two; traded $4.00
    run = records(
        fills=[fill("A", bid=True, contracts=10, cents=40, fee_cents=0)],
        settlements=[settled("A", "yes", yes=10, revenue_cents=1000, at=1)],
        end=T0 + timedelta(hours=2),
    )
    found = metrics.exposure(run, metrics.market_pnls(run))
    assert (found.average, found.peak, found.traded) == (20_000, 40_000, 40_000)
    assert found.time_in_market == 0.5


def test_selling_part_of_a_position_frees_its_share_of_the_cost() -> None:
    holding = metrics._Holding()
    holding.fill(fill("A", bid=True, contracts=10, cents=40, fee_cents=0))
    holding.fill(fill("A", bid=False, contracts=4, cents=60, fee_cents=0))
    assert (holding.held, holding.cost) == (600, 24_000)
    holding.fill(fill("A", bid=False, contracts=8, cents=60, fee_cents=0))  # flips to 2 NO at 40c
    assert (holding.held, holding.cost) == (-200, 8_000)


def test_win_rate_and_profit_factor_over_markets() -> None:
    assert metrics.win_rate([5, -2, 3, 0]) == 0.5
    assert metrics.profit_factor([5, -2, 3]) == 4.0
    assert metrics.profit_factor([5, 3]) == math.inf
    assert metrics.capped_profit_factor([5]) == metrics.PROFIT_FACTOR_CAP


def test_brier_and_log_loss_against_the_market_baseline() -> None:
    markets = {"A": info("A", "E1", "yes"), "B": info("B", "E2", "no"), "C": info("C", "E3", "")}
    forecasts = [
        ForecastRecord(ticker="A", time=T0, probability=0.8, market_price=0.6),
        ForecastRecord(ticker="B", time=T0, probability=0.3, market_price=0.5),
        ForecastRecord(ticker="C", time=T0, probability=0.3, market_price=0.5),  # unresolved
        ForecastRecord(ticker="A", time=T0, probability=0.8, market_price=None),  # no price
    ]
    scored = metrics.scored_forecasts(forecasts, markets)
    assert [s.event for s in scored] == ["E1", "E2"]
    # forecasts: (0.04 + 0.09) / 2; market: (0.16 + 0.25) / 2
    assert metrics.mean_score(scored, brier) == pytest.approx(0.065)
    assert metrics.mean_score(scored, brier, market=True) == pytest.approx(0.205)
    assert metrics.score_difference(scored, brier) == pytest.approx(-0.14)
    assert metrics.log_loss(0.8, 1) == pytest.approx(-math.log(0.8))
    assert metrics.log_loss(0.0, 1) == pytest.approx(-math.log(metrics.LOG_LOSS_EPSILON))


def test_an_interval_needs_enough_groups() -> None:
    few = [(f"E{i}", 1.0) for i in range(MIN_GROUPS - 1)]
    enough = [(f"E{i}", float(i)) for i in range(MIN_GROUPS)]

    def total(rows: object) -> float:
        return sum(r[1] for r in rows)  # type: ignore[attr-defined]

    assert interval_of(few, total, lambda r: r[0], seed=0, resamples=200) is None
    found = interval_of(enough, total, lambda r: r[0], seed=0, resamples=200)
    assert found is not None
    assert found.groups == MIN_GROUPS


def test_a_difference_whose_interval_contains_zero_is_never_called_an_edge() -> None:
    straddling = Interval(estimate=0.5, low=-1.0, high=2.0, groups=9)
    above = Interval(estimate=3.0, low=1.0, high=5.0, groups=9)
    below = Interval(estimate=-3.0, low=-5.0, high=-1.0, groups=9)
    assert "no evidence of an edge" in edge_wording("net P&L", straddling)
    assert "an edge at" not in edge_wording("net P&L", straddling)
    assert "an edge at that level" in edge_wording("net P&L", above)
    assert "worse than no edge" in edge_wording("net P&L", below)
    # for a score, lower is better: an interval below zero is the edge
    assert "an edge at that level" in edge_wording("Brier", below, good="below")
    assert "no verdict" in edge_wording("net P&L", None)

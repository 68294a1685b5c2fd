"""JSON logs with the cycle's correlation id and the audit events; bounded metric labels;
the client's counters exported; the new settings validated."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client import generate_latest

from kalshi_core import signals
from kalshi_core.cache.stats import CacheStats
from kalshi_core.client.metrics import ClientMetrics
from kalshi_core.clock import ManualClock
from kalshi_core.models import Position
from kalshi_core.money import CONTRACT, DOLLAR
from kalshi_core.monitoring.cache_collector import CacheSource
from kalshi_core.monitoring.labels import OTHER, LabelCap
from kalshi_core.monitoring.logs import AuditLog, CycleCorrelation, configure_logging
from kalshi_core.monitoring.metrics import KalshiMetrics
from kalshi_core.protocols import Portfolio
from kalshi_core.settings import MASK, as_plain_dict, validate_settings


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    handler = configure_logging("INFO", "json", handler=logging.StreamHandler(stream))
    try:
        yield stream
    finally:
        root.removeHandler(handler)  # type: ignore[arg-type]
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


class _Engine:
    cycles = 7


class _Order:
    ticker = "KX-A"
    order_id = "o-1"
    client_order_id = "kc-1"


def test_json_lines_carry_the_cycle_id_and_audit_events(json_lines: io.StringIO) -> None:
    with CycleCorrelation("abcdef0123456789"), AuditLog():
        signals.cycle_started.send(_Engine())
        logging.getLogger("kalshi_core.engine").warning("inside")
        signals.order_placed.send(_Order(), reason="edge")
        signals.cycle_completed.send(_Engine())
        logging.getLogger("kalshi_core.engine").info("between")
    lines = [json.loads(line) for line in json_lines.getvalue().splitlines()]
    assert [(r["message"], r["cycle_id"]) for r in lines] == [
        ("inside", "abcdef012345-7"),
        ("order_placed: edge", "abcdef012345-7"),
        ("between", "-"),
    ]
    audit = lines[1]
    assert (audit["logger"], audit["level"], audit["event"]) == (
        "kalshi_core.audit",
        "INFO",
        "order_placed",
    )
    assert audit["payload"] == {
        "order_id": "o-1",
        "client_order_id": "kc-1",
        "ticker": "KX-A",
        "reason": "edge",
    }
    assert "time" in audit


def test_a_root_logger_configured_elsewhere_is_left_alone() -> None:
    root = logging.getLogger()
    foreign = logging.NullHandler()
    root.addHandler(foreign)
    try:
        assert configure_logging("INFO", "json") is None
        assert foreign in root.handlers
    finally:
        root.removeHandler(foreign)


def test_an_unknown_log_format_is_refused() -> None:
    with pytest.raises(ValueError, match=r"logging\.format 'xml'"):
        configure_logging("INFO", "xml", handler=logging.NullHandler())


def test_label_cap_keeps_the_first_values_and_folds_the_rest() -> None:
    cap = LabelCap(2)
    assert [cap(v) for v in ("a", "b", "c", "a", "d")] == ["a", "b", OTHER, "a", OTHER]
    assert cap.admitted == {"a", "b"}


def test_per_market_exposure_is_capped() -> None:
    metrics = KalshiMetrics(ManualClock(), ticker_cap=1)
    positions = {
        t: Position(ticker=t, position=CONTRACT, market_exposure=amount * DOLLAR)
        for t, amount in (("A", 1), ("B", 2), ("C", 3))
    }
    report = SimpleNamespace(
        markets=3, kill_switch=False, portfolio=Portfolio(cash=DOLLAR, positions=positions)
    )
    with metrics:
        signals.cycle_completed.send(object(), report=report)
    text = generate_latest(metrics.registry).decode()
    assert 'kalshi_market_exposure_dollars{ticker="A"} 1.0' in text
    assert 'kalshi_market_exposure_dollars{ticker="other"} 5.0' in text
    assert 'ticker="B"' not in text
    assert "kalshi_exposure_dollars 6.0" in text
    assert "kalshi_portfolio_value_dollars 7.0" in text


def test_client_counters_are_exported_with_histograms() -> None:
    client = ClientMetrics()
    client.record_call("GET /markets", 200, 0.02)
    client.record_call("GET /markets", 200, 0.3)
    client.record_call("POST /portfolio/orders", 503, 1.5)
    client.record_retry("POST /portfolio/orders", "503")
    client.record_rate_limit_wait(0.75)
    metrics = KalshiMetrics(ManualClock(), client=lambda: client)
    text = generate_latest(metrics.registry).decode()
    assert 'kalshi_api_calls_total{endpoint="GET /markets",status="200"} 2.0' in text
    assert 'kalshi_api_retries_total{endpoint="POST /portfolio/orders",reason="503"} 1.0' in text
    bucket = 'kalshi_api_request_duration_seconds_bucket{endpoint="GET /markets",le="0.025"} 1.0'
    assert bucket in text
    assert 'kalshi_api_request_duration_seconds_count{endpoint="GET /markets"} 2.0' in text
    assert "kalshi_api_rate_limit_wait_seconds_total 0.75" in text


def test_cache_counters_are_exported_by_kind_and_the_budget_ratio() -> None:
    stats = CacheStats()
    for hit in (True, False, True):
        stats.record("markets", hit=hit, seconds=0.25)
    stats.loads["markets"] += 1
    stats.fallbacks = 1
    metrics = KalshiMetrics(ManualClock(), cache=lambda: CacheSource("redis", stats))
    metrics.set_model_budget(10_000 * 4)  # $4
    with metrics:
        signals.ai_spend.send(object(), model="m", input_tokens=10, output_tokens=5, cost=10_000)
    text = generate_latest(metrics.registry).decode()
    assert 'kalshi_cache_requests_total{cache="redis",kind="markets",result="hit"} 2.0' in text
    assert 'kalshi_cache_requests_total{cache="redis",kind="markets",result="miss"} 1.0' in text
    assert 'kalshi_cache_loads_total{cache="redis",kind="markets"} 1.0' in text
    assert 'kalshi_cache_lookup_seconds_total{cache="redis",kind="markets"} 0.75' in text
    assert 'kalshi_cache_fallbacks_total{cache="redis"} 1.0' in text
    assert 'kalshi_model_tokens_total{direction="input",model="m"} 10.0' in text
    assert "kalshi_model_budget_used_ratio 0.25" in text


@pytest.mark.parametrize(
    ("key", "bad"),
    [
        ("monitoring.port", 70000),
        ("logging.format", "xml"),
        ("anomalies.drawdown.halt", "panic"),
        ("alerts.min_severity", "loud"),
        ("anomalies.drawdown.max_fraction", 0),
    ],
)
def test_bad_monitoring_settings_are_reported_by_key(
    kalshi_app_factory: Any, key: str, bad: object
) -> None:
    app = kalshi_app_factory(settings={key: bad})
    problems = validate_settings(app.settings, app.rules)
    assert [p.key for p in problems] == [key]


def test_the_shipped_settings_are_valid(kalshi_app_factory: Any) -> None:
    app = kalshi_app_factory()
    assert validate_settings(app.settings, app.rules) == []
    assert app.section("monitoring")["host"] == "127.0.0.1"


def test_alerter_secrets_are_masked_in_config_show(kalshi_app_factory: Any) -> None:
    app = kalshi_app_factory(
        settings={
            "alerters.slack.webhook_url": "http://127.0.0.1:1/services/T/B/SECRET",
            "alerters.telegram.bot_token": "123:SECRET",
            "alerters.email.password": "SECRET",
        }
    )
    shown = as_plain_dict(app.settings, app.rules)
    assert "SECRET" not in json.dumps(shown)
    assert shown["alerters"]["slack"]["webhook_url"] == MASK


def test_each_label_has_its_own_cap() -> None:
    metrics = KalshiMetrics(ManualClock(), label_cap=1)
    with metrics:
        for model in ("m1", "m2"):
            signals.ai_spend.send(object(), model=model, input_tokens=1, output_tokens=1, cost=1)
    metrics.record_error("order_unknown")
    text = generate_latest(metrics.registry).decode()
    assert 'kalshi_model_calls_total{model="m1"} 1.0' in text
    assert 'kalshi_model_calls_total{model="other"} 1.0' in text
    assert 'kalshi_errors_total{kind="order_unknown"} 1.0' in text  # not crowded out by models


def test_a_skipped_cycle_counts_as_an_error_not_a_cycle() -> None:
    metrics = KalshiMetrics(ManualClock())
    with metrics:
        signals.cycle_started.send(object())
        signals.cycle_failed.send(object(), error="GET /markets failed")
    text = generate_latest(metrics.registry).decode()
    assert 'kalshi_errors_total{kind="cycle_failed"} 1.0' in text
    assert "kalshi_cycles_total 0.0" in text
    assert "kalshi_cycle_duration_seconds_count 0.0" in text


def test_unrealised_pnl_marks_yes_and_no_positions_at_the_mid() -> None:
    """10 YES bought for $4.00 marked at 55 c: +$1.50; 5 NO bought for $2.00 marked at YES
    70 c (NO 30 c): -$0.50; a held market without a mark counts at cost."""
    positions = {
        "A": Position(ticker="A", position=10 * CONTRACT, market_exposure=4 * DOLLAR),
        "B": Position(ticker="B", position=-5 * CONTRACT, market_exposure=2 * DOLLAR),
        "C": Position(ticker="C", position=3 * CONTRACT, market_exposure=1 * DOLLAR),
    }
    portfolio = Portfolio(cash=0, positions=positions, marks={"A": 5500, "B": 7000})
    assert portfolio.unrealized_pnl == DOLLAR
    metrics = KalshiMetrics(ManualClock())
    report = SimpleNamespace(markets=3, kill_switch=False, portfolio=portfolio)
    with metrics:
        signals.cycle_completed.send(object(), report=report)
    text = generate_latest(metrics.registry).decode()
    assert "kalshi_unrealized_pnl_dollars 1.0" in text

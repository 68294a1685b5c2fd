"""The printed table of ``bench_cycle.py``: per-cycle calls, step times, latencies, references."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs
from cycle_exchange import ExchangeInfo
from cycle_timing import PHASES, CycleResult, is_write

from kalshi_core.app import App

CALLS_TARGET = 10
P99_TARGET_MS = 2.0
LABEL = 44
COLUMN = 11


@attrs.frozen(kw_only=True)
class References:
    """Same-run yardsticks: what the engine's steps cannot go below on this machine."""

    list_seconds: float
    list_calls: int
    convert_seconds: float
    validator_total_seconds: float
    validator_per_market: list[float]
    transaction_seconds: float


def quantile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _row(label: str, cells: Sequence[str], note: str = "") -> str:
    body = "".join(f"{cell:>{COLUMN}}" for cell in cells)
    return f"{label:<{LABEL}}{body}  {note}".rstrip()


def _rows(
    results: Sequence[CycleResult], rows: Sequence[tuple[str, Callable[[CycleResult], str]]]
) -> list[str]:
    return [_row(f"  {label}", [cell(r) for r in results]) for label, cell in rows]


def _header(results: Sequence[CycleResult]) -> list[str]:
    numbers = [f"cycle {r.report.number}" for r in results]
    kinds = ["(warm-up)"] + ["(steady)"] * (len(results) - 1)
    return [_row("", numbers), _row("", kinds)]


def _activity(results: Sequence[CycleResult]) -> list[str]:
    rows: list[tuple[str, Callable[[CycleResult], str]]] = [
        ("markets ingested", lambda r: f"{r.report.markets:,}"),
        ("candidates (passed the screens)", lambda r: f"{r.report.candidates:,}"),
        ("forecasts", lambda r: f"{r.report.forecasts:,}"),
        ("order intents", lambda r: f"{r.report.intents:,}"),
        ("orders placed", lambda r: f"{r.report.placed:,}"),
        ("fills reconciled", lambda r: f"{r.report.fills:,}"),
        ("decision rows stored", lambda r: f"{r.decisions_stored:,}"),
    ]
    return ["what the cycle did", *_rows(results, rows)]


def _reads(result: CycleResult) -> int:
    return sum(n for endpoint, n in result.calls.items() if not is_write(endpoint))


def _calls(results: Sequence[CycleResult]) -> list[str]:
    endpoints = sorted({e for r in results for e in r.calls}, key=lambda e: (is_write(e), e))
    lines = ["API calls (client.metrics, diff per cycle)"]
    lines += [_row(f"  {e}", [str(r.calls.get(e, 0)) for r in results]) for e in endpoints]
    return lines + _call_totals(results)


def _call_totals(results: Sequence[CycleResult]) -> list[str]:
    """Reads, writes and all calls per cycle, against the steady-state target."""
    lines = []
    steady = results[1:]
    reads = max(_reads(r) for r in steady)
    total = max(sum(r.calls.values()) for r in steady)
    read_note = f"steady max {reads}: {'PASS' if reads <= CALLS_TARGET else 'FAIL'}"
    total_note = f"steady max {total}: {'PASS' if total <= CALLS_TARGET else 'FAIL'}"
    lines.append(_row("  reads", [str(_reads(r)) for r in results], read_note))
    writes = [str(sum(r.calls.values()) - _reads(r)) for r in results]
    lines.append(_row("  writes (orders placed / cancelled)", writes))
    totals = [str(sum(r.calls.values())) for r in results]
    lines.append(_row(f"  total (target <= {CALLS_TARGET} in steady state)", totals, total_note))
    waits = [f"{r.rate_limit_wait * 1e3:,.0f}" for r in results]
    lines.append(_row("  rate-limit wait inside the cycle (ms)", waits))
    return lines


def _times(results: Sequence[CycleResult]) -> list[str]:
    lines = ["cycle time (ms, wall)"]
    for phase in PHASES:
        lines.append(_row(f"  {phase}", [f"{r.phases.get(phase, 0) * 1e3:,.1f}" for r in results]))
    other = [r.seconds - sum(r.phases.values()) for r in results]
    lines.append(_row("  other (context, signals, report)", [f"{s * 1e3:,.1f}" for s in other]))
    lines.append(_row("  total", [f"{r.seconds * 1e3:,.1f}" for r in results]))
    paused = [f"{r.gc_pauses[0] * 1e3:,.1f}" for r in results]
    lines.append(_row("  of which GC pauses (all steps)", paused))
    lines.append(_row("  longest GC pause", [f"{r.gc_pauses[1] * 1e3:,.1f}" for r in results]))
    lines.append(_row("  GC collections", [str(r.gc_pauses[2]) for r in results]))
    return lines


def _micros(values: Sequence[float], q: float) -> str:
    return f"{quantile(values, q) * 1e6:,.0f}" if values else "-"


def _latency(results: Sequence[CycleResult]) -> list[str]:
    rows: list[tuple[str, Callable[[CycleResult], str]]] = [
        ("all markets p50", lambda r: _micros(r.latencies.pipeline, 0.5)),
        ("all markets p99", lambda r: _micros(r.latencies.pipeline, 0.99)),
        ("all markets max", lambda r: _micros(r.latencies.pipeline, 1.0)),
        ("screened out: count", lambda r: f"{len(r.latencies.screened_out):,}"),
        ("screened out: p50", lambda r: _micros(r.latencies.screened_out, 0.5)),
        ("screened out: p99", lambda r: _micros(r.latencies.screened_out, 0.99)),
        ("analysed: count", lambda r: f"{len(r.latencies.analysed):,}"),
        ("analysed: p50", lambda r: _micros(r.latencies.analysed, 0.5)),
        ("analysed: p99", lambda r: _micros(r.latencies.analysed, 0.99)),
        ("forecaster await (excluded): p50", lambda r: _micros(r.latencies.forecast, 0.5)),
        ("forecaster await (excluded): p99", lambda r: _micros(r.latencies.forecast, 0.99)),
    ]
    title = "per-market pipeline latency, excluding the forecaster's await (us)"
    pooled = [
        _verdict(
            "all markets, all cycles pooled", [s for r in results for s in r.latencies.pipeline]
        ),
        _verdict(
            "analysed markets only (pooled)", [s for r in results for s in r.latencies.analysed]
        ),
    ]
    return [title, *_rows(results, rows), *pooled]


def _verdict(label: str, samples: Sequence[float]) -> str:
    if not samples:
        return f"  {label}: no samples"
    p99 = quantile(samples, 0.99) * 1e3
    verdict = "PASS" if p99 < P99_TARGET_MS else "FAIL"
    return f"  {label}: p99 {p99:.3f} ms; target < {P99_TARGET_MS:g} ms: {verdict}"


def _references(refs: References, markets: int) -> list[str]:
    per = refs.validator_per_market
    return [
        "reference (same machine, same run)",
        f"  list {markets:,} open markets through the client ({refs.list_calls} calls, best of 3):"
        f" {refs.list_seconds * 1e3:,.1f} ms  <- the floor for 'ingest: list markets'",
        f"    of which JSON -> Market conversion (cattrs, no HTTP): "
        f"{refs.convert_seconds * 1e3:,.1f} ms",
        f"  one candidate-stage validator pass over {markets:,} markets, pure Python: "
        f"{refs.validator_total_seconds * 1e3:,.1f} ms "
        f"(per market p50 {_micros(per, 0.5)} us, p99 {_micros(per, 0.99)} us)",
        f"  one empty SQLite write transaction (median of 200): "
        f"{refs.transaction_seconds * 1e6:,.0f} us  <- 'store' costs at least this per row",
    ]


def _setup(app: App, info: ExchangeInfo) -> list[str]:
    settings = app.settings
    tier = app.section("kalshi").get("rate_limit_tier", "basic")
    return [
        f"engine cycle over {info.markets:,} open markets in {info.events:,} events; local "
        f"exchange (no replay, separate process) at {info.base_url}",
        f"validators: {', '.join(settings.pipeline.validators)}",
        f"forecasters: {', '.join(settings.forecast.models)}; "
        f"strategies: {', '.join(settings.strategies.enabled)}; "
        f"max_concurrency {settings.pipeline.max_concurrency}; rate-limit tier {tier}; "
        "SQLite in a temp dir",
    ]


METHOD = (
    "method: wall time (time.perf_counter). Each step is timed by a subclass that wraps the",
    "engine's own method (run_cycle itself is unchanged). Pipeline latency per market = time",
    "of Pipeline.screen (+ Pipeline.analyse for a candidate) minus the time spent awaiting",
    "the forecasters (a pass-through shim adds it to a per-task context variable); it covers",
    "the candidate validators, strategies, intent validators and signals, not the wait for a",
    "turn under pipeline.max_concurrency. The exchange runs in its own process, so its CPU is not",
    "in the engine's figures except as time waiting for HTTP responses. GC pauses are",
    "measured with gc.callbacks; a pause that lands inside one market's decide shows up in",
    "that market's latency (the tail of p99 and max).",
)


def print_report(
    app: App, info: ExchangeInfo, results: Sequence[CycleResult], refs: References
) -> None:
    sections = [
        _setup(app, info),
        _header(results) + _activity(results),
        _calls(results),
        _times(results),
        _latency(results),
        _references(refs, info.markets),
        list(METHOD),
    ]
    for lines in sections:
        print("\n".join(lines))
        print()

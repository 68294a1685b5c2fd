"""kalshi-core's backtest beside nautilus_trader and backtrader: same trades, same rule, one run.

Run: ``python benchmarks/bench_backtest_peers.py [--from 2026-01-05T00:00:00Z]
[--to 2026-01-09T00:00:00Z] [--nautilus-python /tmp/nt-venv/bin/python]
[--backtrader-python PYTHON (default: the nautilus one)] [--cycle-seconds 120]
[--breakdown]``

The peers are benchmark-only, never dependencies of kalshi-core. nautilus_trader 1.231 needs
Python >= 3.12, so it gets a venv of its own (backtrader can share it)::

    python3.12 -m venv /tmp/nt-venv
    /tmp/nt-venv/bin/pip install 'nautilus_trader==1.231.*' backtrader

A peer whose interpreter or package is missing is skipped with a message.

The data: the bundled ``kxinxu`` trades in ``[--from, --to)`` (the default window is four
trading days, 22 markets). The rule (``peer_threshold.py`` for kalshi-core, ``peer_trades.py``
for the peers): per market, flat and the last trade under $0.20, buy 1 YES contract; holding
and the last trade over $0.30, sell it.

* **kalshi-core**: ``run_backtest`` on the in-process ``simulated`` venue with the rule as an
  installed strategy plugin (``peer_threshold``), the default settings otherwise: every
  ``run.cycle_seconds`` of recorded time (``--cycle-seconds``, default 120 as in the
  settings) a full engine cycle (reconcile with the venue, candidate validators, the
  ``calibrated`` forecaster, the strategy, risk checks, execution) and every decision, order,
  fill and audit event stored in SQLite. The ``min_edge`` intent validator is left out (the
  rule claims no forecast edge) and ``time_to_close`` lets the last hour through (the peers
  trade to the close). Its events are the replay's ``events_applied`` (trades plus market
  open/close events).
* **nautilus_trader**: a ``BacktestEngine`` with one ``BinaryOption`` (price precision 2) per
  market, the trades as ``TradeTick`` data, a ``Strategy`` acting on every tick with market
  orders; matching on the L1 book built from the trades. Logging bypassed.
* **backtrader**: one data feed per market, each trade a one-print bar, a ``Strategy`` acting
  on each market's new print with market orders (filled at that market's next print).

``--breakdown`` also prints where kalshi-core's cycles spend their time, step by step
(``replay_breakdown.py``'s timers around the engine's steps; they add a little to its row).

kalshi-core's wall time is all of ``run_backtest`` (settings, plugins, loading the history,
migrating the SQLite file, the replay). A peer's is its run alone (``engine.run()``,
``cerebro.run()``); building its ticks or feeds from the parsed trades is the ``load`` column,
and reading the file is in no row.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import attrs
import replay_breakdown
from rich.console import Console
from rich.table import Table

from kalshi_core.backtest.runner import BacktestSpec, run_backtest
from kalshi_core.builtin.backtest_command import replay_progress
from kalshi_core.engine.session import Tally
from kalshi_core.exchange.local import BUNDLED_HISTORY
from kalshi_core.venues.base import VenueRun

HERE = Path(__file__).resolve().parent
DATA_SET = "kxinxu"
PLUGIN = "peer_threshold"
VALIDATORS = [  # the defaults less min_edge: the rule claims no forecast edge
    "market_status", "ai_budget", "dedup", "liquidity", "time_to_close", "positions",
    "spread", "exposure", "cash_reserve",
]  # fmt: skip
PER_EVENT = {
    "kalshi-core": "full engine cycle every cycle_seconds: validators, forecaster, risk, "
    "execution on the simulated venue, every row stored in SQLite",
    "nautilus_trader": "matching (L1 from trades) + strategy on every tick",
    "backtrader": "bar per print, broker matching + strategy on every print",
}


@attrs.frozen
class Row:
    engine: str
    events: int
    wall: float
    load: float | None
    orders: int
    fills: int
    cycles: int = 0

    @property
    def rate(self) -> float:
        return self.events / self.wall if self.wall else 0.0


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def install_plugin(site: Path) -> None:
    """Make ``peer_threshold.py`` an installed kalshi_core plugin: a dist-info with its entry
    point, found on ``sys.path`` like any installed distribution."""
    info = site / "peer_threshold-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: peer-threshold\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[kalshi_core]\n{PLUGIN} = peer_threshold\n")
    sys.path[:0] = [str(site), str(HERE)]
    os.environ["KALSHI_LOAD_PLUGINS"] = f"builtin,{PLUGIN}"


def kalshi_core_row(start: datetime, end: datetime, folder: Path, cycle_seconds: float) -> Row:
    applied = [0]

    def on_cycle(tally: Tally, venue: VenueRun) -> None:
        found = replay_progress(venue)
        applied[0] = found[0] if found else applied[0]

    spec = BacktestSpec(
        database_url=f"sqlite+aiosqlite:///{folder / 'bench.sqlite3'}",
        data_dir=str(BUNDLED_HISTORY),
        data_sets=(DATA_SET,),
        start=start,
        end=end,
        strategies=(PLUGIN,),
        overrides={
            "pipeline.validators": VALIDATORS,
            "validators.time_to_close.min_seconds": 0,
            "run.cycle_seconds": cycle_seconds,
        },
    )
    began = time.perf_counter()
    run = asyncio.run(run_backtest(spec, on_cycle=on_cycle))
    wall = time.perf_counter() - began
    report = run.report
    placed, stored = report.orders_placed, report.fills_stored
    return Row("kalshi-core", applied[0], wall, None, placed, stored, report.cycles)


def peer_row(engine: str, python: str, start: str, end: str) -> Row | str:
    """One peer in its own interpreter; a reason string when it cannot run."""
    if not Path(python).exists():
        return f"{engine}: skipped, no interpreter at {python}"
    trades = BUNDLED_HISTORY / DATA_SET / "trades.jsonl.gz"
    command = [python, str(HERE / f"peer_{engine}.py"), str(trades), start, end]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        reason = done.stderr.strip().splitlines()[-1:] or ["no output"]
        return f"{engine}: skipped, exit {done.returncode}: {reason[0]}"
    out = json.loads(done.stdout.strip().splitlines()[-1])
    name = "nautilus_trader" if engine == "nautilus" else engine
    return Row(name, out["events"], out["run"], out["load"], out["orders"], out["fills"])


def table(rows: list[Row], title: str) -> Table:
    base = rows[0].rate
    grid = Table(title=title)
    for column in ("engine", "events", "wall s", "load s", "events/s", "ratio"):
        grid.add_column(column, justify="left" if column == "engine" else "right", no_wrap=True)
    grid.add_column("orders / fills", justify="right")
    for row in rows:
        load = "-" if row.load is None else f"{row.load:.3f}"
        grid.add_row(
            row.engine, f"{row.events:,}", f"{row.wall:.2f}", load, f"{row.rate:,.0f}",
            f"{row.rate / base:,.1f}x", f"{row.orders} / {row.fills}",
        )  # fmt: skip
    return grid


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--from", dest="start", default="2026-01-05T00:00:00Z")
    parser.add_argument("--to", dest="end", default="2026-01-09T00:00:00Z")
    parser.add_argument("--nautilus-python", default="/tmp/nt-venv/bin/python")
    parser.add_argument("--backtrader-python", default="", help="default: --nautilus-python")
    parser.add_argument(
        "--cycle-seconds", type=float, default=120.0, help="kalshi-core's run.cycle_seconds"
    )
    parser.add_argument("--breakdown", action="store_true", help="kalshi-core's time by step")
    args = parser.parse_args()
    console = Console()
    if args.breakdown:
        replay_breakdown.instrument()
    with tempfile.TemporaryDirectory(prefix="kalshi-peers-") as temp:
        install_plugin(Path(temp))
        window = (when(args.start), when(args.end))
        rows: list[Row] = [kalshi_core_row(*window, Path(temp), args.cycle_seconds)]
    if args.breakdown:
        replay_breakdown.report(rows[0].cycles)
    backtrader = args.backtrader_python or args.nautilus_python
    peers = (("nautilus", args.nautilus_python), ("backtrader", backtrader))
    for engine, python in peers:
        found = peer_row(engine, python, args.start, args.end)
        if isinstance(found, str):
            console.print(found)
        else:
            rows.append(found)
    console.print(table(rows, f"{DATA_SET} trades {args.start} .. {args.end}"))
    console.print(f"ratio: events/s over kalshi-core's; kalshi-core ran {rows[0].cycles:,} cycles")
    for row in rows:
        console.print(f"{row.engine}: {PER_EVENT[row.engine]}")


if __name__ == "__main__":
    main()

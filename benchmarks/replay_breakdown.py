"""Where a cycle of `kalshi-core run` spends its time, step by step, on the bundled replay.

Run: ``python benchmarks/replay_breakdown.py [--cycles 1000] [--venue simulated|paper]``
(``PYTHONPATH=/another/checkout`` measures that tree's code the same way).

The steps ``Engine.run_cycle`` awaits are wrapped, unchanged, with a timer that adds each
call's wall time and process CPU time (every thread of the process: the SQLite driver's
worker thread too) to the step's total; the run itself is the real command in this process,
on a temporary SQLite file. Printed per cycle, slowest step first. The steps do not overlap;
``other`` is the rest of ``run_cycle`` (risk, quotes, signals, the event loop's own work).
"""

from __future__ import annotations

import argparse
import functools
import inspect
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kalshi_core.cache.gateway import CachingGateway
from kalshi_core.cli import main as cli
from kalshi_core.engine.audit import AuditTrail
from kalshi_core.engine.cycle import Engine
from kalshi_core.engine.execution import Executor
from kalshi_core.engine.reconcile import Reconciler

WALL: defaultdict[str, float] = defaultdict(float)
CPU: defaultdict[str, float] = defaultdict(float)


def timed(owner: type, name: str, label: str) -> None:
    """Wrap the coroutine method ``owner.name`` so its calls add to ``label``'s totals."""
    original: Callable[..., Any] | None = getattr(owner, name, None)
    if original is None or not inspect.iscoroutinefunction(original):
        return  # not a step of this checkout's code (another revision on PYTHONPATH)

    @functools.wraps(original)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return await original(*args, **kwargs)
        finally:
            WALL[label] += time.perf_counter() - wall
            CPU[label] += time.process_time() - cpu

    setattr(owner, name, wrapper)


def instrument() -> None:
    timed(Engine, "run_cycle", "cycle")
    timed(CachingGateway, "open_markets", "list open markets")
    timed(Reconciler, "tickers_to_settle", "read stored open orders")
    timed(Engine, "_claim", "claim leases")
    timed(Reconciler, "reconcile", "reconcile (venue reads + stores)")
    timed(Engine, "_learn_series", "series terms")
    timed(Engine, "_spent_today", "read AI spend today")
    timed(Engine, "_with_day_start", "store daily P&L")
    timed(Engine, "_decide_all", "decide (pipeline)")
    timed(Executor, "execute", "execute orders")
    if hasattr(Engine, "_store_cycle"):  # one transaction for what the cycle stores
        timed(Engine, "_store_cycle", "store the cycle (one transaction)")
        return
    timed(Engine, "_store", "store decisions")
    timed(AuditTrail, "flush", "store audit events")


def report(cycles: int) -> None:
    print(f"\n{'step':<34} {'wall ms':>8} {'cpu ms':>8}   (per cycle, {cycles} cycles)")
    steps = {k: v for k, v in WALL.items() if k != "cycle"}
    for label in sorted(steps, key=lambda k: -WALL[k]):
        print(f"{label:<34} {1000 * WALL[label] / cycles:8.2f} {1000 * CPU[label] / cycles:8.2f}")
    other_wall = WALL["cycle"] - sum(steps.values())
    other_cpu = CPU["cycle"] - sum(CPU[k] for k in steps)
    print(f"{'other':<34} {1000 * other_wall / cycles:8.2f} {1000 * other_cpu / cycles:8.2f}")
    whole = (1000 * WALL["cycle"] / cycles, 1000 * CPU["cycle"] / cycles)
    print(f"{'whole cycle':<34} {whole[0]:8.2f} {whole[1]:8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument("--venue", default="simulated", choices=("simulated", "paper"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kalshi-breakdown-") as temp:
        os.environ.update(
            KALSHI_LOAD_PLUGINS="builtin",
            KALSHI_DATABASE__URL=f"sqlite+aiosqlite:///{Path(temp) / 'run.sqlite3'}",
            XDG_DATA_HOME=str(Path(temp) / "data"),
            KALSHI_RUN__VENUE=args.venue,
        )
        instrument()
        try:
            cli(["run", "--cycles", str(args.cycles)])
        except SystemExit as done:
            if done.code:
                raise
        finally:
            sys.stdout.flush()
            report(args.cycles)


if __name__ == "__main__":
    main()

"""The full bundled replay through `kalshi-core run`: today's engine on simulated time, beside
the wall-clock replay it replaced, in one run.

Run: ``python benchmarks/bench_full_replay.py [--reference-rev 49e9156] [--skip-reference]``

Each row is one `kalshi-core run` to the end of the bundled history (no --cycles), in its own
temporary data folder and SQLite file, timed with ``time.perf_counter`` (wall) and the child's
CPU time (``resource.getrusage``):

* ``paper`` — the default: the local exchange over HTTP, stepped simulated time;
* ``simulated`` — the same venue in-process, no HTTP;
* ``reference`` — the code at ``--reference-rev`` (the last revision on the wall-clock
  ``ReplayClock`` with the client's basic-tier rate limit), checked out with ``git worktree``
  and run from that tree. Its cycles are whatever the wall clock gave it.

The closing lines of each run's report (cycles, orders, fills, P&L) are printed beside the
times, so a faster run that did less work shows it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import attrs

ROOT = Path(__file__).resolve().parent.parent
KEEP = ("stopped:", "cycles:", "orders placed:", "fills:", "equity:")


@attrs.frozen
class Timing:
    name: str
    wall: float
    cpu: float
    report: tuple[str, ...]


def environment(folder: Path, **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith("KALSHI_")}
    return {
        **keep,
        "KALSHI_LOAD_PLUGINS": "builtin",
        "KALSHI_DATABASE__URL": f"sqlite+aiosqlite:///{folder / 'run.sqlite3'}",
        "XDG_DATA_HOME": str(folder / "data"),
        "PYTHONHASHSEED": "0",
        **extra,
    }


def timed_run(name: str, env: dict[str, str]) -> Timing:
    """One `kalshi-core run` to the end of the history, in a child process."""
    command = [sys.executable, "-c", "from kalshi_core.cli import main; main()", "run"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"{name}: exit {done.returncode}\n{done.stderr[-2000:]}")
    lines = tuple(line for line in done.stdout.splitlines() if line.startswith(KEEP))
    return Timing(name, wall, cpu, lines)


@contextlib.contextmanager
def reference_tree(revision: str) -> Iterator[Path]:
    """The project at ``revision`` in a temporary git worktree."""
    with tempfile.TemporaryDirectory(prefix="kalshi-ref-") as temp:
        tree = Path(temp) / "tree"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), revision],
            check=True,
            capture_output=True,
        )
        try:
            yield tree
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                check=False,
                capture_output=True,
            )


def measure(args: argparse.Namespace) -> list[Timing]:
    timings = []
    for venue in ("paper", "simulated"):
        with tempfile.TemporaryDirectory(prefix="kalshi-bench-") as temp:
            env = environment(Path(temp), KALSHI_RUN__VENUE=venue)
            timings.append(timed_run(venue, env))
    if not args.skip_reference:
        with reference_tree(args.reference_rev) as tree, tempfile.TemporaryDirectory() as temp:
            env = environment(Path(temp), PYTHONPATH=str(tree))
            timings.append(timed_run(f"reference {args.reference_rev}", env))
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--reference-rev", default="49e9156", help="the wall-clock revision")
    parser.add_argument("--skip-reference", action="store_true", help="only today's paths")
    timings = measure(parser.parse_args())
    reference = timings[-1].wall
    print(f"{'path':<22} {'wall s':>8} {'cpu s':>8} {'vs last':>8}")
    for timing in timings:
        print(
            f"{timing.name:<22} {timing.wall:8.1f} {timing.cpu:8.1f} {timing.wall / reference:8.2f}"
        )
        for line in timing.report:
            print(f"    {line}")


if __name__ == "__main__":
    main()

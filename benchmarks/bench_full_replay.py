"""The full bundled replay through `kalshi-core run`: today's engine on simulated time, beside
the wall-clock replay it replaced, in one run.

Run: ``python benchmarks/bench_full_replay.py [--reference-rev 49e9156] [--skip-reference]
[--parallel] [--cycle-seconds 120,1800]``; before/after a change: ``--reference-rev main
--reference-venues [--venues simulated] [--cycles N] [--keep DIR]`` runs the same venues on
both trees. ``--cycle-seconds`` sets ``run.cycle_seconds`` of this checkout's rows (one row
per value): the reference's wall clock gave it about one cycle per 30 recorded minutes, so
1800 compares equal work and the default 120 the configured cadence (15x the cycles).

Each row is one `kalshi-core run` to the end of the bundled history (no --cycles), in its own
temporary data folder and SQLite file, timed with ``time.perf_counter`` (wall) and the child's
own CPU time (``os.wait4``). ``--parallel`` runs the rows at the same time: on a machine
already busy with other work each row then gets about the same share of it, and the whole
measurement takes as long as its slowest row.

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
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
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


def timed_run(name: str, env: dict[str, str], folder: Path, cycles: int | None = None) -> Timing:
    """One `kalshi-core run` to the end of the history, in a child process working in
    ``folder`` (``python -c`` puts its working directory first on ``sys.path``: from this
    checkout, the reference row would import this checkout's code); its CPU time is its own
    (``os.wait4``), so rows may run at the same time."""
    command = [sys.executable, "-c", "from kalshi_core.cli import main; main()", "run"]
    command += ["--cycles", str(cycles)] if cycles else []
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, env=env, cwd=folder, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            raise SystemExit(f"{name}: exit {child.returncode}\n{err.read()[-2000:]}")
        lines = tuple(line for line in out.read().splitlines() if line.startswith(KEEP))
    return Timing(name, wall, usage.ru_utime + usage.ru_stime, lines)


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


def keep_database(folder: Path, keep: Path | None, name: str) -> None:
    """Copy the run's SQLite file to ``keep`` (to compare two rows' stored rows)."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        shutil.copy(folder / "run.sqlite3", keep / f"{name.replace(' ', '-')}.sqlite3")


def venue_row(venue: str, cadence: str, cycles: int | None, keep: Path | None) -> Timing:
    """This checkout on ``venue``; ``cadence`` is ``run.cycle_seconds`` ("" = the default)."""
    cadence_setting = {"KALSHI_RUN__CYCLE_SECONDS": cadence} if cadence else {}
    name = f"{venue} every {cadence} s" if cadence else venue
    with tempfile.TemporaryDirectory(prefix="kalshi-bench-") as temp:
        folder = Path(temp)
        env = environment(folder, KALSHI_RUN__VENUE=venue, **cadence_setting)
        timing = timed_run(name, env, folder, cycles)
        keep_database(folder, keep, name)
        return timing


def reference_row(
    revision: str, venue: str | None, cycles: int | None, keep: Path | None
) -> Timing:
    """The code at ``revision`` (its default venue unless ``venue`` is given)."""
    with reference_tree(revision) as tree, tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        venue_setting = {"KALSHI_RUN__VENUE": venue} if venue else {}
        env = environment(folder, PYTHONPATH=str(tree), **venue_setting)
        name = f"{revision} {venue}" if venue else f"reference {revision}"
        timing = timed_run(name, env, folder, cycles)
        keep_database(folder, keep, name)
        return timing


def measure(args: argparse.Namespace) -> list[Timing]:
    venues = args.venues.split(",")
    rows: list[Callable[[], Timing]] = [
        partial(venue_row, v, cadence, args.cycles, args.keep)
        for v in venues
        for cadence in args.cycle_seconds.split(",")
    ]
    if args.reference_venues:  # the same venues on the reference revision, side by side
        rows += [
            partial(reference_row, args.reference_rev, v, args.cycles, args.keep) for v in venues
        ]
    elif not args.skip_reference:
        rows.append(partial(reference_row, args.reference_rev, None, args.cycles, args.keep))
    if not args.parallel:
        return [row() for row in rows]
    with ThreadPoolExecutor(max_workers=len(rows)) as pool:
        return list(pool.map(lambda row: row(), rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--reference-rev", default="49e9156", help="the wall-clock revision")
    parser.add_argument("--skip-reference", action="store_true", help="only today's paths")
    parser.add_argument(
        "--parallel", action="store_true", help="run the rows at the same time (a busy machine)"
    )
    parser.add_argument("--venues", default="paper,simulated", help="this checkout's rows")
    parser.add_argument(
        "--reference-venues",
        action="store_true",
        help="run --venues on --reference-rev too (e.g. --reference-rev main: before/after)",
    )
    parser.add_argument("--cycles", type=int, default=None, help="a slice: the first N cycles")
    parser.add_argument(
        "--cycle-seconds",
        default="",
        help="run.cycle_seconds of this checkout's rows, comma-separated for several (e.g. "
        "120,1800: the default cadence and about the reference's cycle count)",
    )
    parser.add_argument("--keep", type=Path, default=None, help="copy each row's database here")
    timings = measure(parser.parse_args())
    reference = timings[-1].wall
    print(f"{'path':<28} {'wall s':>8} {'cpu s':>8} {'vs last':>8}")
    for timing in timings:
        print(
            f"{timing.name:<28} {timing.wall:8.1f} {timing.cpu:8.1f} {timing.wall / reference:8.2f}"
        )
        for line in timing.report:
            print(f"    {line}")


if __name__ == "__main__":
    main()

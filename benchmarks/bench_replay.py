"""Replay throughput: a full replay of the bundled history against just reading it.

Run: ``python benchmarks/bench_replay.py [--sets kxinxu crypto15m] [--repeat N]``

Three timings, best of ``--repeat`` runs each, side by side:

* ``json.loads`` of every line (the floor: decompressing and decoding the files),
* :func:`load_history` (parsing into the domain model and building the sorted event stream),
* a full :class:`Replay` into a fresh :class:`Venue` on a manual clock (listing, lifecycle,
  settlement, the liquidity provider's quotes and the tape's prints), given the loaded history.

Timing is wall-clock (``time.perf_counter``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from collections.abc import Callable
from pathlib import Path

import kalshi_core
from kalshi_core.clock import ManualClock
from kalshi_core.exchange import Venue
from kalshi_core.exchange.replay import History, Replay, load_history

DATA = Path(kalshi_core.__file__).parent / "data" / "history"


def decode_only(sets: list[str]) -> int:
    lines = 0
    for name in sets:
        for path in sorted((DATA / name).glob("*.jsonl*")):
            opener = gzip.open if path.suffix == ".gz" else open
            with opener(path, "rt", encoding="utf-8") as handle:
                for line in handle:
                    json.loads(line)
                    lines += 1
    return lines


def replay_all(history: History) -> Replay:
    venue = Venue(ManualClock(history.start_time))
    replay = Replay(venue, history)
    replay.advance(history.end_time)
    assert replay.finished
    assert venue.ledger().balanced
    return replay


def best_of(repeat: int, work: Callable[[], object]) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=["kxinxu", "crypto15m"])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    decode_s, lines = best_of(args.repeat, lambda: decode_only(args.sets))
    load_s, loaded = best_of(args.repeat, lambda: load_history(DATA, args.sets))
    assert isinstance(loaded, History)
    replay_s, done = best_of(args.repeat, lambda: replay_all(loaded))
    assert isinstance(done, Replay)
    events = done.events_total
    stats = done.provider.stats

    print(
        f"sets: {', '.join(args.sets)}: {len(loaded.markets)} markets, {lines:,} lines, "
        f"{events:,} events ({stats.prints:,} prints, {stats.quotes:,} quotes applied)"
    )
    print(f"{'stage':<42}{'seconds':>9}{'events/s':>12}")
    print("-" * 63)
    rows = [
        ("json.loads of every line (baseline)", decode_s),
        ("load_history (parse + sort)", load_s),
        ("Replay.advance to the end (given history)", replay_s),
        ("load + replay (total)", load_s + replay_s),
    ]
    for label, seconds in rows:
        print(f"{label:<42}{seconds:>9.2f}{events / seconds:>12,.0f}")
    print(
        f"replay costs {replay_s / decode_s:.1f}x decoding the files; "
        f"short prints: {stats.short_prints}, provider rejects: {stats.rejected_orders}"
    )


if __name__ == "__main__":
    main()

"""kalshi-core's client against the official SDK and pykalshi, on one local exchange.

Run: ``tox -e bench-clients`` (Python 3.13, the peers installed), or directly
``python benchmarks/bench_clients.py [--markets 5000] [--orders 300] [--books 50]
[--repeats 5] [--clients core,sdk-sync,sdk-async,pykalshi-sync,pykalshi-async]``.

One :class:`~kalshi_core.exchange.local.LocalExchange` with ``--markets`` open, quoted markets
(``cycle_exchange.build_venue``) serves every client on 127.0.0.1 from a process of its own,
so the CPU time measured here (``time.process_time``, all threads of this process) is the
clients' alone. Each repeat runs every job for every client, the clients' order rotating from
one repeat to the next, after one warm-up round; the table shows the median wall and CPU time
per job and each peer's ratio to kalshi-core (above 1.00: the peer is slower / uses more CPU).
The clients must agree on what they did (same number of markets, orders and books).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from client_runners import RUNNERS, Runner
from cycle_exchange import ExchangeInfo, serving_exchange
from rich.console import Console
from rich.table import Table

from kalshi_core.client import KalshiClient, RateLimiter, Signer

Sample = tuple[float, float]  # wall seconds, CPU seconds
JOBS = ("list", "place+cancel", "books")


def measure(job: Callable[[], int]) -> tuple[Sample, int]:
    wall, cpu = time.perf_counter(), time.process_time()
    done = job()
    return (time.perf_counter() - wall, time.process_time() - cpu), done


def first_tickers(info: ExchangeInfo, count: int) -> list[str]:
    """The tickers the jobs use, read once with kalshi-core's client (not timed)."""
    import asyncio  # noqa: PLC0415

    async def read() -> list[str]:
        signer = Signer.from_file(info.api_key_id, info.private_key_path)
        limiter = RateLimiter.for_rates(1_000_000, 1_000_000)
        async with KalshiClient(info.base_url, signer=signer, rate_limiter=limiter) as client:
            page = await client.get_markets(limit=count, status="open")
            return [market.ticker for market in page.items]

    return asyncio.run(read())


def start_runners(names: list[str], info: ExchangeInfo, ticker: str, out: Console) -> list[Runner]:
    runners: list[Runner] = []
    for name in names:
        try:
            runners.append(RUNNERS[name](info, ticker))
        except ImportError as exc:
            out.print(f"[yellow]skipping {name}: {exc} (install it, or use tox -e bench-clients)")
    return runners


def jobs_of(
    runner: Runner, args: argparse.Namespace, tickers: list[str], tag: str
) -> dict[str, Any]:
    return {
        "list": runner.list_markets,
        "place+cancel": lambda: runner.place_cancel(args.orders, f"{runner.name}-{tag}"),
        "books": lambda: runner.read_books(tickers),
    }


def one_round(
    runners: list[Runner], args: argparse.Namespace, tickers: list[str], tag: str
) -> dict[tuple[str, str], tuple[Sample, int]]:
    results = {}
    for job in JOBS:
        for runner in runners:
            results[job, runner.name] = measure(jobs_of(runner, args, tickers, tag)[job])
    return results


def check_agreement(results: dict[tuple[str, str], tuple[Sample, int]]) -> None:
    for job in JOBS:
        done = {name: count for (j, name), (_, count) in results.items() if j == job}
        if len(set(done.values())) > 1:
            raise SystemExit(f"the clients did different work for {job}: {done}")


def race(
    runners: list[Runner], args: argparse.Namespace, tickers: list[str]
) -> dict[Any, list[Sample]]:
    check_agreement(one_round(runners, args, tickers, "warm"))
    samples: dict[Any, list[Sample]] = {}
    for repeat in range(args.repeats):
        shift = repeat % len(runners)
        order = runners[shift:] + runners[:shift]
        results = one_round(order, args, tickers, f"r{repeat}")
        check_agreement(results)
        for key, (sample, _) in results.items():
            samples.setdefault(key, []).append(sample)
    return samples


def report(samples: dict[Any, list[Sample]], names: list[str], args: argparse.Namespace) -> Table:
    table = Table(
        title=f"{args.markets} open markets, {args.orders} place+cancel, {args.books} concurrent "
        f"books; median of {args.repeats} (ratio: peer / kalshi-core)"
    )
    for column in ("job", "client", "wall ms", "CPU ms", "wall ratio", "CPU ratio"):
        table.add_column(column, justify="left" if column in ("job", "client") else "right")
    for job in JOBS:
        base = medians(samples[job, names[0]])
        for name in names:
            wall, cpu = medians(samples[job, name])
            table.add_row(
                job, name, f"{wall * 1e3:,.1f}", f"{cpu * 1e3:,.1f}",
                f"{wall / base[0]:.2f}", f"{cpu / base[1]:.2f}",
            )  # fmt: skip
        table.add_section()
    return table


def medians(values: list[Sample]) -> Sample:
    return statistics.median(v[0] for v in values), statistics.median(v[1] for v in values)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markets", type=int, default=5000)
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--books", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--clients", default=",".join(RUNNERS))
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    out = Console(width=110)
    with (
        tempfile.TemporaryDirectory() as key_dir,
        serving_exchange(args.markets, Path(key_dir)) as info,
    ):
        tickers = first_tickers(info, args.books)
        runners = start_runners(args.clients.split(","), info, tickers[0], out)
        try:
            samples = race(runners, args, tickers)
        finally:
            for runner in runners:
                runner.close()
    out.print(report(samples, [runner.name for runner in runners], args))


if __name__ == "__main__":
    main()

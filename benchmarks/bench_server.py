"""Throughput and latency of the local exchange's HTTP server, main's against this tree's.

Run: ``python benchmarks/bench_server.py [--processes 1,4,8] [--connections 8,32]
[--seconds 5] [--main /tmp/server-main]``

Each server under test is a separate process serving a venue of ``--markets`` active markets
(the first 50 with five price levels a side): ``main`` is the tree at ``--main`` (a ``git
worktree`` of main, imported through ``PYTHONPATH``), ``h11`` is this tree forced onto its
fallback (h11 + asyncio), ``fast`` is this tree as installed (httptools + uvloop where
present). Load comes from N client processes sharing ``--connections`` keep-alive
connections, each sending one request at a time; per connection the mix is 6 order book
reads, 1 market listing page (``limit=100``, following the cursors) and 3 place + cancel
pairs of a resting bid, signed with the dev key (RSA-PSS). A client reuses a signature for the
same method and path for ``--reuse-signature-seconds`` (the place route; each cancel names a
new order, so it is always signed afresh).

Printed per server and load: requests/s, p50 and p99 latency, errors, the server's CPU
time per request (``/proc/<pid>/schedstat``, so Linux only) and the 99th percentile of each
request's time inside the server's app (wall, and in brackets the CPU its thread spent
meanwhile): what the client waits beyond it is the kernel, the queue and the scheduler. The
servers take turns load by load (``--servers`` picks them). Then, at 500, 5,000 and 20,000
markets, the server CPU per market listed while walking ``GET /markets?limit=1000`` (up to
``--listing-pages`` pages, after one warm-up page).

Timing is wall-clock (``time.perf_counter``); nothing here is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import attrs
from rich.console import Console
from rich.table import Table

import kalshi_core
from kalshi_core.client import Signer
from kalshi_core.clock import ManualClock
from kalshi_core.exchange import Venue, VenueOrder
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.models import BookSide, Market, MarketStatus
from kalshi_core.money import CONTRACT, DOLLAR

START = datetime(2026, 1, 1, tzinfo=UTC)
PREFIX = "/trade-api/v2"
LIQUID = 50  # markets with a book to read
TIMINGS_PATH = "/bench/timings"
MIX = "book=6,listing=1,order=3"


def parse_mix(text: str) -> list[tuple[str, int]]:
    """``book=6,listing=1,order=3`` -> [("book", 6), ...] (an order is a place + a cancel)."""
    pairs = [part.split("=") for part in text.split(",") if part]
    found = [(name, int(weight)) for name, weight in pairs]
    unknown = {name for name, _ in found} - {"book", "listing", "order"}
    if unknown:
        raise SystemExit(f"--mix: unknown request kinds {sorted(unknown)} (book, listing, order)")
    return found


def ticker_of(index: int) -> str:
    return f"KXBENCH{index // 10:05d}-26JAN01-T{index % 10}"


# ---- the server process -----------------------------------------------------------------------


def build_venue(markets: int) -> Venue:

    venue = Venue(ManualClock(START))
    for index in range(markets):
        ticker = ticker_of(index)
        venue.list_market(
            Market(
                ticker=ticker,
                event_ticker=ticker.rsplit("-", 1)[0],
                status=MarketStatus.ACTIVE,
                open_time=START - timedelta(days=1),
                close_time=START + timedelta(days=365),
            )
        )
    venue.deposit("mm", 1_000_000 * DOLLAR)
    for index in range(min(LIQUID, markets)):
        for level in range(5):
            for side, price in (
                (BookSide.BID, 4000 - level * 100),
                (BookSide.ASK, 6000 + level * 100),
            ):
                order = VenueOrder(
                    account="mm",
                    ticker=ticker_of(index),
                    side=side,
                    price=price,
                    count=10 * CONTRACT,
                )
                venue.place_order(order)
    return venue


class TimedApp:
    """The server's ASGI app, timing each HTTP request inside the server: the wall time from
    the app's call to its return and the CPU time the server's thread spent meanwhile. ``GET
    /bench/timings`` answers their 99th percentiles since the last ask, in milliseconds."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.walls: list[float] = []
        self.cpus: list[float] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == TIMINGS_PATH:
            await self._report(send)
            return
        wall, cpu = time.perf_counter(), time.thread_time()
        await self.app(scope, receive, send)
        self.walls.append(time.perf_counter() - wall)
        self.cpus.append(time.thread_time() - cpu)

    async def _report(self, send: Any) -> None:
        walls, cpus = sorted(self.walls), sorted(self.cpus)
        self.walls, self.cpus = [], []
        p99 = {"wall": _p99(walls) * 1000, "cpu": _p99(cpus) * 1000}
        body = json.dumps(p99).encode()
        headers = [(b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _p99(ordered: list[float]) -> float:
    return ordered[int(len(ordered) * 0.99)] if ordered else float("nan")


def serve(markets: int, key_dir: Path, plain: bool) -> None:
    """Serve a venue of ``markets`` markets; print where, and with which key, on one line."""
    if plain:  # this tree's fallback: as if httptools and uvloop were not installed
        serving = importlib.import_module("kalshi_core.exchange.http.serving")  # not on main
        serving.installed = lambda module: False

    exchange = LocalExchange.create(
        venue=build_venue(markets), key_dir=key_dir, starting_balance=1_000_000 * DOLLAR
    )

    exchange.app = TimedApp(exchange.app)  # type: ignore[assignment]

    def ready(ex: LocalExchange) -> None:
        where = {"url": ex.base_url, "key_id": ex.api_key_id, "key_path": str(ex.private_key_path)}
        print(json.dumps({**where, "code": kalshi_core.__file__}), flush=True)

    exchange.serve_forever(on_ready=ready, tick_seconds=5.0)


@attrs.frozen
class Server:
    name: str
    pythonpath: str | None
    plain: bool


@attrs.frozen
class Running:
    server: Server
    process: subprocess.Popen[str]
    url: str
    key_id: str
    key_path: str
    code: str


@contextmanager
def running(server: Server, markets: int, key_dir: Path) -> Iterator[Running]:
    env = dict(os.environ)
    if server.pythonpath:
        env["PYTHONPATH"] = server.pythonpath
    command = [
        sys.executable,
        __file__,
        "serve",
        "--markets",
        str(markets),
        "--key-dir",
        str(key_dir),
    ]
    process = subprocess.Popen(
        command + (["--plain"] if server.plain else []), env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {server.name} server did not start")
        ready = json.loads(line)
        yield Running(
            server, process, ready["url"], ready["key_id"], ready["key_path"], ready["code"]
        )
    finally:
        process.terminate()
        process.wait(timeout=30)


def cpu_seconds(pid: int) -> float:
    """CPU time of process ``pid`` so far, in nanoseconds' resolution (``schedstat``)."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9


# ---- the client processes ---------------------------------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection, one request at a time."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str
    ) -> None:
        self.reader, self.writer, self.host = reader, writer, host

    @classmethod
    async def open(cls, url: str) -> Connection:
        parts = urlsplit(url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        return cls(reader, writer, f"{parts.hostname}:{parts.port}")

    async def call(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, bytes]:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}", f"Content-Length: {len(body)}"]
        if body:
            lines.append("Content-Type: application/json")
        lines.extend(f"{name}: {value}" for name, value in headers.items())
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return status, await self.reader.readexactly(length)


class Signatures:
    """The dev key's headers, reused for the same method and path for ``reuse`` seconds."""

    def __init__(self, key_id: str, key_path: str, reuse: float) -> None:
        self.signer = Signer.from_file(key_id, Path(key_path))
        self.reuse = reuse
        self._made: dict[tuple[str, str], tuple[float, dict[str, str]]] = {}

    def headers(self, method: str, path: str) -> dict[str, str]:
        now = time.monotonic()
        made = self._made.get((method, path))
        if made is not None and now - made[0] < self.reuse:
            return made[1]
        fresh = self.signer.headers(method, path)
        if self.reuse > 0:
            self._made[(method, path)] = (now, fresh)
        return fresh


@attrs.frozen
class Job:
    url: str
    key_id: str
    key_path: str
    connections: int
    markets: int
    start_at: float  # time.time() at which measuring starts (before: warm-up)
    end_at: float
    reuse: float
    seed: int
    mix: str


@attrs.define
class Tally:
    latencies: list[float] = attrs.field(factory=list)
    errors: int = 0

    def timed(self, began: float, measuring: bool, ok: bool) -> None:
        if measuring:
            self.latencies.append(time.perf_counter() - began)
            self.errors += not ok


class Walker:
    """One connection's mix of requests."""

    def __init__(self, job: Job, connection: Connection, signatures: Signatures, seed: int) -> None:
        self.job, self.connection, self.signatures = job, connection, signatures
        self.random = random.Random(seed)
        self.cursor = ""
        self.tally = Tally()

    async def run(self) -> Tally:
        actions = {"book": self.book, "listing": self.listing, "order": self.order}
        names = [name for name, weight in parse_mix(self.job.mix) for _ in range(weight)]
        while time.time() < self.job.end_at:
            await actions[self.random.choice(names)]()
        return self.tally

    async def _timed(
        self, method: str, path: str, body: bytes = b"", signed: bool = False
    ) -> bytes:
        headers = self.signatures.headers(method, path.split("?", 1)[0]) if signed else {}
        measuring = time.time() >= self.job.start_at
        began = time.perf_counter()
        status, data = await self.connection.call(method, path, headers, body)
        self.tally.timed(began, measuring, status in (200, 201))
        return data

    async def book(self) -> None:
        ticker = ticker_of(self.random.randrange(min(LIQUID, self.job.markets)))
        await self._timed("GET", f"{PREFIX}/markets/{ticker}/orderbook")

    async def listing(self) -> None:
        cursor = f"&cursor={self.cursor}" if self.cursor else ""
        data = await self._timed("GET", f"{PREFIX}/markets?limit=100{cursor}")
        self.cursor = json.loads(data).get("cursor", "")

    async def order(self) -> None:
        body = {
            "ticker": ticker_of(self.random.randrange(min(LIQUID, self.job.markets))),
            "side": "bid",
            "price": f"0.0{self.random.randint(1, 9)}",
            "count": "1",
            "time_in_force": "good_till_canceled",
            "self_trade_prevention_type": "taker_at_cross",
        }
        path = f"{PREFIX}/portfolio/events/orders"
        created = await self._timed("POST", path, json.dumps(body).encode(), signed=True)
        order_id = json.loads(created).get("order_id")
        if order_id:
            await self._timed("DELETE", f"{path}/{order_id}", signed=True)


async def _drive(job: Job) -> Tally:
    signatures = Signatures(job.key_id, job.key_path, job.reuse)
    connections = [await Connection.open(job.url) for _ in range(job.connections)]
    walkers = [Walker(job, c, signatures, job.seed * 1000 + i) for i, c in enumerate(connections)]
    tallies = await asyncio.gather(*(w.run() for w in walkers))
    for connection in connections:
        connection.writer.close()
    return Tally([x for t in tallies for x in t.latencies], sum(t.errors for t in tallies))


def drive(job: Job) -> Tally:
    return asyncio.run(_drive(job))


# ---- one measurement --------------------------------------------------------------------------


@attrs.frozen
class Load:
    processes: int
    connections: int
    seconds: float
    reuse: float
    markets: int
    mix: str


@attrs.frozen
class Row:
    server: str
    load: Load
    requests: int
    per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_us: float
    in_server_p99_ms: float
    in_server_cpu_p99_ms: float


async def _timings(url: str) -> dict[str, float]:
    connection = await Connection.open(url)
    _, data = await connection.call("GET", TIMINGS_PATH, {})
    connection.writer.close()
    timings: dict[str, float] = json.loads(data)
    return timings


def _wait_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.time()))


def _jobs(live: Running, load: Load, start_at: float, end_at: float) -> list[Job]:
    """One job per client process, the connections shared out between them."""
    per_process = max(1, load.connections // load.processes)
    return [
        Job(
            live.url,
            live.key_id,
            live.key_path,
            per_process,
            load.markets,
            start_at,
            end_at,
            load.reuse,
            n,
            load.mix,
        )
        for n in range(load.processes)
    ]


def measure(live: Running, load: Load, pool: ProcessPoolExecutor) -> Row:
    start_at = time.time() + 1.5  # connections open and warm up first
    end_at = start_at + load.seconds
    futures = [pool.submit(drive, job) for job in _jobs(live, load, start_at, end_at)]
    _wait_until(start_at)
    cpu_before = cpu_seconds(live.process.pid)
    asyncio.run(_timings(live.url))  # from now on
    _wait_until(end_at)
    cpu_after = cpu_seconds(live.process.pid)
    in_server = asyncio.run(_timings(live.url))
    tallies = [future.result() for future in futures]
    latencies = sorted(x for t in tallies for x in t.latencies)
    count = len(latencies)
    return Row(
        server=live.server.name,
        load=load,
        requests=count,
        per_second=count / load.seconds,
        p50_ms=statistics.median(latencies) * 1000 if latencies else float("nan"),
        p99_ms=latencies[int(count * 0.99)] * 1000 if latencies else float("nan"),
        errors=sum(t.errors for t in tallies),
        cpu_us=(cpu_after - cpu_before) / max(count, 1) * 1e6,
        in_server_p99_ms=in_server["wall"],
        in_server_cpu_p99_ms=in_server["cpu"],
    )


async def _walk_listing(url: str, pages: int, limit: int = 1000) -> int:
    """Markets listed walking up to ``pages`` pages of ``limit`` from the first."""
    connection = await Connection.open(url)
    listed, cursor = 0, ""
    for _ in range(pages):
        suffix = f"&cursor={cursor}" if cursor else ""
        _, data = await connection.call("GET", f"{PREFIX}/markets?limit={limit}{suffix}", {})
        body = json.loads(data)
        listed += len(body["markets"])
        cursor = body["cursor"]
        if not cursor:
            break
    connection.writer.close()
    return listed


def listing_cost(live: Running, pages: int) -> tuple[float, float]:
    """Server CPU microseconds per listed market: the first walk, then the same walk again.

    One ``limit=1`` page first builds this tree's index (once per server: O(markets)).
    """
    asyncio.run(_walk_listing(live.url, 1, limit=1))
    costs = []
    for _ in range(2):
        before = cpu_seconds(live.process.pid)
        listed = asyncio.run(_walk_listing(live.url, pages))
        costs.append((cpu_seconds(live.process.pid) - before) / max(listed, 1) * 1e6)
    return costs[0], costs[1]


# ---- the report -------------------------------------------------------------------------------


def throughput_table(rows: list[Row]) -> Table:
    table = Table(title="Mixed load: requests/s, latency, server CPU per request")
    for column in (
        "server",
        "mix",
        "processes",
        "connections",
        "requests/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "server CPU µs/req",
        "in-server p99 ms (CPU)",
    ):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            row.server,
            row.load.mix,
            str(row.load.processes),
            str(row.load.connections),
            f"{row.per_second:,.0f}",
            f"{row.p50_ms:.2f}",
            f"{row.p99_ms:.2f}",
            str(row.errors),
            f"{row.cpu_us:,.0f}",
            f"{row.in_server_p99_ms:.2f} ({row.in_server_cpu_p99_ms:.2f})",
        )
    return table


def listing_table(cells: dict[tuple[str, int], tuple[float, float]]) -> Table:
    title = "GET /markets?limit=1000: server CPU µs per listed market (first walk / again)"
    table = Table(title=title)
    table.add_column("server")
    sizes = sorted({size for _, size in cells})
    for size in sizes:
        table.add_column(f"{size:,} markets", justify="right")
    for name in dict.fromkeys(name for name, _ in cells):
        costs = (cells[(name, size)] for size in sizes)
        table.add_row(name, *(f"{first:,.0f} / {again:,.0f}" for first, again in costs))
    return table


def _numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


def servers(main: str, names: str) -> list[Server]:
    found = [Server("h11", None, True), Server("fast", None, False)]
    if main and Path(main, "kalshi_core").is_dir():
        found.insert(0, Server("main", main, False))
    else:
        print(f"no main tree at {main!r}: comparing this tree's two servers only")
    wanted = set(names.split(","))
    return [server for server in found if server.name in wanted]


def loads(options: argparse.Namespace) -> list[Load]:
    return [
        Load(
            processes,
            connections,
            options.seconds,
            options.reuse_signature_seconds,
            options.markets,
            mix,
        )
        for mix in options.mix or [MIX]
        for processes in _numbers(options.processes)
        for connections in _numbers(options.connections)
    ]


def throughput(options: argparse.Namespace, chosen: list[Server], key_dir: Path) -> list[Row]:
    """Every load on every server, the servers taking turns load by load (all running at
    once, idle but for their turn) so that a change in the machine's load is shared."""
    rows: list[Row] = []
    workers = max(_numbers(options.processes))
    with ExitStack() as stack:
        lives = [stack.enter_context(running(s, options.markets, key_dir)) for s in chosen]
        pool = stack.enter_context(
            ProcessPoolExecutor(
                workers,
                mp_context=get_context("fork"),
                initializer=os.setpriority,  # the load generator's niceness (a diagnosis)
                initargs=(os.PRIO_PROCESS, 0, options.client_nice),
            )
        )
        for live in lives:
            Console(width=200).print(f"{live.server.name}: {live.code}")
        for load in loads(options):
            for live in lives:
                rows.append(measure(live, load, pool))
                Console(width=200).print(throughput_table(rows[-1:]))
    return sorted(rows, key=lambda row: [s.name for s in chosen].index(row.server))


def run(options: argparse.Namespace) -> None:
    chosen = servers(options.main, options.servers)
    listing: dict[tuple[str, int], tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as key_dir:
        rows = throughput(options, chosen, Path(key_dir))
        for size in _numbers(options.listing_sizes):
            for server in chosen:
                with running(server, size, Path(key_dir)) as live:
                    listing[(server.name, size)] = listing_cost(live, options.listing_pages)
    console = Console(width=200)
    console.print(throughput_table(rows))
    console.print(listing_table(listing))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    serving = sub.add_parser("serve", help="(internal) one server process")
    serving.add_argument("--markets", type=int, required=True)
    serving.add_argument("--key-dir", type=Path, required=True)
    serving.add_argument("--plain", action="store_true")
    parser.add_argument("--processes", default="1,4,8", help="client processes (CSV)")
    parser.add_argument("--connections", default="8,32", help="connections in all (CSV)")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per load")
    parser.add_argument("--markets", type=int, default=1000, help="markets in the mixed-load venue")
    parser.add_argument("--reuse-signature-seconds", type=float, default=1.0)
    parser.add_argument("--mix", action="append", help=f"request mix (repeatable; {MIX})")
    parser.add_argument("--listing-pages", type=int, default=5)
    parser.add_argument("--listing-sizes", default="500,5000,20000", help="venue sizes (CSV)")
    parser.add_argument(
        "--client-nice",
        type=int,
        default=0,
        help="niceness of the client processes (10: the server runs first on a shared core)",
    )
    parser.add_argument("--servers", default="main,h11,fast", help="servers to compare (CSV)")
    parser.add_argument(
        "--main", default="/tmp/server-main", help="a worktree of main ('' for none)"
    )
    options = parser.parse_args()
    if options.command == "serve":
        serve(options.markets, options.key_dir, options.plain)
    else:
        run(options)


if __name__ == "__main__":
    main()

"""A trading worker process: one Engine with its own ``worker_id`` on the shared database.

Protocol on stdin/stdout (one line each): the worker prints ``ready`` once connected and
waits for ``go`` (so every worker starts competing at once), runs ``--cycles`` cycles,
reconciles, prints one JSON line with what it did, waits for ``release``, gives up its
market leases, prints ``released`` and exits. Run from the repository root::

    MULTIWORKER_DATABASE_URL=URL python -m tests.multiworker.engine_worker --base-url URL \\
        --key-id ID --key-file PATH --worker-id W --cycles N
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import attrs

from kalshi_core.client import BatchOrderResult, KalshiClient, OrderAck, OrderRequest
from kalshi_core.clock import SystemClock
from kalshi_core.engine.cycle import Engine
from kalshi_core.venues.client_gateway import ClientGateway
from tests.multiworker.support import (
    DATABASE_URL_ENV,
    GO,
    READY,
    RELEASE,
    RELEASED,
    AlwaysTrade,
    make_client,
    make_engine,
    open_database,
)


class RecordingGateway(ClientGateway):
    """The real gateway, noting every market this worker sends an order in."""

    def __init__(self, client: KalshiClient) -> None:
        super().__init__(client)
        self.tickers: set[str] = set()
        self.sent = 0

    def _note(self, requests: Sequence[OrderRequest]) -> None:
        self.tickers.update(r.ticker for r in requests)
        self.sent += len(requests)

    async def place(self, requests: Sequence[OrderRequest]) -> list[BatchOrderResult]:
        self._note(requests)
        return await super().place(requests)

    async def place_one(self, request: OrderRequest) -> OrderAck:
        self._note([request])
        return await super().place_one(request)


@attrs.define
class Tally:
    decisions: int = 0
    placed: int = 0
    rejected: int = 0
    unknown: int = 0
    owned: list[int] = attrs.field(factory=list)


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def expect(word: str) -> None:
    heard = sys.stdin.readline().strip()
    if heard != word:
        raise SystemExit(f"worker expected {word!r} on stdin, got {heard!r}")


async def trade(engine: Engine, cycles: int) -> Tally:
    tally = Tally()
    for _ in range(cycles):
        report = await engine.run_cycle()
        tally.decisions += report.markets
        tally.placed += report.placed
        tally.rejected += report.rejected
        tally.unknown += report.unknown
        tally.owned.append(report.markets)
    await engine.final_reconcile()  # settle anything left, as a session does at the end
    return tally


async def main(options: argparse.Namespace) -> None:
    database = open_database(os.environ[DATABASE_URL_ENV])
    client = make_client(options.base_url, options.key_id, Path(options.key_file))
    gateway = RecordingGateway(client)
    engine = make_engine(
        gateway,
        database,
        SystemClock(),
        worker_id=options.worker_id,
        strategies=[AlwaysTrade()],
        max_markets=options.max_markets,
    )
    try:
        say(READY)
        expect(GO)
        tally = await trade(engine, options.cycles)
        result = {"worker_id": options.worker_id, "tickers": sorted(gateway.tickers)}
        say(json.dumps({**result, "sent": gateway.sent, **attrs.asdict(tally)}))
        expect(RELEASE)
        await engine.release()
        say(RELEASED)
    finally:
        await client.aclose()
        await database.close()


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--key-id", required=True)
    parser.add_argument("--key-file", required=True)
    parser.add_argument("--worker-id", required=True)
    parser.add_argument("--cycles", type=int, required=True)
    parser.add_argument("--max-markets", type=int, default=0)
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse(sys.argv[1:])))

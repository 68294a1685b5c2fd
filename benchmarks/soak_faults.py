"""Fault soak: `kalshi-core run` under random exchange faults and random SIGKILLs, restarted
each time, then checked against the exchange. Not part of CI (it runs for minutes).

Run: ``python benchmarks/soak_faults.py [--kills 10] [--seed 7] [--data DIR]``

One `kalshi-core exchange serve --clock stepped` (with 429s, 5xx, dropped connections and
lost replies injected) lives through the whole soak. Against it, `kalshi-core run` is started
``--kills`` times under one worker id and one SQLite file and SIGKILLed after a random wall
delay; a last run is left to finish its cycles. Then every order, fill and position the
exchange holds for the account is compared with the database:

* duplicate orders: a ``client_order_id`` twice on the exchange or in the database;
* lost fills: an exchange fill with no stored row;
* orders the exchange has that the database does not, or holds in another state;
* positions that differ.

It prints the counts and exits 1 unless all are zero.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from kalshi_core.client import KalshiClient, Signer
from kalshi_core.exchange.local import BUNDLED_HISTORY
from kalshi_core.models import Fill, Order, Position

FAULTS = ("--fault-429-rate", "0.02", "--fault-5xx-rate", "0.02", "--fault-drop-rate", "0.02")
LABELS = {"base URL": "url", "API key id": "key", "private key (PEM)": "pem"}


def command(*arguments: str) -> list[str]:
    return [sys.executable, "-c", "from kalshi_core.cli import main; main()", *arguments]


@contextlib.contextmanager
def serve(data: Path, seed: int, home: Path) -> Iterator[dict[str, str]]:
    env = {**os.environ, "XDG_DATA_HOME": str(home), "KALSHI_LOAD_PLUGINS": "builtin"}
    arguments = ["exchange", "serve", "--clock", "stepped", "--data", str(data)]
    arguments += ["--data-set", "kxinxu", "--seed", str(seed), *FAULTS]
    with subprocess.Popen(command(*arguments), stdout=subprocess.PIPE, text=True, env=env) as p:
        assert p.stdout is not None
        found: dict[str, str] = {}
        for line in p.stdout:
            for label, key in LABELS.items():
                if line.startswith(label):
                    found[key] = line[len(label) :].strip()
            if line.startswith("Ctrl-C"):
                break
        try:
            yield found
        finally:
            p.send_signal(signal.SIGINT)
            p.wait(timeout=60)


def run_env(server: dict[str, str], database: Path, home: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith("KALSHI_")}
    return {
        **keep,
        "KALSHI_LOAD_PLUGINS": "builtin",
        "KALSHI_KALSHI__BASE_URL": server["url"],
        "KALSHI_KALSHI__API_KEY_ID": server["key"],
        "KALSHI_KALSHI__PRIVATE_KEY_PATH": server["pem"],
        "KALSHI_DATABASE__URL": f"sqlite+aiosqlite:///{database}",
        "KALSHI_RUN__WORKER_ID": "soak",
        "KALSHI_MONITORING__PORT": "0",
        "XDG_DATA_HOME": str(home),
    }


def killed_runs(env: dict[str, str], kills: int, rng: random.Random) -> int:
    """Start `run` ``kills`` times and SIGKILL each after a random delay; returns the kills."""
    done = 0
    for _ in range(kills):
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        with subprocess.Popen(command("run", "--cycles", "400"), env=env, **quiet) as process:
            time.sleep(rng.uniform(8.0, 25.0))  # start-up takes a few seconds of its own
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                done += 1
            process.wait()
    return done


async def exchange_view(server: dict[str, str]) -> tuple[list[Order], list[Fill], list[Position]]:
    signer = Signer.from_file(server["key"], server["pem"])
    async with KalshiClient(server["url"], signer=signer) as client:
        orders = [o async for o in client.iter_orders()]
        fills = [f async for f in client.iter_fills()]
        positions = [p async for p in client.iter_positions(settlement_status="all")]
    return orders, fills, positions


def compare(
    database: Path, orders: list[Order], fills: list[Fill], positions: list[Position]
) -> dict[str, int]:
    with sqlite3.connect(database) as db:
        stored = dict(db.execute("select client_order_id, state from orders").fetchall())
        stored_ids = [r[0] for r in db.execute("select client_order_id from orders")]
        fill_ids = {r[0] for r in db.execute("select fill_id from fills")}
        held = dict(db.execute("select ticker, position from positions").fetchall())
    on_exchange = [o.client_order_id for o in orders]
    return {
        "duplicate orders": (len(on_exchange) - len(set(on_exchange)))
        + (len(stored_ids) - len(set(stored_ids))),
        "lost fills": sum(f.fill_id not in fill_ids for f in fills),
        "orders missing or in another state": sum(
            stored.get(o.client_order_id) != o.status.value for o in orders
        ),
        "positions that differ": sum(held.get(p.ticker, 0) != p.position for p in positions),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, default=BUNDLED_HISTORY)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="kalshi-soak-") as temp:
        home, database = Path(temp), Path(temp) / "soak.sqlite3"
        with serve(args.data, args.seed, home / "exchange") as server:
            env = run_env(server, database, home / "runs")
            kills = killed_runs(env, args.kills, rng)
            last = command("run", "--cycles", "50")
            final = subprocess.run(last, env=env, capture_output=True, text=True, check=False)
            orders, fills, positions = asyncio.run(exchange_view(server))
        counts = compare(database, orders, fills, positions)
    report = [line for line in final.stdout.splitlines() if line.startswith(("stopped", "fills"))]
    print(
        f"SIGKILLs: {kills}; final run exit {final.returncode} ({'; '.join(report)}); "
        f"exchange orders {len(orders)}, fills {len(fills)}"
    )
    for name, count in counts.items():
        print(f"{name:<40} {count}")
    sys.exit(0 if not any(counts.values()) else 1)


if __name__ == "__main__":
    main()

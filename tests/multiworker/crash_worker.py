"""A worker that dies by SIGKILL in the middle of placing one order.

It records the intent as ``pending_submit`` exactly as the Executor does, then either kills
itself at once (``--kill before_send``) or sends the order through the real client and gateway,
writes ``sent`` to stdout, and kills itself before storing the acknowledgement
(``--kill after_send``). Run from the repository root::

    MULTIWORKER_DATABASE_URL=URL python -m tests.multiworker.crash_worker --base-url URL \\
        --key-id ID --key-file PATH --ticker T --contracts N --kill after_send

The database URL comes from the environment so that a password never shows in ``ps``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path

from kalshi_core.engine.execution import order_request
from kalshi_core.venues.client_gateway import ClientGateway
from tests.multiworker.support import (
    DATABASE_URL_ENV,
    RECORDED,
    SENT,
    crash_planned,
    make_client,
    open_database,
    utc_now,
)

BEFORE_SEND = "before_send"
AFTER_SEND = "after_send"


def die(announcement: str) -> None:
    """Tell the parent how far we got, then die the hard way (no cleanup, no flush of ours)."""
    sys.stdout.write(announcement + "\n")
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


async def main(options: argparse.Namespace) -> None:
    planned = crash_planned(options.ticker, options.contracts)
    database = open_database(os.environ[DATABASE_URL_ENV])
    stored = await database.orders.record_intent(
        planned.client_order_id, planned.intent, utc_now(), planned.decision_id
    )
    if options.kill == BEFORE_SEND:
        die(RECORDED)
    client = make_client(options.base_url, options.key_id, Path(options.key_file))
    ack = await ClientGateway(client).place_one(order_request(planned))
    if ack.order_id and stored.order_id is None:
        die(SENT)
    raise SystemExit(f"unexpected: ack {ack!r} for an order stored as {stored!r}")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--key-id", required=True)
    parser.add_argument("--key-file", required=True)
    parser.add_argument("--ticker", required=True)
    parser.add_argument("--contracts", type=int, required=True)
    parser.add_argument("--kill", choices=(BEFORE_SEND, AFTER_SEND), required=True)
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse(sys.argv[1:])))

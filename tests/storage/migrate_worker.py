"""A process starting up on a database, as ``kalshi-core run`` does (``open_database``).

Protocol on stdin/stdout (one line each): the worker builds its App from the environment
(``KALSHI_DATABASE__URL`` names the database), prints ``ready`` and waits for ``go`` (so every
worker opens the database at once), then opens it, prints one JSON line with the schema
revision it found and exits 0; a StorageError is printed as ``{"error": ...}``, exit 1. Run
from the repository root::

    KALSHI_DATABASE__URL=URL python -m tests.storage.migrate_worker
"""

from __future__ import annotations

import asyncio
import json
import sys

from kalshi_core.app import App
from kalshi_core.engine.session import open_database
from kalshi_core.errors import StorageError
from kalshi_core.storage import migrate

READY = "ready"
GO = "go"


async def start_up(app: App) -> dict[str, str | None]:
    try:
        database = await open_database(app)
    except StorageError as error:
        return {"error": str(error)}
    try:
        return {"revision": await migrate.current(database.engine)}
    finally:
        await database.close()


def main() -> int:
    app = App.create()
    print(READY, flush=True)
    if sys.stdin.readline().strip() != GO:
        return 2
    outcome = asyncio.run(start_up(app))
    print(json.dumps(outcome), flush=True)
    return 1 if "error" in outcome else 0


if __name__ == "__main__":
    sys.exit(main())

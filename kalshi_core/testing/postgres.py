"""A PostgreSQL database of a test session's own, on a server other sessions share.

Tests that reset their database (``DROP SCHEMA public CASCADE``) cannot share one with a
suite running beside them: ``tox run-parallel`` runs the Python versions and the plugins'
suites at once against the one server ``.ci/services.sh`` starts. Each session therefore
creates a database of its own, points ``KALSHI_TEST_POSTGRES_URL`` at it for its tests (and
the child processes they start), and drops it at the end::

    @pytest.fixture(scope="session", autouse=True)
    def own_postgres_database() -> Iterator[str | None]:
        with session_database(os.environ) as url:
            yield url
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager

POSTGRES_URL_VARIABLE = "KALSHI_TEST_POSTGRES_URL"
# PostgreSQL truncates identifiers at 63 bytes; the label is only a hint for whoever lists
# the server's databases, the random suffix is what keeps names apart.
LABEL_LENGTH = 30


def database_name(label: str) -> str:
    """A fresh database name: ``kc_<label>_<12 hex>``, the label reduced to ``[a-z0-9_]``."""
    safe = re.sub(r"[^a-z0-9_]+", "_", label.lower()).strip("_")[:LABEL_LENGTH]
    return f"kc_{safe or 'session'}_{uuid.uuid4().hex[:12]}"


def session_label(environ: MutableMapping[str, str]) -> str:
    """Who owns the database: the tox env when there is one, and the process id."""
    return f"{environ.get('TOX_ENV_NAME', 'pytest')}_{os.getpid()}"


async def _execute_on_server(server_url: str, statement: str) -> None:
    # Imported here: the core does not depend on SQLAlchemy's asyncpg dialect at import time.
    from sqlalchemy import text  # noqa: PLC0415
    from sqlalchemy.ext.asyncio import create_async_engine  # noqa: PLC0415

    admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await admin.dispose()


@contextmanager
def own_database(server_url: str, label: str) -> Iterator[str]:
    """Create an empty database on ``server_url``'s server; yield its URL; drop it after."""
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    name = database_name(label)
    asyncio.run(_execute_on_server(server_url, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
        asyncio.run(_execute_on_server(server_url, drop))


@contextmanager
def session_database(environ: MutableMapping[str, str]) -> Iterator[str | None]:
    """Point ``KALSHI_TEST_POSTGRES_URL`` at a database of this session's own while inside.

    Without the variable there is no server to share, and nothing changes (yields None).
    """
    server_url = environ.get(POSTGRES_URL_VARIABLE, "")
    if not server_url:
        yield None
        return
    with own_database(server_url, session_label(environ)) as url:
        environ[POSTGRES_URL_VARIABLE] = url
        try:
            yield url
        finally:
            environ[POSTGRES_URL_VARIABLE] = server_url

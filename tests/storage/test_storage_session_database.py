"""A database of each test session's own (kalshi_core/testing/postgres.py), on the real server."""

from __future__ import annotations

import asyncio
import re

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from kalshi_core.testing.postgres import (
    POSTGRES_URL_VARIABLE,
    database_name,
    session_database,
)
from tests.storage.conftest import postgres_url

VALID_NAME = re.compile(r"^kc_[a-z0-9_]{1,30}_[0-9a-f]{12}$")


async def _databases(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT datname FROM pg_database"))
            return {row[0] for row in rows}
    finally:
        await engine.dispose()


def databases(url: str) -> set[str]:
    return asyncio.run(_databases(url))


@pytest.mark.parametrize(
    "label",
    ['py311"; DROP DATABASE postgres; --', "", "ünïcode env", "x" * 200, "__"],
)
def test_database_names_are_plain_identifiers_whatever_the_label(label: str) -> None:
    name = database_name(label)
    assert VALID_NAME.match(name), name
    assert len(name) <= 63


def test_two_names_for_one_label_differ() -> None:
    assert database_name("py311") != database_name("py311")


@pytest.mark.postgres
def test_session_gets_an_empty_database_of_its_own_and_drops_it_after() -> None:
    server = postgres_url()
    environ = {POSTGRES_URL_VARIABLE: server, "TOX_ENV_NAME": "py3x"}
    with session_database(environ) as url:
        assert url is not None
        own = make_url(url).database
        assert own is not None
        assert own.startswith("kc_py3x_")
        assert own != make_url(server).database
        assert environ[POSTGRES_URL_VARIABLE] == url
        assert own in databases(server)
    assert environ[POSTGRES_URL_VARIABLE] == server
    assert own not in databases(server)


@pytest.mark.postgres
def test_the_database_is_dropped_even_when_the_session_fails() -> None:
    server = postgres_url()
    environ = {POSTGRES_URL_VARIABLE: server}
    seen: list[str] = []

    def fail_inside() -> None:
        with session_database(environ) as url:
            seen.append(make_url(url or "").database or "")
            raise RuntimeError("tests failed")

    with pytest.raises(RuntimeError, match="tests failed"):
        fail_inside()
    assert seen[0].startswith("kc_")
    assert seen[0] not in databases(server)
    assert environ[POSTGRES_URL_VARIABLE] == server


def test_without_a_server_nothing_changes() -> None:
    environ: dict[str, str] = {}
    with session_database(environ) as url:
        assert url is None
        assert environ == {}
    assert environ == {}

"""A session on Redis leaves no connection behind."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import redis
from test_redis_plugin import redis_url

from kalshi_core.app import App
from kalshi_core.engine.session import Session, SessionOptions

# The session's own client name would be the way to count exactly its connections, but
# aiocache does not set one: count the server's connections before and after instead.


def connections(url: str) -> int:
    with redis.Redis.from_url(url) as admin:
        return len(admin.client_list()) - 1  # less this one


async def test_a_session_on_redis_closes_its_connections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = redis_url()
    for key, value in {
        "KALSHI_RUN__VENUE": "simulated",
        "KALSHI_MONITORING__ENABLED": "false",
        "KALSHI_CACHE__BACKEND": "redis",
        "KALSHI_CACHE__URL": url,
        "KALSHI_CACHE__NAMESPACE": f"kc-session-{uuid.uuid4().hex[:8]}",
        "KALSHI_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'run.sqlite3'}",
        "XDG_DATA_HOME": str(tmp_path),
    }.items():
        monkeypatch.setenv(key, value)
    before = connections(url)
    session = Session(App.create(), SessionOptions(cycles=3, data_sets=("kxinxu",)))
    report = await session.run()
    assert report.cycles == 3
    assert connections(url) == before

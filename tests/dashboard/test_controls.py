"""The graded controls: refused without the right token, a confirmation or a JSON body; done
(and audited) on an attached engine's graded stops; the token never logged or stored."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from kalshi_core import signals
from kalshi_core.clock import ManualClock
from kalshi_core.dashboard.controls import AUDIT_KIND, TOKEN_HEADER
from kalshi_core.dashboard.live import EngineLink, LiveFeed
from kalshi_core.monitoring.health import Health
from kalshi_core.monitoring.stops import StopController
from kalshi_core.storage.database import Database
from tests.dashboard.conftest import TOKEN, options, served

CONFIRMED = {"confirm": "pause"}


def post(http: httpx.AsyncClient, action: str, body: Any = None, token: str | None = TOKEN) -> Any:
    headers = {TOKEN_HEADER: token} if token is not None else {}
    return http.post(f"/api/controls/{action}", json=body or {"confirm": action}, headers=headers)


@pytest.fixture
def link() -> EngineLink:
    clock = ManualClock(datetime(2026, 1, 2, 15, tzinfo=UTC))
    return EngineLink(
        stops=StopController(flatten_concession=500),
        health=Health(clock, timedelta(seconds=900)),
        clock=clock,
        feed=LiveFeed(clock),
        run_id="run-1",
    )


@pytest.fixture
async def attached(
    database: Database, reports_dir: Path, link: EngineLink
) -> AsyncIterator[httpx.AsyncClient]:
    async for client in served(database, options(reports_dir), link):
        yield client


def audit_rows(database: Database) -> list[tuple[str, str]]:
    path = database.engine.url.database
    assert path is not None
    with sqlite3.connect(path) as db:
        query = "select message, payload from audit_events where kind = ? order by id"
        return db.execute(query, (AUDIT_KIND,)).fetchall()


async def test_each_control_raises_the_engines_stop_and_is_audited(
    attached: httpx.AsyncClient, link: EngineLink, database: Database
) -> None:
    heard: list[str] = []

    def on_stop(sender: object, *, level: str = "", **_: object) -> None:
        heard.append(level)

    signals.stop_changed.connect(on_stop)
    try:
        for action, level in [
            ("pause", "pause_entries"),
            ("cancel", "cancel_resting"),
            ("flatten", "flatten"),
            ("stop", "stop"),
        ]:
            answer = await post(attached, action)
            assert answer.status_code == 200, answer.text
            assert answer.json() == {"action": action, "level": level, "changed": True}
            assert link.stops.level == level
    finally:
        signals.stop_changed.disconnect(on_stop)
    assert heard == ["pause_entries", "cancel_resting", "flatten", "stop"]
    rows = audit_rows(database)
    assert [r[0].split(":")[1].split()[0] for r in rows] == ["pause", "cancel", "flatten", "stop"]
    assert all(TOKEN not in message + payload for message, payload in rows)


async def test_a_control_never_lowers_the_level(
    attached: httpx.AsyncClient, link: EngineLink
) -> None:
    assert (await post(attached, "cancel")).status_code == 200
    again = await post(attached, "pause")
    assert again.status_code == 200
    assert again.json() == {"action": "pause", "level": "cancel_resting", "changed": False}


async def test_flatten_takes_its_price_limit(attached: httpx.AsyncClient, link: EngineLink) -> None:
    answer = await post(attached, "flatten", {"confirm": "flatten", "concession_cents": 7})
    assert answer.status_code == 200
    assert link.stops.flatten_concession == 700


@pytest.mark.parametrize("concession", [-1, 100, 2.5, "5", True, None])
async def test_flatten_refuses_a_bad_price_limit(
    attached: httpx.AsyncClient, link: EngineLink, concession: object
) -> None:
    answer = await post(attached, "flatten", {"confirm": "flatten", "concession_cents": concession})
    assert answer.status_code == 400
    assert "concession_cents" in answer.json()["error"]
    assert link.stops.level == "running"


@pytest.mark.parametrize(
    ("token", "status", "says"),
    [(None, 401, "header is missing"), ("", 401, "header is missing"), ("wrong", 401, "wrong")],
)
async def test_without_the_token_every_control_is_refused(
    attached: httpx.AsyncClient,
    link: EngineLink,
    database: Database,
    token: str | None,
    status: int,
    says: str,
) -> None:
    for action in ("pause", "cancel", "flatten", "stop"):
        answer = await post(attached, action, token=token)
        assert answer.status_code == status
        assert says in answer.json()["error"]
    assert link.stops.level == "running"
    assert audit_rows(database) == []


async def test_no_configured_token_refuses_every_control(
    database: Database, reports_dir: Path, link: EngineLink
) -> None:
    async for http in served(database, options(reports_dir, token=""), link):
        for action in ("pause", "cancel", "flatten", "stop"):
            answer = await post(http, action, token=TOKEN)
            assert answer.status_code == 403
            assert "dashboard.token is not set" in answer.json()["error"]
    assert link.stops.level == "running"


async def test_a_get_or_a_form_post_cannot_press_a_control(
    attached: httpx.AsyncClient, link: EngineLink
) -> None:
    assert (await attached.get("/api/controls/stop")).status_code == 405
    form = await attached.post(
        "/api/controls/stop", data={"confirm": "stop"}, headers={TOKEN_HEADER: TOKEN}
    )
    assert form.status_code == 415
    cross_site = await attached.post("/api/controls/stop", data={"confirm": "stop"})
    assert cross_site.status_code == 401
    assert link.stops.level == "running"


@pytest.mark.parametrize(
    ("action", "body", "status"),
    [
        ("pause", {}, 428),
        ("pause", {"confirm": "stop"}, 428),
        ("pause", {"confirm": True}, 428),
        ("pause", ["pause"], 400),
        ("resume", {"confirm": "resume"}, 404),
        ("..%2Fstop", {"confirm": "stop"}, 404),
    ],
)
async def test_an_unconfirmed_or_unknown_control_is_refused(
    attached: httpx.AsyncClient, link: EngineLink, action: str, body: object, status: int
) -> None:
    answer = await attached.post(
        f"/api/controls/{action}", json=body, headers={TOKEN_HEADER: TOKEN}
    )
    assert answer.status_code == status
    assert link.stops.level == "running"


async def test_a_body_that_is_not_json_is_refused(
    attached: httpx.AsyncClient, link: EngineLink
) -> None:
    answer = await attached.post(
        "/api/controls/stop",
        content=b"\xff{not json",
        headers={TOKEN_HEADER: TOKEN, "content-type": "application/json"},
    )
    assert answer.status_code == 400
    assert link.stops.level == "running"


async def test_without_an_engine_the_controls_say_so(http: httpx.AsyncClient) -> None:
    answer = await post(http, "stop")
    assert answer.status_code == 409
    assert "no engine attached" in answer.json()["error"]


async def test_the_token_never_reaches_the_log(
    attached: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        await post(attached, "pause", token=TOKEN + "x")
        await post(attached, "pause")
    assert "dashboard control refused" in caplog.text
    assert "dashboard control pause" in caplog.text
    assert TOKEN not in caplog.text

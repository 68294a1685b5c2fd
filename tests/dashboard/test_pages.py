"""The read-only dashboard over real HTTP: what a paper session stored shows, live updates
arrive as server-sent events, and hostile requests are refused."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

import httpx
import pytest

from kalshi_core.dashboard.app import SECTIONS
from kalshi_core.storage.database import Database
from kalshi_core.storage.schema import AuditEventRow


def stored(database: Database, query: str) -> list[tuple[object, ...]]:
    path = database.engine.url.database
    assert path is not None
    with sqlite3.connect(path) as db:
        return db.execute(query).fetchall()


async def test_the_page_shows_what_the_session_stored(
    http: httpx.AsyncClient, database: Database
) -> None:
    page = await http.get("/")
    assert page.status_code == 200
    text = page.text
    (orders,) = stored(database, "select count(*) from orders")[0]
    assert f'data-order-count="{orders}"' in text
    fill_tickers = {t for (t,) in stored(database, "select ticker from fills")}
    assert fill_tickers
    assert any(ticker in text for ticker in fill_tickers)
    validators = {v for (v,) in stored(database, "select distinct validator from verdicts")}
    assert all(v in text for v in validators), validators
    assert "<svg" in text  # the P&L chart, drawn on the server
    for section in SECTIONS:
        assert f'id="{section}"' in text
    for label in ("Pause entries", "Cancel resting", "Flatten", "Stop"):
        assert label in text
    assert "No engine is attached" in text


async def test_decisions_show_edge_against_threshold(http: httpx.AsyncClient) -> None:
    text = (await http.get("/")).text
    decisions = text.split('id="decisions"', 1)[1].split("</section>", 1)[0]
    assert "min_edge 3.0¢" in decisions
    assert "rejected" in decisions or "accepted" in decisions
    assert "¢" in decisions.split("<tbody>", 1)[1]  # some edge figure in cents


async def test_a_run_filter_narrows_and_an_overlong_one_is_refused(
    http: httpx.AsyncClient, database: Database
) -> None:
    (run_id,) = stored(database, "select run_id from runs")[0]
    narrowed = await http.get("/", params={"run": str(run_id)})
    assert narrowed.status_code == 200
    assert f"run {run_id}" in narrowed.text
    for other in ("no-such-run", "x' OR '1'='1"):  # a value in a bound parameter, never SQL
        shown = await http.get("/", params={"run": other})
        assert shown.status_code == 200
        assert 'data-order-count="0"' in shown.text
    too_long = await http.get("/", params={"run": "x" * 500})
    assert too_long.status_code == 400
    assert "longer than 128" in too_long.text


async def test_events_stream_every_section_then_only_changes(http: httpx.AsyncClient) -> None:
    async with http.stream("GET", "/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.aiter_lines()
        event = [await anext(lines) for _ in range(2)]
    assert event[0] == "event: update"
    parts = json.loads(event[1].removeprefix("data: "))
    assert set(parts) == set(SECTIONS)
    assert "Recent fills" in parts["fills"]


async def test_pages_carry_security_headers_and_refuse_a_foreign_host(
    http: httpx.AsyncClient,
) -> None:
    page = await http.get("/")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "<script>" not in page.text  # the one script is a file: no inline code to inject
    assert page.headers["x-frame-options"] == "SAMEORIGIN"
    rebound = await http.get("/", headers={"Host": "attacker.example"})
    assert rebound.status_code == 400


async def test_static_assets_ship_in_the_package(http: httpx.AsyncClient) -> None:
    script = await http.get("/static/dashboard.js")
    style = await http.get("/static/dashboard.css")
    assert script.status_code == style.status_code == 200
    assert "EventSource" in script.text
    assert "@media" in style.text  # the phone layout
    escape = await http.get("/static/../app.py")
    assert escape.status_code == 404


async def test_stored_text_is_escaped(http: httpx.AsyncClient, database: Database) -> None:
    hostile = "<script>alert(1)</script>"
    async with database.sessions.begin() as session:
        session.add(
            AuditEventRow(
                run_id="",
                created_time=datetime(2026, 1, 3, tzinfo=UTC),
                kind="risk_limit_hit",
                ticker=None,
                message=hostile,
                payload="{}",
            )
        )
    text = (await http.get("/")).text
    assert hostile not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


@pytest.mark.parametrize("path", ["/nowhere", "/reports/x/y/z"])
async def test_unknown_paths_are_404(http: httpx.AsyncClient, path: str) -> None:
    assert (await http.get(path)).status_code == 404

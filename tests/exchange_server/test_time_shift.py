"""``exchange.time = "present"``: the replay shifted to the wall clock, over real HTTP.

The wall clock is injected (a ManualClock the test moves), so nothing here waits: a client
that filters with ``min_ts = now - 1h`` and sets ``expiration_time = now + 60s`` from that
clock finds the prints and sees its order expire.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from kalshi_core.clock import ManualClock
from kalshi_core.errors import ConfigError
from kalshi_core.exchange.config import build_exchange
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.exchange.replay import EventKind, load_history
from kalshi_core.wire import parse_time

from ..replay.test_every_print import write_generated_set
from .conftest import RawHttp
from .test_bounds import ORDERS, order_body

WALL = datetime(2026, 12, 2, 15, 30, 12, 345678, tzinfo=UTC)
FIRST = "KXGEN-26JAN05-T0"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    write_generated_set(tmp_path / "gen")
    return tmp_path


@pytest.fixture
def wall() -> ManualClock:
    return ManualClock(WALL)


@pytest.fixture
async def shifted(data_dir: Path, key_dir: Path, wall: ManualClock) -> AsyncIterator[RawHttp]:
    options: dict[str, Any] = {"data_dir": data_dir, "data_sets": ["gen"], "key_dir": key_dir}
    async with (
        LocalExchange.running(time_mode="present", wall=wall, **options) as exchange,
        httpx.AsyncClient(timeout=httpx.Timeout(30.0)) as http,
    ):
        yield RawHttp(exchange, http)


async def get(raw: RawHttp, path: str, **params: Any) -> Any:
    response = await raw.send("GET", path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_first_market_opens_when_the_exchange_starts(
    shifted: RawHttp, data_dir: Path
) -> None:
    recorded = {m.ticker: m for m in load_history(data_dir, ["gen"]).markets}
    clock = await get(shifted, "/local/clock")
    assert parse_time(clock["now"]) == WALL
    assert clock["speed"] == 1.0
    markets = {m["ticker"]: m for m in (await get(shifted, "/markets"))["markets"]}
    offset = parse_time(markets[FIRST]["open_time"]) - recorded[FIRST].open_time
    assert offset == WALL.replace(microsecond=0) - recorded[FIRST].open_time
    for ticker, market in recorded.items():  # recorded offsets kept, to the microsecond
        assert parse_time(markets[ticker]["close_time"]) == market.close_time + offset
    assert markets[FIRST]["status"] == "active"


async def test_a_wall_clock_trade_filter_finds_the_replayed_prints(
    shifted: RawHttp, wall: ManualClock, data_dir: Path
) -> None:
    history = load_history(data_dir, ["gen"])
    recorded = [e.trade for e in history.events if e.kind is EventKind.TRADE and e.trade]
    wall.advance(timedelta(minutes=21))  # past the first market's close
    shifted.exchange.sync()
    since = int((wall.now() - timedelta(hours=1)).timestamp())
    found = await get(shifted, "/markets/trades", ticker=FIRST, min_ts=since, limit=1000)
    expected = sorted(t.count for t in recorded if t.ticker == FIRST)
    assert sorted(round(float(t["count_fp"]) * 100) for t in found["trades"]) == expected
    assert all(parse_time(t["created_time"]) <= wall.now() for t in found["trades"])
    before = int((wall.now() - timedelta(hours=2)).timestamp())
    assert (await get(shifted, "/markets/trades", max_ts=before))["trades"] == []


async def test_an_expiration_set_from_the_wall_clock_fires(
    shifted: RawHttp, wall: ManualClock
) -> None:
    expires = int(wall.now().timestamp()) + 60
    body = order_body(ticker=FIRST, price="0.01", expiration_time=expires)
    placed = await shifted.send("POST", ORDERS, json=body)
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["order_id"]
    assert (await get(shifted, f"/portfolio/orders/{order_id}"))["order"]["status"] == "resting"
    wall.advance(timedelta(seconds=61))
    shifted.exchange.sync()
    assert (await get(shifted, f"/portfolio/orders/{order_id}"))["order"]["status"] == "canceled"


async def test_recorded_time_stays_the_default(data_dir: Path, key_dir: Path) -> None:
    section = {"data_sets": ["gen"], "speed": 60.0}
    exchange = build_exchange(section, {"data": str(data_dir), "key_dir": key_dir})
    start = load_history(data_dir, ["gen"]).start_time
    assert start <= exchange.clock.now() < start + timedelta(minutes=1)


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"time_mode": "future"}, "must be one of recorded, present"),
        ({"time_mode": "present", "stepped": True}, "cannot be stepped"),
    ],
)
def test_wrong_time_settings_are_named(
    data_dir: Path, key_dir: Path, options: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ConfigError, match=problem):
        LocalExchange.create(data_dir=data_dir, data_sets=["gen"], key_dir=key_dir, **options)


def test_a_session_stepped_exchange_stays_on_recorded_time(data_dir: Path, key_dir: Path) -> None:
    """``kalshi-core run`` steps its own exchange: exchange.time = present does not apply."""
    section = {"data_sets": ["gen"], "speed": 60.0, "time": "present"}
    options = {"data": str(data_dir), "key_dir": key_dir, "stepped": True}
    exchange = build_exchange(section, options)
    assert exchange.stepped_time is not None
    assert exchange.clock.now() == load_history(data_dir, ["gen"]).start_time
    with pytest.raises(ConfigError, match="cannot be stepped"):
        build_exchange({**section, "clock": "stepped"}, {"data": str(data_dir), "key_dir": key_dir})

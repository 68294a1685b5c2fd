"""Every recorded print reaches the tape, whatever the replay speed.

A running exchange's clock is paced by a monotonic source; here the test owns that source and
moves it as the server's tick loop would (a quarter second between syncs), so a fast speed
jumps minutes of recorded time per sync, as it does when served. Before the paced clock, the
venue closed markets by the clock's reading while the replay was still behind it, and prints
recorded in a market's last minutes never reached the tape.
"""

from __future__ import annotations

import gzip
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kalshi_core.exchange.local import BUNDLED_HISTORY, LocalExchange
from kalshi_core.exchange.replay import EventKind, History, load_history

START = datetime(2026, 1, 5, 14, 0, tzinfo=UTC)
TICK_SECONDS = 0.25
AS_FAST_AS_POSSIBLE = 1e12


@pytest.fixture(scope="module")
def key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("exchange-keys")


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _market(index: int) -> dict[str, object]:
    close = START + timedelta(minutes=20 + 7 * index)
    return {
        "ticker": f"KXGEN-26JAN05-T{index}",
        "event_ticker": "KXGEN-26JAN05",
        "series_ticker": "KXGEN",
        "title": f"Generated market {index}",
        "open_time": _stamp(START),
        "close_time": _stamp(close),
        "status": "finalized",
        "result": "yes" if index % 2 else "no",
    }


def _trades(market: dict[str, object], rng: random.Random) -> list[dict[str, object]]:
    """Prints crowded into the market's last ten minutes, one a second before the close and
    one at the very instant of the close."""
    close = datetime.fromisoformat(str(market["close_time"]))
    offsets = [*(rng.uniform(1, 600) for _ in range(120)), 1.0, 0.0]
    found = []
    for number, offset in enumerate(sorted(offsets, reverse=True)):
        price = rng.randint(2, 98)
        found.append(
            {
                "trade_id": f"{market['ticker']}-{number}",
                "ticker": market["ticker"],
                "created_time": _stamp(close - timedelta(seconds=offset)),
                "yes_price": price,
                "no_price": 100 - price,
                "count": rng.randint(1, 40),
                "taker_side": rng.choice(("yes", "no")),
            }
        )
    return found


def write_generated_set(folder: Path, markets: int = 6, seed: int = 7) -> None:
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    listed = [_market(i) for i in range(markets)]
    trades = sorted(
        (t for m in listed for t in _trades(m, rng)), key=lambda t: str(t["created_time"])
    )
    (folder / "markets.jsonl").write_text("".join(json.dumps(m) + "\n" for m in listed))
    text = "".join(json.dumps(t) + "\n" for t in trades)
    (folder / "trades.jsonl.gz").write_bytes(gzip.compress(text.encode()))


class TickingSource:
    """A monotonic source the test moves: one server tick per call to :meth:`tick`."""

    def __init__(self) -> None:
        self.reading = 0.0

    def __call__(self) -> float:
        return self.reading

    def tick(self, seconds: float = TICK_SECONDS) -> None:
        self.reading += seconds


def recorded_volume(history: History) -> dict[str, int]:
    volume: dict[str, int] = {}
    for event in history.events:
        if event.kind is EventKind.TRADE and event.trade is not None:
            volume[event.ticker] = volume.get(event.ticker, 0) + event.trade.count
    return volume


def tape_volume(exchange: LocalExchange) -> dict[str, int]:
    volume: dict[str, int] = {}
    for market in exchange.venue.markets():
        printed = sum(t.count for t in exchange.venue.trades(market.ticker))
        if printed:
            volume[market.ticker] = printed
    return volume


def replay_at(data_dir: Path, sets: list[str], speed: float, key_dir: Path) -> LocalExchange:
    """Serve-like replay: a sync per tick of the pace until the history is over."""
    source = TickingSource()
    exchange = LocalExchange.create(
        data_dir=data_dir, data_sets=sets, speed=speed, key_dir=key_dir, monotonic=source
    )
    assert exchange.replay is not None
    while not exchange.replay.finished:
        source.tick()
        exchange.sync()
        exchange.venue.markets()  # a client's request between ticks: the venue sweeps
    return exchange


@pytest.mark.parametrize("speed", [60.0, 1200.0, AS_FAST_AS_POSSIBLE])
def test_every_generated_print_reaches_the_tape(
    tmp_path: Path, key_dir: Path, speed: float
) -> None:
    write_generated_set(tmp_path / "gen")
    history = load_history(tmp_path, ["gen"])
    exchange = replay_at(tmp_path, ["gen"], speed, key_dir)
    recorded = recorded_volume(history)
    assert len(recorded) == 6
    assert tape_volume(exchange) == recorded
    # Prints keep their recorded times, not the moment a fast replay applied them; one at the
    # instant of the close comes a microsecond before it.
    first = history.markets[0].ticker
    tape = {t.created_time for t in exchange.venue.trades(first)}
    recorded_times = {e.time for e in history.events if e.trade and e.ticker == first}
    close = history.markets[0].close_time
    assert tape == {t for t in recorded_times if t < close} | {close - timedelta(microseconds=1)}


def test_a_fast_replay_settles_every_market_on_its_recorded_result(
    tmp_path: Path, key_dir: Path
) -> None:
    write_generated_set(tmp_path / "gen")
    exchange = replay_at(tmp_path, ["gen"], 1200.0, key_dir)
    results = {m.ticker: m.result.value for m in exchange.venue.markets()}
    assert results == {f"KXGEN-26JAN05-T{i}": ("yes" if i % 2 else "no") for i in range(6)}
    assert all(m.volume == tape_volume(exchange)[m.ticker] for m in exchange.venue.markets())


# Speed 60 on the bundled days is ~50,000 ticks (about 10 minutes): the generated set covers it.
@pytest.mark.slow
@pytest.mark.parametrize("speed", [1200.0, AS_FAST_AS_POSSIBLE])
def test_every_bundled_print_reaches_the_tape(kxinxu: History, key_dir: Path, speed: float) -> None:
    exchange = replay_at(BUNDLED_HISTORY, ["kxinxu"], speed, key_dir)
    assert tape_volume(exchange) == recorded_volume(kxinxu)

"""The recording format on disk: rotation by exchange day, a kill mid-write, a last line cut
short, and hostile files, each error naming the file and the line."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kalshi_core.errors import WireFormatError
from kalshi_core.exchange.loaders.recorded_l2 import RecordedL2Loader
from kalshi_core.models import Market, MarketStatus, PriceLevel
from kalshi_core.money import CENT, CONTRACT
from kalshi_core.recording.format import (
    BookTracker,
    RecordingWriter,
    market_line,
    read_recording,
    recording_files,
    to_ms,
)

TICKER = "KXTEST-26JAN02-T50"
JAN1_23H = to_ms(datetime(2026, 1, 1, 23, 59, 59, tzinfo=UTC))
JAN2_00H = JAN1_23H + 2_000


def _market() -> Market:
    return Market(
        ticker=TICKER,
        event_ticker="KXTEST-26JAN02",
        status=MarketStatus.ACTIVE,
        open_time=datetime(2026, 1, 1, tzinfo=UTC),
        close_time=datetime(2026, 1, 3, tzinfo=UTC),
    )


def _snapshot(ts_ms: int, seq: int = 1, yes: object = ((4000, 300),)) -> dict[str, object]:
    levels = [list(pair) for pair in yes]  # type: ignore[attr-defined]
    return {
        "type": "snapshot",
        "ts_ms": ts_ms,
        "ticker": TICKER,
        "sid": 1,
        "seq": seq,
        "yes": levels,
        "no": [[5000, 100]],
    }


def _delta(ts_ms: int, seq: int, delta: int, price: int = 4000) -> dict[str, object]:
    return {
        "type": "delta",
        "ts_ms": ts_ms,
        "ticker": TICKER,
        "sid": 1,
        "seq": seq,
        "side": "yes",
        "price": price,
        "delta": delta,
    }


def _write(folder: Path, records: list[dict[str, object]]) -> None:
    writer = RecordingWriter(folder)
    for record in records:
        writer.write(record)
    writer.close()


def test_files_rotate_on_the_day_of_the_exchange_time(tmp_path: Path) -> None:
    _write(
        tmp_path, [market_line(_market(), JAN1_23H), _snapshot(JAN1_23H), _delta(JAN2_00H, 2, 100)]
    )
    assert [p.name for p in recording_files(tmp_path)] == [
        "l2-2026-01-01.jsonl",
        "l2-2026-01-02.jsonl",
    ]
    lines = list(read_recording(tmp_path))
    assert [line.where for line in lines] == [
        "l2-2026-01-01.jsonl:1",
        "l2-2026-01-01.jsonl:2",
        "l2-2026-01-02.jsonl:1",
    ]
    tracker = BookTracker()
    books = [tracker.apply(line) for line in lines]
    assert books[-1] is not None
    assert books[-1].yes == (PriceLevel(40 * CENT, 4 * CONTRACT),)
    # The loader reads both days as one set: one book per book record, in order.
    recorded = RecordedL2Loader().load(tmp_path)
    assert [q.step for q in recorded.quotes] == [1, 2]  # type: ignore[attr-defined]


KILLED_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from kalshi_core.recording.format import RecordingWriter
    writer = RecordingWriter(Path(sys.argv[1]))
    for seq in range(1, 101):
        writer.write({"type": "gap", "ts_ms": 1767312000000 + seq, "tickers": ["T"],
                      "reason": str(seq)})
    # a record cut off by the kill: half its bytes reach the file, then SIGKILL
    writer._handle.write('{"type":"gap","ts_ms":17673120002')
    writer._handle.flush()
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_a_kill_mid_write_leaves_every_complete_line_readable(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    done = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(tmp_path)], check=False)
    assert done.returncode == -9
    with caplog.at_level(logging.WARNING):
        lines = list(read_recording(tmp_path))
    assert [line.reason for line in lines] == [str(seq) for seq in range(1, 101)]
    assert "l2-2026-01-02.jsonl:101" in caplog.text
    assert "cut short" in caplog.text


HOSTILE = [
    ('{"type": "snapshot", "ts_ms": 1, ', "l2-2026-01-02.jsonl:1: not JSON"),
    ('["a list"]', "l2-2026-01-02.jsonl:1: expected a JSON object"),
    ('{"type": "quote", "ts_ms": 1}', "l2-2026-01-02.jsonl:1: type: expected one of"),
    ('{"type": "gap", "ts_ms": "noon", "tickers": []}', "ts_ms: expected an integer"),
    ('{"type": "gap", "ts_ms": -5, "tickers": []}', "ts_ms: must be at least 0"),
    ('{"type": "gap", "ts_ms": true, "tickers": []}', "ts_ms: expected an integer"),
    (json.dumps(_snapshot(JAN2_00H, yes=((4000, -300),))), "yes[0]: must be at least 1"),
    (json.dumps(_snapshot(JAN2_00H, yes=((12000, 300),))), "yes[0]: a price is below"),
    (json.dumps(_snapshot(JAN2_00H, yes=(("0.40", 300),))), "yes[0]: expected an integer"),
    (json.dumps(_snapshot(JAN2_00H, yes=((6000, 300),))), "the book crosses"),
    (json.dumps({**_delta(JAN2_00H, 2, 5), "side": "maybe"}), "side: expected 'yes' or 'no'"),
    (json.dumps(_delta(JAN2_00H, 2, 0)), "delta: a delta changes the level"),
    (json.dumps({**_delta(JAN2_00H, 2, 5), "seq": 0}), "seq: must be at least 1"),
    ('{"type": "trade", "ts_ms": 1, "trade": {"trade_id": 3}}', "l2-2026-01-02.jsonl:1: trade"),
    ('{"type": "market", "ts_ms": 1, "market": []}', "l2-2026-01-02.jsonl:1: market"),
]


@pytest.mark.parametrize(("line", "message"), HOSTILE)
def test_a_hostile_line_is_an_error_naming_file_and_line(
    tmp_path: Path, line: str, message: str
) -> None:
    (tmp_path / "l2-2026-01-02.jsonl").write_text(line + "\n" + json.dumps(_snapshot(1)) + "\n")
    with pytest.raises(WireFormatError) as error:
        list(read_recording(tmp_path))
    assert str(error.value).startswith("l2-2026-01-02.jsonl:1: ")
    assert message in str(error.value)


def _load_error(tmp_path: Path, records: list[dict[str, object]]) -> str:
    (tmp_path / "l2-2026-01-02.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    with pytest.raises(WireFormatError) as error:
        RecordedL2Loader().load(tmp_path)
    return str(error.value)


def test_a_delta_driving_a_level_negative_is_an_error(tmp_path: Path) -> None:
    records = [market_line(_market(), JAN2_00H), _snapshot(JAN2_00H), _delta(JAN2_00H, 2, -301)]
    message = _load_error(tmp_path, records)
    assert message.startswith("l2-2026-01-02.jsonl:3: delta: leaves")
    assert "negative (-1)" in message


def test_a_delta_after_a_gap_needs_a_snapshot_first(tmp_path: Path) -> None:
    gap = {"type": "gap", "ts_ms": JAN2_00H, "tickers": [TICKER], "reason": "dropped"}
    records = [market_line(_market(), JAN2_00H), _snapshot(JAN2_00H), gap, _delta(JAN2_00H, 2, 5)]
    assert _load_error(tmp_path, records).startswith("l2-2026-01-02.jsonl:4: ticker: a delta")


def test_time_going_back_and_unknown_markets_are_errors(tmp_path: Path) -> None:
    back = [market_line(_market(), JAN2_00H), _snapshot(JAN2_00H - 1)]
    assert "l2-2026-01-02.jsonl:2: ts_ms:" in _load_error(tmp_path, back)
    unknown = [_snapshot(JAN2_00H)]
    assert "l2-2026-01-02.jsonl:1: ticker:" in _load_error(tmp_path, unknown)


def test_a_gap_is_a_caveat_of_the_loaded_set(tmp_path: Path) -> None:
    gap = {"type": "gap", "ts_ms": JAN2_00H, "tickers": [TICKER], "reason": "dropped"}
    _write(
        tmp_path,
        [
            market_line(_market(), JAN2_00H),
            _snapshot(JAN2_00H),
            gap,
            _snapshot(JAN2_00H, seq=1, yes=((3000, 100),)),
        ],
    )
    recorded = RecordedL2Loader().load(tmp_path)
    assert any("1 gaps in the recording" in text for text in recorded.caveats)
    assert [q.yes_bid for q in recorded.quotes] == [40 * CENT, 30 * CENT]

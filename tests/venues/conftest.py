"""Fixtures for venue tests: small recorded data sets built from the bundled history."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest


def copy_set(source: Path, target: Path, *, prefix: str = "", closing_before: str = "9999") -> Path:
    """A data set the project never shipped: the bundled ``source`` with every ticker renamed
    by ``prefix`` and only the markets that close before ``closing_before`` (an ISO date)."""
    target.mkdir(parents=True)
    markets = [json.loads(line) for line in (source / "markets.jsonl").read_text().splitlines()]
    kept = [m for m in markets if m["close_time"] < closing_before]
    tickers = {m["ticker"] for m in kept}
    (target / "markets.jsonl").write_text("".join(_renamed(m, prefix) for m in kept))
    with gzip.open(source / "trades.jsonl.gz", "rt") as read:
        trades = [json.loads(line) for line in read]
    with gzip.open(target / "trades.jsonl.gz", "wt") as write:
        write.write("".join(_renamed(t, prefix) for t in trades if t["ticker"] in tickers))
    shutil.copy(source / "LICENSE", target / "LICENSE")
    return target


def _renamed(record: dict[str, object], prefix: str) -> str:
    for key in ("ticker", "event_ticker", "series_ticker"):
        value = record.get(key)
        if isinstance(value, str):
            record[key] = prefix + value
    return json.dumps(record) + "\n"


@pytest.fixture
def three_days(isolated: Path, shared_data_dir: Path) -> Path:
    """A folder with one data set: the bundled kxinxu markets closing on 2-6 January."""
    copy_set(
        shared_data_dir / "kxinxu", isolated / "history" / "early", closing_before="2026-01-07"
    )
    return isolated / "history"

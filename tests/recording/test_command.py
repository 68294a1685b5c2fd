"""``kalshi-core record`` end to end: a served local exchange (its own process), the command
recording it over a real WebSocket, the summary table, and the live guard."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import kalshi_core.builtin.record_command as record_command
from kalshi_core.cli import make_cli
from kalshi_core.testing.pytest_plugin import AppFactory

from .conftest import TICKERS

SERVE = "from kalshi_core.cli import main; main()"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``kalshi-core exchange serve`` on a stepped clock: its base URL and key dir."""
    key_dir = tmp_path / "keys"
    command = [
        sys.executable,
        "-c",
        SERVE,
        "exchange",
        "serve",
        "--data-set",
        "kxinxu",
        "--clock",
        "stepped",
        "--port",
        "0",
        "--key-dir",
        str(key_dir),
    ]
    env = {**os.environ, "KALSHI_LOAD_PLUGINS": "builtin"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        url = ""
        for line in process.stdout:  # the banner: the base URL comes first
            if line.startswith("base URL"):
                url = line.split()[-1]
                break
        assert url, "the exchange did not start"
        yield url, key_dir
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_record_writes_a_loadable_recording_and_says_what_it_recorded(
    served: tuple[str, Path], kalshi_app_factory: AppFactory, tmp_path: Path
) -> None:
    url, key_dir = served
    out = tmp_path / "rec"
    cli = make_cli(kalshi_app_factory(record_command))
    args = [
        "record",
        "--out",
        str(out),
        "--base-url",
        url,
        "--key-dir",
        str(key_dir),
        "--market",
        TICKERS[0],
        "--messages",
        "1",
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "recorded 1 messages over 1 connections" in result.output
    assert TICKERS[0] in result.output
    assert "l2-2026-01-01.jsonl" in result.output
    records = [json.loads(line) for line in (out / "l2-2026-01-01.jsonl").read_text().splitlines()]
    assert [r["type"] for r in records] == ["market", "snapshot"]
    assert records[0]["market"]["ticker"] == TICKERS[0]


def test_record_against_kalshi_needs_the_live_guard(
    kalshi_app_factory: AppFactory, tmp_path: Path
) -> None:
    cli = make_cli(kalshi_app_factory(record_command))
    args = [
        "record",
        "--out",
        str(tmp_path / "rec"),
        "--market",
        TICKERS[0],
        "--base-url",
        "https://external-api.kalshi.com/trade-api/v2",
        "--key-dir",
        str(tmp_path / "no-keys"),
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert "refusing to start" in result.output
    assert "--i-understand-this-is-live-trading" in result.output
    assert not (tmp_path / "rec").exists()


def test_record_needs_something_to_record(
    served: tuple[str, Path], kalshi_app_factory: AppFactory, tmp_path: Path
) -> None:
    url, key_dir = served
    cli = make_cli(kalshi_app_factory(record_command))
    args = [
        "record",
        "--out",
        str(tmp_path / "rec"),
        "--base-url",
        url,
        "--key-dir",
        str(key_dir),
        "--series",
        "KXNOSUCHSERIES",
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert "nothing to record" in result.output


def test_record_refuses_a_market_the_exchange_does_not_list(
    served: tuple[str, Path], kalshi_app_factory: AppFactory, tmp_path: Path
) -> None:
    url, key_dir = served
    cli = make_cli(kalshi_app_factory(record_command))
    args = [
        "record",
        "--out",
        str(tmp_path / "rec"),
        "--base-url",
        url,
        "--key-dir",
        str(key_dir),
        "--market",
        "KXNOPE-26JAN02-T1",
        "--messages",
        "1",
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert "does not list: ['KXNOPE-26JAN02-T1']" in result.output

"""Number options through the real CLI: out of range, ``nan`` or ``inf`` is one ``Error:``
line and exit status 2 (never an OverflowError or ValueError traceback); ``run --speed 0``
means as fast as possible, as its help, docs/engine.md and ``run.speed`` say."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kalshi_core.app import App
from kalshi_core.cli import make_cli

REFUSED = [
    (["run", "--speed", "nan"], "--speed", "'nan' is not a finite number"),
    (["run", "--speed", "-1"], "--speed", "-1.0 is not in the range x>=0"),
    (["run", "--duration", "nan"], "--duration", "'nan' is not a finite number"),
    (["run", "--duration", "inf"], "--duration", "'inf' is not a finite number"),
    (["exchange", "serve", "--port", "99999"], "--port", "99999 is not in the range"),
    (["exchange", "serve", "--port", "-5"], "--port", "-5 is not in the range"),
    (["exchange", "serve", "--speed", "-1"], "--speed", "-1.0 is not in the range 0<x"),
    (["exchange", "serve", "--speed", "0"], "--speed", "0.0 is not in the range 0<x"),
    (["exchange", "serve", "--speed", "inf"], "--speed", "inf is not in the range 0<x"),
    (["exchange", "serve", "--seed", "-1"], "--seed", "-1 is not in the range x>=0"),
    (["exchange", "serve", "--latency-ms", "nan"], "--latency-ms", "'nan' is not a finite"),
    (["exchange", "serve", "--fault-429-rate", "2"], "--fault-429-rate", "2.0 is not in the"),
    (["exchange", "serve", "--fault-drop-rate", "nan"], "--fault-drop-rate", "'nan' is not a"),
    (["record", "--duration", "-inf"], "--duration", "-inf is not in the range x>=0"),
    (["record", "--messages", "0"], "--messages", "0 is not in the range x>=1"),
    (["fit", "--holdout-fraction", "1"], "--holdout-fraction", "1.0 is not in the range 0<=x<1"),
    (["fit", "--holdout-fraction", "nan"], "--holdout-fraction", "'nan' is not a finite"),
]


@pytest.mark.parametrize(
    ("args", "option", "message"), REFUSED, ids=[" ".join(r[0]) for r in REFUSED]
)
def test_a_bad_number_is_one_error_line_and_exit_2(
    args: list[str], option: str, message: str
) -> None:
    result = CliRunner().invoke(make_cli(App.create()), args)
    assert result.exit_code == 2, result.output
    assert f"Error: Invalid value for '{option}': {message}" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_run_speed_0_runs_as_fast_as_possible_over_a_slow_run_speed(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``run.speed`` one recorded second per 11 wall days, a paced run would not finish
    its cycles inside ``--duration``: ``--speed 0`` must win over the setting, not fall back
    to it."""
    monkeypatch.setenv("KALSHI_RUN__SPEED", "0.000001")
    args = ["run", "--speed", "0", "--cycles", "3", "--duration", "60"]
    result = CliRunner().invoke(make_cli(App.create()), args)
    assert result.exit_code == 0, result.output
    assert "stopped: 3 cycles done" in result.output

"""``kalshi-core decisions``: a run's decisions explained, read back from the database."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from kalshi_core.app import App
from kalshi_core.cli import make_cli


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(make_cli(App.create()), list(args))
    return result.exit_code, result.output


def test_decisions_explains_the_latest_run_and_a_named_one(isolated: Path) -> None:
    code, output = invoke("run", "--cycles", "40", "--run-id", "first")
    assert code == 0, output
    assert "why markets were not traded (run first," in output  # the session report
    code, output = invoke("decisions", "--json")
    assert code == 0, output
    report = json.loads(output)
    assert report["run_id"] == "first"
    assert sum(o["count"] for o in report["outcomes"]) == report["decisions"] > 0
    validators = {"dedup", "liquidity", "time_to_close", "market_status", "spread", "min_edge"}
    rejected = [o for o in report["outcomes"] if o["name"] in validators]
    assert rejected
    assert all(o["example_reason"] and o["example_ticker"] for o in rejected)
    edges = report["edges"]
    assert edges["forecasts"] == edges["cleared"] + edges["below"] + edges["unproven"]
    assert sum(edges["margin_histogram_cents"].values()) == edges["cleared"] + edges["below"]
    code, text = invoke("decisions", "--run-id", "first")
    assert code == 0, text
    assert "why markets were not traded (run first," in text
    assert "stderr" in text


def test_an_unknown_run_or_an_empty_database_is_a_clear_error(isolated: Path) -> None:
    code, output = invoke("decisions")
    assert code == 1
    assert "this database has no stored decisions" in output
    code, output = invoke("run", "--cycles", "2", "--run-id", "only")
    assert code == 0, output
    code, output = invoke("decisions", "--run-id", "nope")
    assert code == 1
    assert "run 'nope' has no stored decisions" in output

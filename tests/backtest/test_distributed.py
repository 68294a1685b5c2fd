"""Sweeps on Dask: the history shipped once as bytes, and the same table as the local pool.

The slow test starts a real LocalCluster (worker processes on loopback) and runs a 16-trial
sweep on it and on the local process pool: the two result files must be byte-identical.
"""

from __future__ import annotations

import socket
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kalshi_core.backtest import distributed
from kalshi_core.backtest.distributed import (
    dask_client,
    materialise,
    pack_history,
    run_on_dask,
)
from kalshi_core.backtest.sweep import Base, Space, SweepPlan, run_local, run_sweep, to_json
from kalshi_core.errors import ConfigError
from kalshi_core.exchange.local import BUNDLED_HISTORY


def test_the_history_travels_as_bytes_and_lands_once(tmp_path: Path) -> None:
    payload = pack_history(BUNDLED_HISTORY, ["kxinxu"])
    assert sorted(payload.files) == [
        "kxinxu/LICENSE",
        "kxinxu/markets.jsonl",
        "kxinxu/set.json",
        "kxinxu/trades.jsonl.gz",
    ]
    assert pack_history(BUNDLED_HISTORY, ["kxinxu"]).digest == payload.digest
    folder = materialise(payload)
    assert materialise(payload) == folder  # once per process
    original = BUNDLED_HISTORY / "kxinxu" / "trades.jsonl.gz"
    assert (folder / "kxinxu" / "trades.jsonl.gz").read_bytes() == original.read_bytes()
    assert pack_history(BUNDLED_HISTORY, ["crypto15m"]).digest != payload.digest


def test_a_missing_data_set_is_named_before_shipping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'nope' has no markets"):
        pack_history(BUNDLED_HISTORY, ["nope"])


def test_an_unreachable_scheduler_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(distributed, "CONNECT_SECONDS", 1)
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with (
        pytest.raises(ConfigError, match=f"--scheduler tcp://127.0.0.1:{port}: no Dask scheduler"),
        dask_client(f"tcp://127.0.0.1:{port}"),
    ):
        pass


def test_without_the_extra_the_dask_executor_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ConfigError, match=r"pip install '\.\[dask\]'"), dask_client():
        pass


# the trials must trade for a real table: forecasts without a stderr trade as if certain
TRADE_UNPROVEN_EDGES = {
    f"{section}.{key}": value
    for section in ("validators.min_edge", "strategies.directional")
    for key, value in (("missing_stderr", "assume"), ("assumed_stderr_cents", 0))
}


def sixteen_trials() -> SweepPlan:
    return SweepPlan(
        space=Space(
            parameters={
                "strategies.directional.min_edge_cents": (2, 4, 8, 12),
                "strategies.directional.max_contracts": (5, 10, 20, 40),
            }
        ),
        base=Base(
            data_dir=str(BUNDLED_HISTORY),
            data_sets=("kxinxu",),
            overrides={"run.cycle_seconds": 14400.0, **TRADE_UNPROVEN_EDGES},
        ),
        start=datetime(2026, 1, 5, 14, tzinfo=UTC),
        end=datetime(2026, 1, 7, 21, tzinfo=UTC),
        holdout_days=1,
        windows=2,
        top=2,
    )


@pytest.mark.slow
def test_sixteen_trials_give_the_same_table_on_the_pool_and_on_dask(tmp_path: Path) -> None:
    plan = sixteen_trials()
    data = plan.base.data_dir
    local = run_sweep(
        plan, lambda tasks, done: run_local(tasks, data, tmp_path / "pool", workers=2, on_done=done)
    )
    payload = pack_history(Path(data), plan.base.data_sets)
    with dask_client(workers=2) as client:
        assert all(
            address.startswith("tcp://127.0.0.1:") for address in client.scheduler_info()["workers"]
        )
        on_dask = run_sweep(
            plan, lambda tasks, done: run_on_dask(client, tasks, payload, tmp_path / "dask", done)
        )
    assert len(local["trials"]) == 16
    assert to_json(on_dask) == to_json(local)
    assert any(row["orders"] for row in local["trials"])  # the trials traded: a real table
    pool_files = sorted(p.name for p in (tmp_path / "pool" / "trials").iterdir())
    dask_files = sorted(p.name for p in (tmp_path / "dask" / "trials").iterdir())
    assert pool_files == dask_files
    assert len(pool_files) == 18  # 16 in-sample + 2 held-out re-checks

"""``kalshi-core exchange serve``: its settings, its options and the exchange it builds."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

import kalshi_core.builtin.exchange_command as exchange_command
from kalshi_core.cli import make_cli
from kalshi_core.client import KalshiClient, Signer
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.testing.pytest_plugin import AppFactory


def test_settings_are_registered_and_validated(kalshi_app_factory: AppFactory) -> None:
    app = kalshi_app_factory(exchange_command)
    assert app.section("exchange")["starting_balance_dollars"] == 10_000
    assert app.section("exchange")["host"] == "127.0.0.1"  # the core's keys are kept
    assert app.problems() == []
    bad = kalshi_app_factory(exchange_command, settings={"exchange.faults.rate_429": 2})
    assert [p.key for p in bad.problems()] == ["exchange.faults.rate_429"]


def test_serve_help_lists_the_options(kalshi_app_factory: AppFactory) -> None:
    cli = make_cli(kalshi_app_factory(exchange_command))
    result = CliRunner().invoke(cli, ["exchange", "serve", "--help"])
    assert result.exit_code == 0, result.output
    for option in ("--port", "--speed", "--data-set", "--seed", "--fault-429-rate"):
        assert option in result.output


async def test_built_exchange_replays_the_bundled_history(
    kalshi_app_factory: AppFactory, tmp_path: Path
) -> None:
    app = kalshi_app_factory(exchange_command, settings={"exchange.starting_balance_dollars": 7})
    ex = exchange_command.build_exchange(
        app.section("exchange"),
        {"data_sets": ["crypto15m"], "key_dir": str(tmp_path), "faults": {"rate_429": 0.0}},
    )
    assert ex.replay is not None
    assert ex.faults.settings.rate_429 == 0.0
    async with ex.serving() as running:
        assert running.private_key_path is not None
        signer = Signer.from_file(running.api_key_id, running.private_key_path)
        async with KalshiClient(running.base_url, signer=signer) as client:
            markets = [m async for m in client.iter_markets(limit=1000)]
            balance = await client.get_balance()
    assert markets, "the replay lists markets ahead of their open time"
    assert ex.replay.events_applied > 0
    assert balance.balance == 7 * 10_000
    assert "markets open" in exchange_command.progress_line(ex)


async def test_running_with_data_sets(tmp_path: Path) -> None:
    async with LocalExchange.running(data_sets=["kxinxu"], key_dir=tmp_path, speed=1) as ex:
        assert ex.replay is not None
        start = ex.clock.now()
        ex.sync()
        assert ex.clock.now() >= start
        assert ex.progress().events_total == ex.replay.events_total

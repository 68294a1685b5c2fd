"""The kalshi-core command line, through click and through the installed console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from kalshi_core import __version__
from kalshi_core.app import App
from kalshi_core.cli import main, make_cli
from kalshi_core.hookspecs import hookimpl
from kalshi_core.plugins import PluginManager


def _run(*args: str) -> tuple[int, str, str]:
    runner = CliRunner()
    result = runner.invoke(make_cli(App.create()), list(args))
    return result.exit_code, result.stdout, result.stderr


def test_version() -> None:
    code, out, _ = _run("version")
    assert code == 0
    assert __version__ in out


def test_plugins_json_lists_builtins_with_hooks() -> None:
    code, out, _ = _run("plugins", "--json")
    rows = {row["name"]: row for row in json.loads(out)}
    assert code == 0
    assert rows["core_commands"]["hooks"] == ["register_commands"]
    assert rows["memory_cache"]["status"] == "enabled"


def test_plugins_table_shows_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KALSHI_DISABLE_PLUGINS", "log_alerter")
    _, out, _ = _run("plugins")
    [line] = [ln for ln in out.splitlines() if ln.startswith("log_alerter")]
    assert "disabled" in line


def test_config_show_masks_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KALSHI_KALSHI__PRIVATE_KEY", "TOP-SECRET-PEM")
    code, out, _ = _run("config", "show", "--json")
    assert code == 0
    assert "TOP-SECRET-PEM" not in out
    assert json.loads(out)["kalshi"]["private_key"] == "********"


def test_config_validate_names_key_value_range_and_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KALSHI_RISK__MAX_POSITION_PCT", "7")
    code, _, err = _run("config", "validate")
    assert code == 2
    [line] = [ln for ln in err.splitlines() if "risk.max_position_pct" in ln]
    assert "= 7" in line
    assert "above 0 and at most 1" in line
    assert "KALSHI_RISK__MAX_POSITION_PCT" in line


def test_config_path_lists_layers(tmp_path: Path) -> None:
    user = tmp_path / "mine.toml"
    user.write_text("")
    result = CliRunner().invoke(make_cli(App.create(settings_file=user)), ["config", "path"])
    assert "embedded defaults" in result.stdout
    assert f"{user} (found)" in result.stdout


def test_main_reads_settings_and_env_before_loading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    user = tmp_path / "mine.toml"
    user.write_text("[production.risk]\nmax_order_contracts = 7\n")
    with pytest.raises(SystemExit) as done:
        main(["--settings", str(user), "--env=production", "config", "show", "--json"])
    assert done.value.code == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["risk"]["max_order_contracts"] == 7
    assert shown["mode"] == "live"


def test_main_reports_config_errors_without_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--env", "nowhere", "plugins"])
    assert done.value.code == 2
    assert "Error: environment 'nowhere'" in capsys.readouterr().err


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "kalshi-core"
    result = subprocess.run([str(script), "version"], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("kalshi-core ")


class _Greeter:
    @hookimpl
    def register_commands(self, cli: click.Group) -> None:
        @cli.command()
        def greet() -> None:
            """Say hello."""
            click.echo("hello from a plugin command")


def test_plugin_commands_join_the_cli() -> None:
    manager = PluginManager()
    manager.load_entry_points()
    manager.register(_Greeter(), "greeter")
    result = CliRunner().invoke(make_cli(App.create(manager=manager)), ["greet"])
    assert result.stdout == "hello from a plugin command\n"


def test_plugins_table_columns_line_up_past_the_longest_name() -> None:
    """``statistical_forecasters`` (23 characters) once pushed its row one column out."""
    _, out, _ = _run("plugins")
    lines = [ln for ln in out.splitlines() if not ln.startswith("    error:")]
    header = lines[0]
    for column in ("version", "status", "distribution", "hooks"):
        start = header.index(column)
        assert all(ln[start - 1] == " " and ln[start] != " " for ln in lines), column
    [long_row] = [ln for ln in lines if ln.startswith("statistical_forecasters ")]
    assert long_row[header.index("version") :].startswith("0.")

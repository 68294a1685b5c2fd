"""``[dashboard]`` settings and the ``kalshi-core dashboard`` command: loopback unless allowed,
no short token, the token masked everywhere, clear errors for a bad setup."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from kalshi_core.app import App
from kalshi_core.cli import make_cli
from kalshi_core.dashboard.settings import DashboardOptions, is_loopback
from kalshi_core.errors import ConfigError
from tests.dashboard.conftest import TOKEN


@pytest.fixture
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(os.environ):
        if name.startswith("KALSHI_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("KALSHI_LOAD_PLUGINS", "builtin")
    monkeypatch.setenv("KALSHI_DATABASE__URL", f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(make_cli(App.create()), list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("127.5.5.5", True),
        ("0.0.0.0", False),
        ("192.168.1.4", False),
        ("example.com", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_the_defaults_are_off_and_on_loopback(clean: Path) -> None:
    app = App.create()
    section = app.section("dashboard")
    assert section["enabled"] is False
    options = DashboardOptions.from_app(app)
    assert options.host == "127.0.0.1"
    assert options.token == ""


def test_a_public_host_needs_allow_remote(clean: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KALSHI_DASHBOARD__HOST", "0.0.0.0")
    with pytest.raises(ConfigError, match="allow_remote"):
        DashboardOptions.from_app(App.create())
    monkeypatch.setenv("KALSHI_DASHBOARD__ALLOW_REMOTE", "true")
    assert DashboardOptions.from_app(App.create()).host == "0.0.0.0"


def test_a_short_token_is_refused_and_a_token_is_never_shown(
    clean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KALSHI_DASHBOARD__TOKEN", "short")
    with pytest.raises(ConfigError, match="too short") as refused:
        DashboardOptions.from_app(App.create())
    assert "short'" not in str(refused.value)
    monkeypatch.setenv("KALSHI_DASHBOARD__TOKEN", TOKEN)
    options = DashboardOptions.from_app(App.create())
    assert TOKEN not in repr(options)
    code, out = run("config", "show", "--json")
    assert code == 0
    assert TOKEN not in out
    assert json.loads(out[out.index("{") :])["dashboard"]["token"] == "********"


def test_a_bad_setting_is_named(clean: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KALSHI_DASHBOARD__REFRESH_SECONDS", "0")
    code, out = run("config", "validate")
    assert code == 2
    assert "dashboard.refresh_seconds" in out


def test_the_command_refuses_a_public_host(clean: Path) -> None:
    code, out = run("dashboard", "--host", "0.0.0.0")
    assert code == 2
    assert "allow_remote" in out


def test_the_command_refuses_a_database_that_was_never_created(clean: Path) -> None:
    code, out = run("dashboard", "--port", "0")
    assert code == 2
    assert "db upgrade" in out or "kalshi-core db" in out


def test_the_command_refuses_a_taken_port(clean: Path) -> None:
    run("db", "upgrade")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        code, out = run("dashboard", "--port", str(taken.getsockname()[1]))
    assert code == 2
    assert "dashboard not started" in out


def test_the_command_serves_the_database_until_interrupted(clean: Path, traded: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KALSHI_")}
    env |= {
        "KALSHI_LOAD_PLUGINS": "builtin",
        "KALSHI_DATABASE__URL": f"sqlite+aiosqlite:///{traded}",
    }
    script = Path(sys.executable).with_name("kalshi-core")
    process = subprocess.Popen(
        [str(script), "dashboard", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "(read-only; Ctrl-C stops)" in line, line
        url = line.split()[2]
        page = httpx.get(url, timeout=30)
        assert page.status_code == 200
        assert "No engine is attached" in page.text
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()

"""Issue 17, settings items: a relative ``--settings`` file, unknown keys, ``nan``, list types,
secrets at any depth (items 2, 8 and 10 of docs/reliability.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kalshi_core.app import App
from kalshi_core.cli import main
from kalshi_core.settings import layer_of

USER_FILE = """\
[default]
mode = "live"

[default.risk]
max_position_pct = 0.01

[default.kalshi]
base_url = "http://127.0.0.1:9/trade-api/v2"
timeout_seconds = 3.0

[default.strategies]
enabled = ["exits"]

[default.strategies.directional]
max_position_pct = 0.02

[default.exchange]
data_sets = ["kxinxu"]
"""

EXPECTED = {
    "mode": "live",
    "risk.max_position_pct": 0.01,
    "kalshi.base_url": "http://127.0.0.1:9/trade-api/v2",
    "kalshi.timeout_seconds": 3.0,
    "strategies.enabled": ["exits"],
    "strategies.directional.max_position_pct": 0.02,
    "exchange.data_sets": ["kxinxu"],
}


def test_a_relative_settings_file_applies_every_layer_from_another_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the name the embedded defaults also carry: Dynaconf used to find those instead
    (tmp_path / "project").mkdir()
    user = tmp_path / "project" / "settings.toml"
    user.write_text(USER_FILE)
    monkeypatch.chdir(tmp_path / "project")
    app = App.create(settings_file="settings.toml")
    assert app.settings_file == user
    for key, value in EXPECTED.items():
        assert (key, app.settings.get(key)) == (key, value)
        assert (key, layer_of(app.settings, key)) == (key, f"[default] in {user}")
    assert layer_of(app.settings, "risk.max_order_contracts").endswith("config/settings.toml")


def test_a_relative_settings_file_through_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "settings.toml").write_text(USER_FILE)
    monkeypatch.chdir(tmp_path / "project")
    with pytest.raises(SystemExit):
        main(["--settings", "settings.toml", "config", "show"])
    shown = capsys.readouterr().out.splitlines()
    assert 'mode = "live"' in shown
    assert "risk.max_position_pct = 0.01" in shown
    assert 'kalshi.base_url = "http://127.0.0.1:9/trade-api/v2"' in shown
    with pytest.raises(SystemExit):
        main(["--settings", "settings.toml", "config", "path"])
    assert f"{tmp_path / 'project' / 'settings.toml'} (found)" in capsys.readouterr().out

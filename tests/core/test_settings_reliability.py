"""Issue 17, settings items: a relative ``--settings`` file, unknown keys, ``nan``, list types,
secrets at any depth (items 2, 8 and 10 of docs/reliability.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kalshi_core.app import App
from kalshi_core.cli import main, make_cli
from kalshi_core.errors import ConfigError
from kalshi_core.settings import MASK, Problem, layer_of, mask_secrets
from kalshi_core.settings_rules import Rule

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


# ---- item 10: unknown keys, nan, lists ----


def _run_cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(make_cli(App.create()), list(args))
    return result.exit_code, result.stdout, result.stderr


def test_a_typo_in_a_file_warns_with_the_closest_key_and_fails_when_strict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = tmp_path / "mine.toml"
    user.write_text("[default.risk]\nmax_postion_pct = 0.01\n")
    monkeypatch.setenv("KALSHI_SETTINGS_FILE", str(user))
    code, out, err = _run_cli("config", "validate")
    assert (code, out.strip()) == (0, "settings are valid")
    assert (
        f"warning: unknown setting risk.max_postion_pct (set by [default] in {user}); "
        "did you mean risk.max_position_pct?"
    ) in err
    code, _, err = _run_cli("config", "validate", "--strict")
    assert code == 2
    [line] = err.strip().splitlines()
    assert line.startswith("invalid setting: risk.max_postion_pct = ******** is not a known")
    assert "did you mean risk.max_position_pct?" in line


def test_a_typo_in_an_environment_variable_fails_in_production(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KALSHI_MODEE", "paper")
    assert [str(u) for u in App.create().unknown_settings()] == [
        "unknown setting modee (set by environment variable KALSHI_MODEE); did you mean mode?"
    ]
    assert App.create().problems() == []  # development: a warning only
    production = App.create(env="production")
    [problem] = [p for p in production.problems() if p.key == "modee"]
    assert "did you mean mode?" in str(problem)
    with pytest.raises(ConfigError, match="modee"):
        production.check()


def test_known_keys_are_not_reported_in_any_environment() -> None:
    for env in ("development", "staging", "production"):
        assert App.create(env=env).unknown_settings() == []


def test_plugin_sections_and_loader_switches_are_known(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KALSHI_VALIDATORS__MARKET_STATUS__MIN_SECONDS_TO_CLOSE", "5")
    monkeypatch.setenv("KALSHI_DISABLE_PLUGINS", "log_alerter")
    assert App.create().unknown_settings() == []


@pytest.mark.parametrize("raw", ["nan", "inf", "-inf", "+nan"])
def test_nan_and_infinity_fail_numeric_rules(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("KALSHI_RISK__MAX_POSITION_PCT", raw)
    monkeypatch.setenv("KALSHI_RUN__SPEED", raw)
    problems = {p.key: str(p) for p in App.create().problems()}
    for key, name in (
        ("risk.max_position_pct", "KALSHI_RISK__MAX_POSITION_PCT"),
        ("run.speed", "KALSHI_RUN__SPEED"),
    ):
        assert "is not a finite number" in problems[key]
        assert f"environment variable {name}" in problems[key]


def test_nan_fails_a_rule_without_bounds() -> None:
    rule = Rule(key="x", types=(int, float))
    assert rule.problem(float("nan")) == "is not a finite number"
    assert rule.problem(1.5) is None


def test_a_string_for_a_list_setting_is_an_error_naming_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = tmp_path / "mine.toml"
    user.write_text('[default.strategies]\nenabled = "exits"\n')
    monkeypatch.setenv("KALSHI_FORECAST__MODELS", "llm")
    app = App.create(settings_file=user)
    problems = {p.key: str(p) for p in app.problems()}
    assert problems["strategies.enabled"] == (
        "strategies.enabled = 'exits' is a string, not a list (write ['exits']): allowed is a "
        f"list (strategies to run) (set by [default] in {user})"
    )
    assert "write ['llm']" in problems["forecast.models"]
    assert "environment variable KALSHI_FORECAST__MODELS" in problems["forecast.models"]
    with pytest.raises(ConfigError, match=r"strategies\.enabled"):
        app.check()


def test_a_number_for_a_list_setting_is_an_error_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KALSHI_PLUGINS__DISABLED", "7")
    problems = {p.key: str(p) for p in App.create().problems()}
    assert "has the wrong type int" in problems["plugins.disabled"]


# ---- item 8: secrets at any depth ----

NESTED_MODELS = (
    '[{model = "a", base_url = "http://127.0.0.1:1/v1", api_key = "sk-NESTED-1"},'
    ' {model = "b", extra = {client_secret = "cs-DEEP-2", token = "tok-DEEP-3"}}]'
)
SECRETS = ("sk-NESTED-1", "cs-DEEP-2", "tok-DEEP-3", "sk-TOP-4")


def test_config_show_masks_secrets_inside_list_entries_and_nested_tables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KALSHI_FORECASTERS__LLM__MODELS", NESTED_MODELS)
    monkeypatch.setenv("KALSHI_FORECASTERS__LLM__API_KEY", "sk-TOP-4")
    for args in (("config", "show"), ("config", "show", "--json")):
        code, out, err = _run_cli(*args)
        assert code == 0
        for secret in SECRETS:
            assert secret not in out + err, (args, secret)
    shown = json.loads(_run_cli("config", "show", "--json")[1])
    first, second = shown["forecasters"]["llm"]["models"]
    assert (first["api_key"], first["base_url"], first["model"]) == (
        MASK,
        "http://127.0.0.1:1/v1",
        "a",
    )
    assert second["extra"] == {"client_secret": MASK, "token": MASK}
    assert shown["forecasters"]["llm"]["api_key"] == MASK
    assert shown["kalshi"]["api_key_id"] == ""  # an id is not a secret: shown as is


def test_secret_rules_mask_by_their_name_at_any_depth() -> None:
    names = frozenset({"private_key", "url"})
    data = {"a": [{"url": "postgresql://u:pw@127.0.0.1/db", "private_key_path": "/k.pem"}]}
    assert mask_secrets(data, names) == {"a": [{"url": MASK, "private_key_path": "/k.pem"}]}
    assert mask_secrets({"api_key": ""}) == {"api_key": ""}  # nothing set: nothing to hide


def test_a_problem_never_shows_a_nested_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KALSHI_FORECASTERS__LLM__MODELS", NESTED_MODELS)
    monkeypatch.setenv("KALSHI_FORECASTERS__LLM__TEMPERATURE", "9")
    app = App.create()
    text = "\n".join(str(p) for p in app.problems())
    text += "\n".join(str(u) for u in app.unknown_settings())
    for secret in SECRETS:
        assert secret not in text
    problem = Problem("k", [{"api_key": "sk-x"}], "is bad", "good", "here")
    assert "sk-x" not in str(problem)


def test_secrets_scan_of_every_config_command_with_nested_tables_in_secrets_toml(
    tmp_path: Path,
) -> None:
    (tmp_path / ".secrets.toml").write_text(
        "[default.forecasters.llm]\n"
        'api_key = "sk-TOP-4"\n'
        f"models = {NESTED_MODELS}\n"
        "[default.forecasters.llm.extra.deeper]\n"
        'password = "pw-DEEPEST-5"\n'
    )
    outputs = []
    for args in (("config", "show"), ("config", "show", "--json"), ("config", "validate")):
        _, out, err = _run_cli(*args)
        outputs.append(out + err)
    _, out, err = _run_cli("config", "validate", "--strict")  # the unknown table is reported
    assert "forecasters.llm.extra.deeper.password" in err
    outputs.append(out + err)
    for secret in (*SECRETS, "pw-DEEPEST-5"):
        assert not [text for text in outputs if secret in text], secret

"""Settings layering, validation messages and masking."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from kalshi_core.app import App
from kalshi_core.errors import ConfigError
from kalshi_core.settings import (
    MASK,
    as_plain_dict,
    layer_of,
    load_settings,
    packaged_settings_path,
)


def _problems_for(app: App, key: str) -> list[str]:
    return [str(p) for p in app.problems() if p.key == key]


def test_embedded_defaults_are_valid() -> None:
    assert App.create().problems() == []


def test_production_differs_from_default_exactly_where_settings_toml_says() -> None:
    toml = tomllib.loads(packaged_settings_path().read_text())
    rules = App.create().rules
    default = as_plain_dict(load_settings(), rules)
    production = as_plain_dict(load_settings(env="production"), rules)
    expected = {
        f"{section}.{key}" if isinstance(values, dict) else section
        for section, values in toml["production"].items()
        for key in (values if isinstance(values, dict) else [None])
    }
    changed = {
        f"{section}.{key}" if isinstance(value, dict) else section
        for section, value in production.items()
        for key in (value if isinstance(value, dict) else [None])
        if (default[section][key] if isinstance(value, dict) else default[section])
        != (value[key] if isinstance(value, dict) else value)
    }
    assert changed == expected


def test_environment_variable_overrides_and_is_named_as_the_layer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KALSHI_RISK__MAX_POSITION_PCT", "7")
    app = App.create()
    [message] = _problems_for(app, "risk.max_position_pct")
    assert "risk.max_position_pct = 7" in message
    assert "above 0 and at most 1" in message
    assert "fraction of the portfolio" in message
    assert "environment variable KALSHI_RISK__MAX_POSITION_PCT" in message


def test_nested_env_var_keeps_sibling_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KALSHI_RISK__MAX_POSITION_PCT", "0.03")
    settings = App.create().settings
    assert settings.risk.max_position_pct == 0.03
    assert settings.risk.max_order_contracts == 100


def test_user_file_layer_is_named(tmp_path: Path) -> None:
    user = tmp_path / "mine.toml"
    user.write_text('[default.logging]\nlevel = "LOUD"\n')
    app = App.create(settings_file=user)
    [message] = _problems_for(app, "logging.level")
    assert str(user) in message
    assert "'DEBUG'" in message


def test_environment_section_layer_is_named(tmp_path: Path) -> None:
    user = tmp_path / "mine.toml"
    user.write_text("[staging.risk]\nmax_order_contracts = 0\n")
    app = App.create(settings_file=user, env="staging")
    [message] = _problems_for(app, "risk.max_order_contracts")
    assert f"[staging] in {user}" in message


def test_secrets_file_is_layered_and_masked(tmp_path: Path) -> None:
    (tmp_path / ".secrets.toml").write_text('[default.kalshi]\nprivate_key = "PEM-SECRET"\n')
    app = App.create()
    assert app.settings.kalshi.private_key == "PEM-SECRET"
    shown = as_plain_dict(app.settings, app.rules)
    assert shown["kalshi"]["private_key"] == MASK
    assert "PEM-SECRET" not in repr(shown)


def test_secret_values_are_masked_in_problems(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KALSHI_KALSHI__PRIVATE_KEY", "@int 12345")
    [message] = _problems_for(App.create(), "kalshi.private_key")
    assert "12345" not in message
    assert MASK in message


def test_unknown_environment_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"'prod' .* not one of development, staging, production"):
        App.create(env="prod")


def test_missing_settings_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        App.create(settings_file=tmp_path / "nope.toml")


def test_plugin_defaults_sit_beneath_every_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    app = App.create()
    assert app.section("validators.market_status") == {"min_seconds_to_close": 60}
    assert layer_of(app.settings, "validators.market_status.min_seconds_to_close") == (
        "a plugin's defaults"
    )
    monkeypatch.setenv("KALSHI_VALIDATORS__MARKET_STATUS__MIN_SECONDS_TO_CLOSE", "5")
    assert App.create().section("validators.market_status")["min_seconds_to_close"] == 5


def test_plugin_rules_are_enforced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KALSHI_VALIDATORS__MARKET_STATUS__MIN_SECONDS_TO_CLOSE", "-1")
    [message] = _problems_for(App.create(), "validators.market_status.min_seconds_to_close")
    assert "out of range" in message


def test_unknown_plugin_name_in_a_list_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KALSHI_PIPELINE__VALIDATORS", '["market_status", "nosuch"]')
    [message] = _problems_for(App.create(), "pipeline.validators")
    assert "'nosuch'" in message
    assert "market_status" in message


def test_check_raises_one_error_listing_all(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KALSHI_RISK__MAX_POSITION_PCT", "0")
    monkeypatch.setenv("KALSHI_MODE", "yolo")
    with pytest.raises(ConfigError) as caught:
        App.create().check()
    assert "risk.max_position_pct" in str(caught.value)
    assert "mode = 'yolo'" in str(caught.value)


def test_lists_replace_rather_than_append(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    user = tmp_path / "mine.toml"
    user.write_text('[default.strategies]\nenabled = ["market_maker"]\n')
    app = App.create(settings_file=user)
    assert app.settings.strategies.enabled == ["market_maker"]
    assert layer_of(app.settings, "strategies.enabled") == f"[default] in {user}"
    assert app.section("risk")["max_order_contracts"] == 100  # tables still merge
    monkeypatch.setenv("KALSHI_FORECAST__MODELS", '["llm", "calibrated"]')
    app = App.create(settings_file=user)
    assert app.settings.forecast.models == ["llm", "calibrated"]
    assert layer_of(app.settings, "forecast.models") == (
        "environment variable KALSHI_FORECAST__MODELS"
    )
    assert app.settings.strategies.enabled == ["market_maker"]

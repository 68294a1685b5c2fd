"""Per-series validator settings: 15-minute markets get their own time_to_close."""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from kalshi_core.app import App
from kalshi_core.builtin import validators as v
from kalshi_core.builtin.series_overrides import by_series
from kalshi_core.errors import ConfigError
from kalshi_core.protocols import IntentValidator, Validator
from tests.engine.builders import NOW, buy, context, forecast, market

CRYPTO = "KXBTC15M-26JAN021215-15"


def time_to_close(series: dict[str, Any]) -> Any:
    build = by_series("time_to_close", v.make_time_to_close, v._rules_by_key("time_to_close"))
    return build({"min_seconds": 3600, "max_seconds": 86_400, "series": series})


def closing_in(ticker: str, event: str, seconds: int) -> Any:
    return market(ticker, event_ticker=event, close_time=NOW + timedelta(seconds=seconds))


def test_a_series_gets_its_own_window_and_others_keep_the_default() -> None:
    check = time_to_close({"KXBTC15M": {"min_seconds": 60, "max_seconds": 1800}})
    crypto = closing_in(CRYPTO, "KXBTC15M-26JAN021215", 600)
    index = closing_in("KXINXU-26JAN02H1600-T1", "KXINXU-26JAN02H1600", 600)
    assert check.validate(crypto, context()).accepted
    verdict = check.validate(index, context())
    assert not verdict.accepted
    assert "under the minimum 3600s" in verdict.reason
    long_crypto = closing_in(CRYPTO, "KXBTC15M-26JAN021215", 7200)
    assert "over the maximum 1800s" in check.validate(long_crypto, context()).reason


def test_series_match_ignores_case_and_keeps_the_stage_shape() -> None:
    check = time_to_close({"kxbtc15m": {"min_seconds": 60}})
    assert isinstance(check, Validator)
    assert not isinstance(check, IntentValidator)
    assert check.validate(closing_in(CRYPTO, "KXBTC15M-26JAN021215", 600), context()).accepted
    assert check.min_to_close == timedelta(seconds=3600)  # the default's attributes show


def test_intent_validators_take_series_overrides_too() -> None:
    build = by_series("min_edge", v.make_min_edge, v._rules_by_key("min_edge"))
    check = build({"min_edge_cents": 3, "series": {"KXTEST": {"min_edge_cents": 20}}})
    assert isinstance(check, IntentValidator)
    verdict = check.validate_intent(buy(5000, 10), market(), forecast(6000), context())
    assert not verdict.accepted
    assert "minimum $0.2000" in verdict.reason
    other = market("KXOTHER-1-A", event_ticker="KXOTHER-1")
    assert check.validate_intent(buy(5000, 10), other, forecast(6000), context()).accepted


@pytest.mark.parametrize(
    ("series", "words"),
    [
        ({"KXBTC15M": {"min_secs": 60}}, "KXBTC15M: unknown key 'min_secs'"),
        ({"KXBTC15M": {"min_seconds": -5}}, "KXBTC15M.min_seconds = -5 is out of range"),
        ({"KXBTC15M": {"min_seconds": "soon"}}, "has the wrong type str"),
        ({"KXBTC15M": 60}, "series.KXBTC15M must be a table"),
    ],
)
def test_bad_overrides_name_the_series_and_key(series: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        time_to_close(series)


def test_overrides_from_a_settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KALSHI_ENV", "KALSHI_SETTINGS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KALSHI_LOAD_PLUGINS", "builtin")
    path = tmp_path / "settings.toml"
    path.write_text(
        "[default.validators.time_to_close.series.KXBTC15M]\nmin_seconds = 60\nmax_seconds = 1800\n"
    )
    app = App.create(settings_file=path)
    assert app.problems() == []
    check = app.build("validators", "time_to_close")
    assert check.validate(closing_in(CRYPTO, "KXBTC15M-26JAN021215", 600), context()).accepted


def test_config_validate_reports_a_bad_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("KALSHI_ENV", "KALSHI_SETTINGS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KALSHI_LOAD_PLUGINS", "builtin")
    path = tmp_path / "settings.toml"
    path.write_text("[default.validators.spread.series.KXXRP15M]\nmax_spread_cents = 500\n")
    [problem] = App.create(settings_file=path).problems()
    assert problem.key == "validators.spread.series"
    text = str(problem)
    assert "KXXRP15M.max_spread_cents = 500 is out of range" in text
    assert str(path) in text


def test_a_wrapped_validator_copies_and_reports_missing_attributes() -> None:
    check = time_to_close({"KXBTC15M": {"min_seconds": 60}})
    clone = copy.deepcopy(check)
    assert clone.validate(closing_in(CRYPTO, "KXBTC15M-26JAN021215", 600), context()).accepted
    with pytest.raises(AttributeError):
        _ = check.no_such_attribute

"""Both forecasters register through the hooks, with validated settings; `kalshi-core fit`."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from kalshi_core import signals
from kalshi_core.builtin import calibrated_forecaster, llm_forecaster
from kalshi_core.cli import make_cli
from kalshi_core.forecasting.calibrated import CalibratedForecaster
from kalshi_core.forecasting.calibration import CalibrationCurve
from kalshi_core.forecasting.llm import LLMForecaster
from kalshi_core.settings import as_plain_dict
from kalshi_core.testing.pytest_plugin import AppFactory

from .history import FakeMarket, write_data_set

PLUGINS = (calibrated_forecaster, llm_forecaster)


def test_forecasters_are_registered_by_name(kalshi_app_factory: AppFactory) -> None:
    app = kalshi_app_factory(*PLUGINS, settings={"forecast.models": ["calibrated", "llm"]})
    assert {"calibrated", "llm"} <= set(app.registry("forecasters").names())
    assert app.problems() == []
    assert isinstance(app.build("forecasters", "calibrated"), CalibratedForecaster)
    llm = app.build("forecasters", "llm")
    assert isinstance(llm, LLMForecaster)
    assert [m.model for m in llm.options.members] == ["gpt-4o-mini"]
    assert llm.options.daily_budget == 50_000


def test_bad_settings_are_reported_by_key(kalshi_app_factory: AppFactory) -> None:
    app = kalshi_app_factory(
        *PLUGINS,
        settings={
            "forecasters.llm.temperature": 5,
            "forecasters.llm.combine": "mode",
            "forecasters.calibrated.min_samples_per_bin": -1,
        },
    )
    bad = {problem.key for problem in app.problems()}
    assert bad == {
        "forecasters.llm.temperature",
        "forecasters.llm.combine",
        "forecasters.calibrated.min_samples_per_bin",
    }


def test_api_key_setting_is_secret(kalshi_app_factory: AppFactory) -> None:
    app = kalshi_app_factory(*PLUGINS, settings={"forecasters.llm.api_key": "sk-hidden-123"})
    shown = json.dumps(as_plain_dict(app.settings, app.rules))
    assert "sk-hidden-123" not in shown
    assert app.section("forecasters.llm")["api_key"] == "sk-hidden-123"


def test_forecast_rejected_signal_is_announced() -> None:
    assert signals.forecast_rejected in signals.ALL


def test_fit_command_writes_a_curve_the_forecaster_then_uses(
    kalshi_app_factory: AppFactory, tmp_path: Path
) -> None:
    markets = [
        FakeMarket(f"A-{i}", "yes" if i % 3 else "no", prices=[60, 65, 70]) for i in range(30)
    ]
    markets += [FakeMarket(f"B-{i}", "no", prices=[30, 25], quotes=[(20, 24)]) for i in range(30)]
    write_data_set(tmp_path / "history", "mine", markets)
    write_data_set(tmp_path / "history", "other", [FakeMarket("C-1", "yes", prices=[99])])
    output = tmp_path / "curves" / "mine.json"
    app = kalshi_app_factory(*PLUGINS)
    result = CliRunner().invoke(
        make_cli(app),
        [
            "fit",
            "--data",
            str(tmp_path / "history"),
            "--data-set",
            "mine",
            "--output",
            str(output),
            "--holdout-fraction",
            "0.3",
        ],
    )
    assert result.exit_code == 0, result.output
    curve = CalibrationCurve.load(output)
    assert curve.info.data_sets == ("mine",)
    assert curve.info.holdout_fraction == 0.3
    assert "read mine: 60 settled markets, 180 samples" in result.output
    assert "VERDICT: " in result.output
    assert f"KALSHI_FORECASTERS__CALIBRATED__CURVE_PATH={output.resolve()}" in result.output
    configured = kalshi_app_factory(
        *PLUGINS, settings={"forecasters.calibrated.curve_path": str(output)}
    )
    assert configured.build("forecasters", "calibrated").curve.info == curve.info


def test_fit_command_reports_a_missing_data_set(
    kalshi_app_factory: AppFactory, tmp_path: Path
) -> None:
    write_data_set(tmp_path, "only", [FakeMarket("C-1", "yes", prices=[50])])
    result = CliRunner().invoke(
        make_cli(kalshi_app_factory(*PLUGINS)),
        [
            "fit",
            "--data",
            str(tmp_path),
            "--data-set",
            "absent",
            "--output",
            str(tmp_path / "x.json"),
        ],
    )
    assert result.exit_code == 2  # a user error, as every command reports it
    assert "'absent'" in result.output
    assert not (tmp_path / "x.json").exists()

"""The statistical forecasters as plugins, and `kalshi-core fit`'s honesty at the command line."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner

from kalshi_core.builtin import calibrated_forecaster, statistical_forecasters
from kalshi_core.builtin.calibrated_forecaster import active_curve_warning
from kalshi_core.cli import make_cli
from kalshi_core.errors import ConfigError
from kalshi_core.forecasting.calibrated import default_curve_path
from kalshi_core.forecasting.fitting import load_data_set
from kalshi_core.forecasting.statistical import LogisticModel
from kalshi_core.forecasting.statistical_forecasters import LadderForecaster, ModelForecaster
from kalshi_core.models import Market
from kalshi_core.protocols import PipelineContext
from kalshi_core.testing.pytest_plugin import AppFactory

from .history import FakeMarket, write_data_set

PLUGINS = (calibrated_forecaster, statistical_forecasters)
BUNDLED = default_curve_path().parent.parent / "history"


def _fit(app_factory: AppFactory, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(make_cli(app_factory(*PLUGINS)), ["fit", *args])
    return result.exit_code, result.output


def test_fit_refuses_an_outcome_selected_set_by_name(
    kalshi_app_factory: AppFactory, tmp_path: Path
) -> None:
    code, output = _fit(
        kalshi_app_factory, "--data-set", "kxinxu", "--output", str(tmp_path / "c.json")
    )
    assert code == 2
    assert "refusing to fit or score on data set 'kxinxu'" in output
    assert not (tmp_path / "c.json").exists()


async def test_fit_writes_a_platt_model_the_plugin_then_loads(
    kalshi_app_factory: AppFactory, tmp_path: Path, market: Market, context: PipelineContext
) -> None:
    output = tmp_path / "platt.json"
    code, output_text = _fit(
        kalshi_app_factory, "--model", "platt", "--data-set", "crypto15m", "--output", str(output)
    )
    assert code == 0, output_text
    assert "LEFT OUT" not in output_text  # only the set asked for was read
    assert "VERDICT: " in output_text
    saved = json.loads(output.read_text())
    assert saved["fit"]["data_sets"] == ["crypto15m"]
    assert saved["evaluation"]["horizons"]["all"]["brier_difference"]["resamples"] == 1000
    app = kalshi_app_factory(*PLUGINS, settings={"forecasters.platt.model_path": str(output)})
    forecaster = app.build("forecasters", "platt")
    assert isinstance(forecaster, ModelForecaster)
    forecast = await forecaster.forecast(market, context)
    assert forecast is not None
    assert forecast.model == "platt"
    assert forecast.stderr is not None
    assert 0 < forecast.stderr < 10_000


def test_a_model_forecaster_without_a_model_says_how_to_make_one(
    kalshi_app_factory: AppFactory,
) -> None:
    app = kalshi_app_factory(*PLUGINS)
    with pytest.raises(ConfigError, match=r"kalshi-core fit --model logistic"):
        app.build("forecasters", "logistic")


def test_a_model_file_of_another_kind_is_refused(
    kalshi_app_factory: AppFactory, tmp_path: Path
) -> None:
    model = LogisticModel(
        kind="platt", names=("intercept",), coefficients=(0.0,), covariance=((1.0,),)
    )
    model.save(tmp_path / "m.json")
    app = kalshi_app_factory(
        *PLUGINS, settings={"forecasters.longshot.model_path": str(tmp_path / "m.json")}
    )
    with pytest.raises(ConfigError, match=r"holds a 'platt' model, not 'longshot'"):
        app.build("forecasters", "longshot")


async def test_the_ladder_forecaster_uses_its_siblings(
    market: Market, context: PipelineContext
) -> None:
    ladder = LadderForecaster()
    low = attrs.evolve(
        market,
        ticker="E-T100",
        event_ticker="E",
        strike_type="greater",
        floor_strike=100.0,
        yes_bid=5000,
        yes_ask=5200,
    )
    high = attrs.evolve(low, ticker="E-T110", floor_strike=110.0, yes_bid=6000, yes_ask=6200)
    first = await ladder.forecast(low, context)
    second = await ladder.forecast(high, context)
    assert first is not None
    assert first.probability == 5100
    assert second is not None
    assert second.probability == 5600
    assert second.stderr is not None
    assert second.stderr > 100


def test_run_warns_when_the_active_curve_failed(
    kalshi_app_factory: AppFactory, tmp_path: Path
) -> None:
    data = json.loads(default_curve_path().read_text())
    for row in data["bins"]:  # a curve that moves every price up, never judged better
        row["probability"] = min(1.0, row["probability"] + 0.05)
    data["evaluation"]["verdict"]["label"] = "no edge"
    (tmp_path / "bad.json").write_text(json.dumps(data))
    app = kalshi_app_factory(
        *PLUGINS, settings={"forecasters.calibrated.curve_path": str(tmp_path / "bad.json")}
    )
    warning = active_curve_warning(app)
    assert warning is not None
    assert "failed its own test (fit verdict: no edge)" in warning


def test_score_on_separate_test_data_trains_only_before_it(
    kalshi_app_factory: AppFactory, tmp_path: Path
) -> None:
    early = [FakeMarket(f"A-{i}", "yes" if i % 2 else "no", prices=[50, 52]) for i in range(30)]
    write_data_set(tmp_path / "fit", "early", early)
    code, output = _fit(
        kalshi_app_factory,
        "--data",
        str(tmp_path / "fit"),
        "--test-data",
        str(BUNDLED),
        "--test-set",
        "crypto15m",
        "--output",
        str(tmp_path / "c.json"),
    )
    assert code == 0, output
    assert "scored 173 markets, split scored on separate test data" in output
    code, output = _fit(kalshi_app_factory, "--test-set", "crypto15m")
    assert code == 2
    assert "--test-set needs --test-data" in output


def test_fixed_point_trades_exact_quotes_and_price_derived_labels(tmp_path: Path) -> None:
    folder = write_data_set(tmp_path, "tape", [FakeMarket("T-1", "yes"), FakeMarket("T-2", "no")])
    rows = [json.loads(line) for line in (folder / "markets.jsonl").read_text().splitlines()]
    rows[1]["result_source"] = "final_quote"
    (folder / "markets.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    moment = rows[0]["open_time"]
    trade = {
        "trade_id": "x",
        "ticker": "T-1",
        "created_time": moment,
        "yes_price_dollars": "0.0930",
        "no_price_dollars": "0.9070",
        "count_fp": "2.50",
        "taker_side": "yes",
        "taker_outcome_side": "yes",
        "taker_book_side": "bid",
    }
    quote = {
        "ticker": "T-1",
        "ts": moment,
        "yes_bid": 9,
        "yes_ask": 11,
        "yes_bid_dollars": "0.0950",
        "yes_ask_dollars": "0.1010",
    }
    with gzip.open(folder / "trades.jsonl.gz", "wt") as out:
        out.write(json.dumps(trade) + "\n")
    with gzip.open(folder / "quotes.jsonl.gz", "wt") as out:
        out.write(json.dumps(quote) + "\n")
    [market] = load_data_set(tmp_path, "tape")  # T-2's label came from its price: left out
    assert market.ticker == "T-1"
    assert sorted(market.prices) == [930, 980]
    assert max(market.volumes) == pytest.approx(2.5)
    assert market.close_time - market.first_seen == timedelta(hours=6)


async def test_the_ladder_ignores_stale_siblings_and_forgets_closed_events(
    market: Market, context: PipelineContext
) -> None:
    ladder = LadderForecaster(max_age_seconds=60)
    low = attrs.evolve(
        market,
        ticker="E-T100",
        event_ticker="E",
        strike_type="greater",
        floor_strike=100.0,
        yes_bid=5000,
        yes_ask=5200,
        close_time=context.now + timedelta(hours=1),
    )
    high = attrs.evolve(low, ticker="E-T110", floor_strike=110.0, yes_bid=6000, yes_ask=6200)
    await ladder.forecast(low, context)
    later = attrs.evolve(context, now=context.now + timedelta(minutes=5))
    alone = await ladder.forecast(high, later)
    assert alone is not None
    assert alone.probability == 6100  # its sibling's price is 5 minutes old: not used
    after_close = attrs.evolve(context, now=context.now + timedelta(hours=2))
    other = attrs.evolve(low, ticker="F-T1", event_ticker="F", close_time=after_close.now)
    await ladder.forecast(other, after_close)
    assert "E" not in ladder.latest


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(kind="something else"), "not a kalshi-core statistical model"),
        (lambda d: d.update(version=7), "unsupported version 7"),
        (lambda d: d.update(model="forest"), "unknown model 'forest'"),
        (lambda d: d["coefficients"].__setitem__(0, float("nan")), "finite"),
        (lambda d: d.update(covariance=[[1.0]]), "matrix"),
    ],
)
def test_hostile_model_files_fail_with_a_clear_error(
    tmp_path: Path, edit: object, message: str
) -> None:
    model = LogisticModel(
        kind="platt",
        names=("intercept", "logit_price"),
        coefficients=(0.1, 0.9),
        covariance=((0.01, 0.0), (0.0, 0.01)),
    )
    data = json.loads(model.to_json())
    edit(data)  # type: ignore[operator]
    path = tmp_path / "hostile-model.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match=rf"hostile-model\.json.*{message}"):
        LogisticModel.load(path)

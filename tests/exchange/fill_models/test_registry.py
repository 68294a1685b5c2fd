"""register_fill_models: built-ins through the entry point, a plugin's model chosen by
exchange.fill_model, and settings that name what is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kalshi_core.app import App
from kalshi_core.clock import ManualClock
from kalshi_core.errors import ConfigError
from kalshi_core.exchange import Venue
from kalshi_core.exchange.fill_models.recorded import ProbQueue, TradeThrough, builder
from kalshi_core.exchange.liquidity import LiquidityProvider
from kalshi_core.hookspecs import hookimpl
from kalshi_core.plugins import PluginManager
from kalshi_core.venues.base import RunSpec
from kalshi_core.venues.simulated import fill_model_of, latency_of, open_simulated

from ..support import START


class CountingModel(LiquidityProvider):
    name = "counting"


class ThirdPartyFills:
    @hookimpl
    def register_fill_models(self, register: Any) -> None:
        register("counting", lambda section, **runtime: CountingModel(**runtime))


def app_with_plugin() -> App:
    manager = PluginManager()
    manager.load_entry_points()
    manager.register(ThirdPartyFills(), "third-party-fills")
    return App.create(manager=manager)


def build(app: App, **runtime: Any) -> Any:
    venue = Venue(ManualClock(START))
    return fill_model_of(app, app.section("exchange"))(
        venue=venue, account="lp", tape_account="tape", seed=3, **runtime
    )


def test_builtins_are_registered_and_trade_through_is_the_default(isolated: Path) -> None:
    app = App.create()
    assert app.registry("fill_models").names() == [
        "l2_replay",
        "prob_queue",
        "synthetic_book",
        "trade_through",
    ]
    assert app.registry("fill_models").get("trade_through").plugin == "fill_models"
    assert isinstance(build(app), TradeThrough)


def test_a_plugins_model_is_chosen_by_exchange_fill_model(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KALSHI_EXCHANGE__FILL_MODEL", "counting")
    app = app_with_plugin()
    assert app.problems() == []
    assert isinstance(build(app), CountingModel)


def test_prob_queue_reads_its_power(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KALSHI_EXCHANGE__FILL_MODEL", "prob_queue")
    monkeypatch.setenv("KALSHI_FILL_MODELS__PROB_QUEUE__POWER", "3.5")
    model = build(App.create())
    assert isinstance(model, ProbQueue)
    assert model.power == 3.5
    assert "x^3.5" in model.describe()["queue"]


@pytest.mark.parametrize(
    ("variable", "value", "wording"),
    [
        ("KALSHI_EXCHANGE__FILL_MODEL", "optimistic", "l2_replay, prob_queue, synthetic_book"),
        ("KALSHI_FILL_MODELS__PROB_QUEUE__POWER", "0", "fill_models.prob_queue.power"),
        ("KALSHI_EXCHANGE__LATENCY__CANCEL_MS", "-5", "exchange.latency.cancel_ms"),
    ],
)
def test_a_bad_setting_is_named_with_what_is_allowed(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, wording: str
) -> None:
    monkeypatch.setenv(variable, value)
    problems = [str(p) for p in App.create().problems()]
    assert len(problems) == 1
    assert wording in problems[0]


def test_latency_settings_become_the_venues_latency(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KALSHI_EXCHANGE__LATENCY__BASE_MS", "20")
    monkeypatch.setenv("KALSHI_EXCHANGE__LATENCY__INSERT_MS", "5")
    monkeypatch.setenv("KALSHI_EXCHANGE__LATENCY__CANCEL_MS", "30")
    latency = latency_of(App.create().section("exchange"))
    assert (latency.to_insert.total_seconds(), latency.to_cancel.total_seconds()) == (0.025, 0.05)


@pytest.mark.parametrize("name", ["prob_queue", "trade_through"])
async def test_the_simulated_venue_says_which_model_runs_and_its_assumptions(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, shared_data_dir: Path, name: str
) -> None:
    monkeypatch.setenv("KALSHI_EXCHANGE__FILL_MODEL", name)
    app = App.create()
    run = RunSpec(run_id="fills", data_dir=str(shared_data_dir), data_sets=("crypto15m",))
    async with open_simulated(app.section("venues.simulated"), app=app, run=run) as venue:
        assert venue.fill_model["model"] == name
        assert f"(fill model {name})" in venue.description


def test_a_models_unknown_setting_is_refused_by_name() -> None:
    venue = Venue(ManualClock(START))
    runtime = {"venue": venue, "account": "lp", "tape_account": "tape", "seed": 0}
    with pytest.raises(
        ConfigError, match=r"fill model trade_through: unknown settings \['bogus'\]"
    ):
        builder(TradeThrough)({"levels": 2, "bogus": 1}, **runtime)
    with pytest.raises(ConfigError, match="power must be in"):
        builder(ProbQueue)({"power": 0}, **runtime)
    assert builder(TradeThrough)({"levels": 2}, **runtime).config.levels == 2

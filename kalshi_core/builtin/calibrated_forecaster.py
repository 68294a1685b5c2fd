"""Built-in forecaster ``calibrated`` (the default) and the ``kalshi-core fit`` command.

``kalshi-core fit`` fits a calibration curve on recorded history (any folder of data sets in the
history format), prints how the curve did against the raw price on held-out markets, and writes
the curve file that ``forecasters.calibrated.curve_path`` points the forecaster at.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from kalshi_core.app import App
from kalshi_core.cli import FiniteFloat, UserError, current_app
from kalshi_core.errors import KalshiCoreError
from kalshi_core.forecasting.assessment import MODELS, FitResult, TestData, run_fit
from kalshi_core.forecasting.calibrated import (
    NAME,
    bundled_history_dir,
    curve_warning,
    load_curve,
    make_calibrated,
)
from kalshi_core.forecasting.fitting import FitOptions
from kalshi_core.hookspecs import hookimpl
from kalshi_core.settings_rules import Rule
from kalshi_core.stats import Interval

SECTION = f"forecasters.{NAME}"
NUMBER = (int, float)

DEFAULTS: dict[str, Any] = {
    "curve_path": "",
    "min_samples_per_bin": 5,
    "use_last_price": True,
    "bins": 20,
    "prior_strength": 2.0,
    "holdout_fraction": 0.2,
}

RULES = [
    Rule(
        key=f"{SECTION}.curve_path",
        types=(str,),
        description='calibration curve file written by `kalshi-core fit`; "" = bundled default',
    ),
    Rule(
        key=f"{SECTION}.min_samples_per_bin",
        types=(int,),
        minimum=0,
        maximum=1_000_000,
        description="bins with fewer markets keep the raw price (the diagonal)",
    ),
    Rule(
        key=f"{SECTION}.use_last_price",
        types=(bool,),
        description="use the last trade price when the market has no two-sided quote",
    ),
    Rule(key=f"{SECTION}.bins", types=(int,), minimum=1, maximum=1000, description="fit: bins"),
    Rule(
        key=f"{SECTION}.prior_strength",
        types=NUMBER,
        minimum=0,
        maximum=1_000_000,
        description="fit: weight, in markets, of the pull toward the diagonal in each bin",
    ),
    Rule(
        key=f"{SECTION}.holdout_fraction",
        types=NUMBER,
        minimum=0,
        maximum=0.9,
        description="fit: share of markets held out to score the curve",
    ),
]


@hookimpl
def register_settings(register: Any) -> None:
    register(SECTION, DEFAULTS, RULES)


@hookimpl
def register_forecasters(register: Any) -> None:
    register(NAME, make_calibrated)


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(fit)


def active_curve_warning(app: App) -> str | None:
    """The session report's warning line when ``calibrated`` is active with a failed curve."""
    if NAME not in app.settings.forecast.models:
        return None
    section = app.section(SECTION)
    path = str(section.get("curve_path", ""))
    try:
        curve = load_curve(path, section.get("min_samples_per_bin"))
    except KalshiCoreError as exc:
        return f"the calibrated forecaster's curve could not be read: {exc}"
    return curve_warning(curve, path or "(bundled default)")


def _interval(value: Interval) -> str:
    return f"{value.estimate:.4f} [{value.low:.4f}, {value.high:.4f}]"


def _horizon_table(result: FitResult) -> Table:
    table = Table(title=f"{result.model} on held-out events (95% intervals, resampled by event)")
    for column in ("horizon", "markets", "events", "Brier price", "Brier model"):
        table.add_column(column)
    for column in ("Brier model-price", "log loss model-price", "resolution"):
        table.add_column(column, no_wrap=True)
    for horizon, score in result.scores.items():
        table.add_row(
            horizon,
            str(score.markets),
            str(score.events),
            _interval(score.brier_market),
            _interval(score.brier_model),
            _interval(score.brier_difference),
            _interval(score.log_loss_difference),
            _interval(score.resolution),
        )
    return table


def _reliability_table(result: FitResult) -> Table | None:
    score = result.scores.get("all")
    if score is None:
        return None
    table = Table(title="reliability over all prints: forecast bin -> how often YES won")
    for column in ("forecast", "forecasts", "events", "mean forecast", "observed YES rate"):
        table.add_column(column)
    for row in score.reliability:
        table.add_row(
            f"{row.lower:.1f}-{row.upper:.1f}",
            str(row.forecasts),
            str(row.events),
            f"{row.mean_forecast:.3f}",
            _interval(row.observed),
        )
    return table


def _summary(result: FitResult, output: Path) -> list[str]:
    split = result.split
    lines = [
        f"fitted on {len(split.train)} markets of {', '.join(i.name for i in result.data.used)}; "
        f"scored {len(split.holdout)} markets, split {split.how}; "
        f"{split.embargoed} dropped for overlapping the cut",
    ]
    lines += [f"CAVEAT: {caveat}" for caveat in result.verdict.caveats]
    lines += [f"left out (outcome-selected): {i.name}" for i in result.data.excluded]
    lines.append(f"VERDICT: {result.verdict.label}: {result.verdict.reason}")
    if result.curve is not None and result.curve.evaluation.get("shipped"):
        lines.append(f"written as {result.curve.evaluation['shipped']}")
    lines.append(f"wrote {output}")
    if result.curve is not None:
        lines += [
            "use it with:",
            f"  KALSHI_FORECASTERS__CALIBRATED__CURVE_PATH={output.resolve()}",
            f'  or in your settings file: [default.forecasters.calibrated] curve_path = "{output}"',
        ]
    elif result.statistical is not None:
        lines.append(f'use it with: [default.forecasters.{result.model}] model_path = "{output}"')
    return lines


def _options(section: dict[str, Any], holdout_fraction: float | None, fallback: bool) -> FitOptions:
    fraction = (
        section.get("holdout_fraction", 0.2) if holdout_fraction is None else holdout_fraction
    )
    return FitOptions(
        bins=int(section.get("bins", 20)),
        prior_strength=float(section.get("prior_strength", 2.0)),
        min_samples_per_bin=int(section.get("min_samples_per_bin", 5)),
        holdout_fraction=float(fraction),
        fallback_to_price=fallback,
    )


def _test_data(folder: Path | None, names: tuple[str, ...]) -> TestData | None:
    if folder is None:
        if names:
            raise KalshiCoreError("--test-set needs --test-data (the folder holding it)")
        return None
    return TestData(root=folder, names=names)


def _save(result: FitResult, output: Path) -> None:
    if result.curve is not None:
        result.curve.save(output)
    elif result.statistical is not None:
        result.statistical.save(output)
    else:  # the ladder fits nothing: record its evaluation alone
        output.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"model": result.model, "evaluation": result.evaluation()}, indent=2)
        output.write_text(text + "\n", encoding="utf-8")


@click.command()
@click.option("--data-set", "data_sets", multiple=True, metavar="NAME", help="Repeatable.")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of data sets (default: the history bundled with kalshi-core).",
)
@click.option(
    "--model",
    type=click.Choice(MODELS),
    default="calibrated",
    show_default=True,
    help="What to fit: the calibration curve or a statistical forecaster.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("calibration.json"),
    show_default=True,
)
@click.option(
    "--holdout-fraction",
    type=FiniteFloat(0, 1, max_open=True),
    help="Share of events held out (default 0.2).",
)
@click.option(
    "--allow-outcome-selected",
    is_flag=True,
    help="Fit on data sets marked outcome-selected too (the verdict is then never 'better').",
)
@click.option(
    "--test-data",
    type=click.Path(file_okay=False, path_type=Path),
    help="Score on data sets from this folder (not used for fitting) instead of a holdout.",
)
@click.option("--test-set", "test_sets", multiple=True, metavar="NAME", help="Repeatable.")
@click.option(
    "--fallback-to-price",
    is_flag=True,
    help="Write a curve that follows the price when the fitted one is not better.",
)
def fit(
    *,
    data_sets: tuple[str, ...],
    data_dir: Path | None,
    model: str,
    output: Path,
    holdout_fraction: float | None,
    allow_outcome_selected: bool,
    fallback_to_price: bool,
    test_data: Path | None,
    test_sets: tuple[str, ...],
) -> None:
    """Fit a forecaster on recorded history and judge it against the price on held-out events."""
    section = current_app().section(SECTION)
    root = data_dir or bundled_history_dir()
    click.echo(f"reading history from {root}")
    try:
        test = _test_data(test_data, test_sets)
        options = _options(section, holdout_fraction, fallback_to_price)
        result = run_fit(
            model,
            root,
            data_sets,
            options,
            allow_outcome_selected=allow_outcome_selected,
            test=test,
            progress=click.echo,
        )
    except KalshiCoreError as exc:
        raise UserError(str(exc)) from None
    _save(result, output)
    console = Console(width=200)
    console.print(_horizon_table(result))
    reliability = _reliability_table(result)
    if reliability is not None:
        console.print(reliability)
    for line in _summary(result, output):
        click.echo(line)

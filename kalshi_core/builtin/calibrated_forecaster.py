"""Built-in forecaster ``calibrated`` (the default) and the ``kalshi-core fit`` command.

``kalshi-core fit`` fits a calibration curve on recorded history (any folder of data sets in the
history format), prints how the curve did against the raw price on held-out markets, and writes
the curve file that ``forecasters.calibrated.curve_path`` points the forecaster at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from kalshi_core.cli import current_app
from kalshi_core.errors import KalshiCoreError
from kalshi_core.forecasting.calibrated import NAME, bundled_history_dir, make_calibrated
from kalshi_core.forecasting.fitting import FitOptions, FitReport, fit_history
from kalshi_core.hookspecs import hookimpl
from kalshi_core.settings_rules import Rule

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


def _brier_line(report: FitReport) -> str:
    if report.brier_raw is None or report.brier_calibrated is None:
        return "no held-out markets (holdout fraction 0): Brier score not measured"
    better = "better" if report.brier_calibrated < report.brier_raw else "not better"
    return (
        f"Brier score on {report.holdout_markets} held-out markets "
        f"({report.holdout_samples} samples): raw price {report.brier_raw:.5f}, "
        f"calibrated {report.brier_calibrated:.5f} ({better})"
    )


def _summary(report: FitReport, output: Path) -> list[str]:
    info = report.curve.info
    return [
        f"fitted on {report.fitted_markets} markets, {info.samples} samples, "
        f"{', '.join(info.data_sets)} ({info.date_from}..{info.date_to})",
        _brier_line(report),
        f"wrote {output}",
        "use it with:",
        f"  KALSHI_FORECASTERS__CALIBRATED__CURVE_PATH={output.resolve()}",
        f'  or in your settings file: [default.forecasters.calibrated] curve_path = "{output}"',
    ]


def _options(section: dict[str, Any], holdout_fraction: float | None) -> FitOptions:
    fraction = (
        section.get("holdout_fraction", 0.2) if holdout_fraction is None else holdout_fraction
    )
    return FitOptions(
        bins=int(section.get("bins", 20)),
        prior_strength=float(section.get("prior_strength", 2.0)),
        min_samples_per_bin=int(section.get("min_samples_per_bin", 5)),
        holdout_fraction=float(fraction),
    )


@click.command()
@click.option("--data-set", "data_sets", multiple=True, metavar="NAME", help="Repeatable.")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of data sets (default: the history bundled with kalshi-core).",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("calibration.json"),
    show_default=True,
)
@click.option("--holdout-fraction", type=float, help="Share of markets held out (default 0.2).")
def fit(
    data_sets: tuple[str, ...],
    data_dir: Path | None,
    output: Path,
    holdout_fraction: float | None,
) -> None:
    """Fit the calibrated forecaster's curve (price -> P(yes)) on recorded history."""
    section = current_app().section(SECTION)
    root = data_dir or bundled_history_dir()
    click.echo(f"reading history from {root}")
    try:
        options = _options(section, holdout_fraction)
        report = fit_history(root, data_sets, options, click.echo)
    except KalshiCoreError as exc:
        raise click.ClickException(str(exc)) from None
    report.curve.save(output)
    for line in _summary(report, output):
        click.echo(line)

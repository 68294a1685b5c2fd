"""``report.html``: one self-contained page from a ``results.json`` document.

No script, no stylesheet or font from elsewhere: the plots are inline SVG drawn here
(:mod:`kalshi_core.backtest.svg`), so the page opens offline and the same results give the
same bytes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

from kalshi_core.backtest import svg
from kalshi_core.backtest.results import dollars

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:960px;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:3px 8px;border-bottom:1px solid #eee;
text-align:right}td:first-child,th:first-child{text-align:left}.verdict{color:#555;font-size:.9em}
svg.plot{display:block;margin:1em 0;background:#fafafa}.title{font-weight:600;font-size:13px}
.tick{font-size:11px;fill:#555}.axis{stroke:#999}.zero{stroke:#bbb;stroke-dasharray:4 3}
.series{fill:none;stroke:#1f6fb2;stroke-width:1.5}.gain{fill:#3a9a5b}.loss{fill:#c8553d}
.interval{stroke:#222;stroke-width:1.5}.dot{fill:#1f6fb2;fill-opacity:.6}
.fill.buy{fill:#3a9a5b}.fill.sell{fill:#c8553d}
"""
FILL_PLOTS = 3


def _seconds(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _short(text: str | None) -> str:
    """``2026-01-05T17:00:00.5Z`` -> ``2026-01-05 17:00`` (recorded time is UTC)."""
    return (text or "-")[:16].replace("T", " ")


def _number(value: Any, fmt: str = "{:.4g}") -> str:
    return "-" if value is None else fmt.format(value)


def _interval(found: Mapping[str, Any] | None, money: bool = False) -> str:
    if not found:
        return "no interval"
    show = (lambda v: dollars(round(v))) if money else "{:.4g}".format
    return f"[{show(found['low'])}, {show(found['high'])}]"


def _daily_interval(found: Mapping[str, Any] | None) -> str:
    return _interval(found, True) + (" of the daily path" if found else "")


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"


def header(results: Mapping[str, Any]) -> str:
    run = results["run"]
    facts = [
        ("run id", run["run_id"]),
        ("data sets", ", ".join(run["data_sets"])),
        ("window", f"{_short(run['from'])} .. {_short(run['to'])} UTC"),
        ("strategies", ", ".join(run["strategies"])),
        ("forecasters", ", ".join(run["forecasters"])),
        ("seed", str(run["seed"])),
        ("overrides", ", ".join(f"{k}={v}" for k, v in run["overrides"].items()) or "none"),
        ("fill model", run["fill_model"] or "the venue's default (see assumptions)"),
        ("starting equity", dollars(run["start_equity"])),
    ]
    return f"<h1>Backtest {escape(run['run_id'])}</h1>" + _table(("", ""), facts)


Row = tuple[str, str, str, str]


def summary(results: Mapping[str, Any]) -> str:
    rows = [*_pnl_rows(results["pnl"]), *_risk_rows(results)]
    return "<h2>Summary</h2>" + _table(("figure", "value", "95% interval", "reading"), rows)


def _pnl_rows(pnl: Mapping[str, Any]) -> list[Row]:
    return [
        ("net P&L", dollars(pnl["net"]), _interval(pnl["net_interval"], True), pnl["verdict"]),
        (
            "realised / unrealised",
            f"{dollars(pnl['realised'])} / {dollars(pnl['unrealised'])}",
            "",
            "unrealised: open positions marked at the last recorded price",
        ),
        ("fees", dollars(pnl["fees"]), "", ""),
        ("ROI", _number(pnl["roi"], "{:.2%}"), _interval(pnl["roi_interval"]), ""),
        ("win rate", _number(pnl["win_rate"], "{:.1%}"), _interval(pnl["win_rate_interval"]), ""),
        (
            "profit factor",
            _number(pnl["profit_factor"]),
            _interval(pnl["profit_factor_interval"]),
            "",
        ),
    ]


def _risk_rows(results: Mapping[str, Any]) -> list[Row]:
    returns, draw, exposure = results["returns"], results["drawdown"], results["exposure"]
    brier = results["forecasts"]["brier"]
    return [
        (
            "Sharpe (annualised)",
            _number(returns["sharpe"]),
            _interval(returns["sharpe_interval"]),
            returns["verdict"],
        ),
        (
            "Sortino (annualised)",
            _number(returns["sortino"]),
            _interval(returns["sortino_interval"]),
            "",
        ),
        (
            "max drawdown",
            f"{dollars(draw['max'])} ({_number(draw['max_fraction'], '{:.2%}')})",
            _daily_interval(draw.get("daily_interval")),
            f"{draw['duration_seconds'] / 3600:.1f} h from peak to "
            + ("recovery" if draw["recovered"] else "the end (not recovered)"),
        ),
        (
            "exposure avg / peak",
            f"{dollars(exposure['average'])} / {dollars(exposure['peak'])}",
            "",
            f"time in market {_number(exposure['time_in_market'], '{:.0%}')}",
        ),
        ("turnover", _number(exposure["turnover"], "{:.2f}x"), "", dollars(exposure["traded"])),
        (
            "Brier: forecasts vs market",
            f"{_number(brier['forecasts'])} vs {_number(brier['market'])}",
            _interval(brier["difference_interval"]),
            brier["verdict"],
        ),
    ]


def equity_plots(results: Mapping[str, Any]) -> str:
    curve = [(_seconds(p["time"]), p["equity"] / 10_000) for p in results["equity_curve"]]
    labels = (
        (_short(results["equity_curve"][0]["time"]), _short(results["equity_curve"][-1]["time"]))
        if curve
        else ("", "")
    )
    peak = float("-inf")
    under = []
    for x, y in curve:
        peak = max(peak, y)
        under.append((x, y - peak))
    money = signed_dollars
    return (
        "<h2>Equity and drawdown</h2>"
        + svg.line_chart(
            "Equity (markets counted when they resolve)",
            curve,
            y_format=money,
            x_labels=labels,
            kind="equity",
        )
        + svg.line_chart(
            "Drawdown from the running peak",
            under,
            y_format=money,
            x_labels=labels,
            kind="drawdown",
            zero_line=True,
        )
    )


def calibration(results: Mapping[str, Any]) -> str:
    forecasts = results["forecasts"]
    rows = forecasts["calibration"]
    points = [(r["mean_forecast"], r["observed"], r["count"]) for r in rows]
    table = _table(
        ("bin", "forecasts", "events", "mean forecast", "mean market", "observed", "95% interval"),
        [
            (
                f"{r['low']:.0%}-{r['high']:.0%}",
                str(r["count"]),
                str(r["events"]),
                f"{r['mean_forecast']:.3f}",
                f"{r['mean_market']:.3f}",
                f"{r['observed']:.3f}",
                _interval(r["observed_interval"]),
            )
            for r in rows
        ],
    )
    log_loss = forecasts["log_loss"]
    text = (
        f"<p>{forecasts['scored']} of {forecasts['forecasts']} forecasts scored, on "
        f"{forecasts['events']} events; baseline: {escape(forecasts['baseline'])}.</p>"
        f"<p class=verdict>{escape(forecasts['brier']['verdict'])}</p>"
        f"<p class=verdict>{escape(log_loss['verdict'])}</p>"
    )
    return (
        "<h2>Forecast quality</h2>"
        + text
        + svg.calibration_chart("Calibration: observed frequency by forecast", points)
        + table
    )


def attribution(results: Mapping[str, Any]) -> str:
    parts = [
        "<h2>Attribution</h2><p>Each fill's P&amp;L valued at its market's final value; "
        "bars show the 95% interval where there are enough events.</p>"
    ]
    for name, rows in results["attribution"].items():
        bars = [(r["group"], r["pnl"] / 10_000, *_bounds(r["pnl_interval"])) for r in rows]
        parts.append(
            svg.bar_chart(f"P&L by {name.replace('_', ' ')}", bars, value_format=signed_dollars)
        )
        parts.append(
            _table(
                (name, "P&L", "95% interval", "fees", "fills", "markets", "reading"),
                [
                    (
                        r["group"],
                        dollars(r["pnl"]),
                        _interval(r["pnl_interval"], True),
                        dollars(r["fees"]),
                        str(r["fills"]),
                        str(r["markets"]),
                        r["verdict"],
                    )
                    for r in rows
                ],
            )
        )
    return "".join(parts)


def _bounds(found: Mapping[str, Any] | None) -> tuple[float | None, float | None]:
    if not found:
        return None, None
    return found["low"] / 10_000, found["high"] / 10_000


def fills_on_price(results: Mapping[str, Any]) -> str:
    fills = results["fills"]
    busiest = [t for t, _ in Counter(f["ticker"] for f in fills).most_common(FILL_PLOTS)]
    parts = ["<h2>Fills on price</h2>"]
    for ticker in busiest:
        prices = [(_seconds(t), p) for t, p in results["prices"].get(ticker, [])]
        marks = [
            (_seconds(f["time"]), f["yes_price"] / 10_000, f["action"] == "buy yes")
            for f in fills
            if f["ticker"] == ticker
        ]
        times = sorted([x for x, _ in prices] + [x for x, *_ in marks])
        labels = (_short(_iso_of(times[0])), _short(_iso_of(times[-1])))
        parts.append(
            svg.fills_chart(f"{ticker}: price seen at decisions, our fills", prices, marks, labels)
        )
    if not busiest:
        parts.append("<p>No fills.</p>")
    return "".join(parts)


def signed_dollars(value: float) -> str:
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def _iso_of(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M")


def notes(results: Mapping[str, Any]) -> str:
    items = "".join(f"<li>{escape(a)}</li>" for a in results["assumptions"])
    caveats = "".join(
        f"<li><b>{escape(name)}</b>: {escape(text)}</li>"
        for name, text in sorted(results["data_caveats"].items())
    )
    session = results["session"]
    run_facts = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in sorted(session.items()))
    return (
        f"<h2>Fill model and assumptions</h2><ul>{items}</ul>"
        f"<h2>Data caveats</h2><ul>{caveats or '<li>none stated by the data</li>'}</ul>"
        f"<h2>Session</h2><p>{escape(run_facts)}</p>"
    )


def markets_table(results: Mapping[str, Any]) -> str:
    rows = [
        (m["ticker"], m["status"], dollars(m["pnl"]), dollars(m["fees"]), m["valued"])
        for m in results["markets"]
    ]
    return "<h2>Markets</h2>" + _table(("market", "ended", "P&L", "fees", "valued"), rows)


def render(results: Mapping[str, Any]) -> str:
    """The whole page."""
    body = "".join(
        part(results)
        for part in (
            header,
            summary,
            equity_plots,
            calibration,
            attribution,
            fills_on_price,
            markets_table,
            notes,
        )
    )
    title = escape(f"kalshi-core backtest {results['run']['run_id']}")
    return (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
        f"<title>{title}</title><style>{STYLE}</style></head><body>{body}</body></html>\n"
    )

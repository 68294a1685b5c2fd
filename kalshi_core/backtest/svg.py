"""Small inline SVG plots for the backtest report: no JavaScript, no network, same bytes for
the same figures (coordinates are rounded to one decimal)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

import attrs

WIDTH = 720
HEIGHT = 240
MARGIN_LEFT = 80
MARGIN_RIGHT = 16
MARGIN_TOP = 28
MARGIN_BOTTOM = 36
Format = Callable[[float], str]


@attrs.frozen(kw_only=True)
class Frame:
    """Maps data coordinates to the plot area."""

    x_low: float
    x_high: float
    y_low: float
    y_high: float

    def x(self, value: float) -> float:
        span = (self.x_high - self.x_low) or 1.0
        return MARGIN_LEFT + (value - self.x_low) / span * (WIDTH - MARGIN_LEFT - MARGIN_RIGHT)

    def y(self, value: float) -> float:
        span = (self.y_high - self.y_low) or 1.0
        inner = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
        return MARGIN_TOP + (1.0 - (value - self.y_low) / span) * inner


def frame_of(xs: Sequence[float], ys: Sequence[float]) -> Frame:
    y_low, y_high = min(ys), max(ys)
    if y_low == y_high:
        y_low, y_high = y_low - 1.0, y_high + 1.0
    return Frame(x_low=min(xs), x_high=max(xs), y_low=y_low, y_high=y_high)


def _svg(title: str, body: str, kind: str) -> str:
    return (
        f'<svg class="plot {kind}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}">'
        f"<title>{escape(title)}</title>"
        f'<text x="{MARGIN_LEFT}" y="18" class="title">{escape(title)}</text>{body}</svg>'
    )


def _axes(frame: Frame, y_format: Format, x_labels: tuple[str, str]) -> str:
    bottom = HEIGHT - MARGIN_BOTTOM
    right = WIDTH - MARGIN_RIGHT
    parts = [
        f'<line x1="{MARGIN_LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}" class="axis"/>',
        f'<line x1="{MARGIN_LEFT}" y1="{MARGIN_TOP}" x2="{MARGIN_LEFT}" y2="{bottom}" '
        'class="axis"/>',
    ]
    for value in (frame.y_low, frame.y_high):
        parts.append(
            f'<text x="{MARGIN_LEFT - 6}" y="{frame.y(value) + 4:.1f}" class="tick" '
            f'text-anchor="end">{escape(y_format(value))}</text>'
        )
    parts.append(
        f'<text x="{MARGIN_LEFT}" y="{bottom + 18}" class="tick">{escape(x_labels[0])}</text>'
    )
    parts.append(
        f'<text x="{right}" y="{bottom + 18}" class="tick" text-anchor="end">'
        f"{escape(x_labels[1])}</text>"
    )
    return "".join(parts)


def _path(frame: Frame, points: Sequence[tuple[float, float]], step: bool) -> str:
    words: list[str] = []
    previous_y: float | None = None
    for x, y in points:
        if step and previous_y is not None:
            words.append(f"L{frame.x(x):.1f},{frame.y(previous_y):.1f}")
        words.append(f"{'M' if not words else 'L'}{frame.x(x):.1f},{frame.y(y):.1f}")
        previous_y = y
    return " ".join(words)


def line_chart(
    title: str,
    points: Sequence[tuple[float, float]],
    *,
    y_format: Format,
    x_labels: tuple[str, str],
    kind: str = "line",
    step: bool = True,
    zero_line: bool = False,
) -> str:
    """A (step) line through ``points`` (x ascending); an empty plot says so."""
    if not points:
        return _svg(f"{title}: nothing to plot", "", kind)
    frame = frame_of([x for x, _ in points], [y for _, y in points] + ([0.0] if zero_line else []))
    body = _axes(frame, y_format, x_labels)
    if zero_line:
        body += (
            f'<line x1="{MARGIN_LEFT}" y1="{frame.y(0):.1f}" x2="{WIDTH - MARGIN_RIGHT}" '
            f'y2="{frame.y(0):.1f}" class="zero"/>'
        )
    body += f'<path d="{_path(frame, points, step)}" class="series"/>'
    return _svg(title, body, kind)


def bar_chart(
    title: str,
    bars: Sequence[tuple[str, float, float | None, float | None]],
    *,
    value_format: Format,
) -> str:
    """Horizontal bars (label, value, interval low, interval high) around a zero line."""
    if not bars:
        return _svg(f"{title}: nothing to plot", "", "bars")
    values = [v for _, v, *_ in bars] + [
        b for *_, lo, hi in bars for b in (lo, hi) if b is not None
    ]
    frame = Frame(x_low=min(0.0, *values), x_high=max(0.0, *values), y_low=0, y_high=len(bars))
    row = (HEIGHT - MARGIN_TOP - MARGIN_BOTTOM) / len(bars)
    parts = [
        f'<line x1="{frame.x(0):.1f}" y1="{MARGIN_TOP}" x2="{frame.x(0):.1f}" '
        f'y2="{HEIGHT - MARGIN_BOTTOM}" class="zero"/>'
    ]
    for index, (label, value, low, high) in enumerate(bars):
        top = MARGIN_TOP + index * row
        left, right = sorted((frame.x(0), frame.x(value)))
        sign = "gain" if value >= 0 else "loss"
        parts.append(
            f'<rect x="{left:.1f}" y="{top + row * 0.15:.1f}" width="{right - left:.1f}" '
            f'height="{row * 0.7:.1f}" class="bar {sign}"/>'
            f'<text x="{MARGIN_LEFT - 6}" y="{top + row / 2 + 4:.1f}" class="tick" '
            f'text-anchor="end">{escape(label[:12])}</text>'
        )
        if low is not None and high is not None:
            middle = top + row / 2
            parts.append(
                f'<line x1="{frame.x(low):.1f}" y1="{middle:.1f}" x2="{frame.x(high):.1f}" '
                f'y2="{middle:.1f}" class="interval"/>'
            )
    parts.append(
        f'<text x="{WIDTH - MARGIN_RIGHT}" y="{HEIGHT - 12}" class="tick" text-anchor="end">'
        f"{escape(value_format(frame.x_low))} .. {escape(value_format(frame.x_high))}</text>"
    )
    return _svg(title, "".join(parts), "bars")


def calibration_chart(title: str, rows: Sequence[tuple[float, float, int]]) -> str:
    """Observed frequency against mean forecast per bin (dot size: count), with the diagonal."""
    frame = Frame(x_low=0.0, x_high=1.0, y_low=0.0, y_high=1.0)
    body = _axes(frame, "{:.0%}".format, ("forecast 0%", "100%"))
    body += (
        f'<line x1="{frame.x(0):.1f}" y1="{frame.y(0):.1f}" x2="{frame.x(1):.1f}" '
        f'y2="{frame.y(1):.1f}" class="zero"/>'
    )
    largest = max((count for *_, count in rows), default=1)
    for forecast, observed, count in rows:
        radius = 3 + 6 * (count / largest) ** 0.5
        body += (
            f'<circle cx="{frame.x(forecast):.1f}" cy="{frame.y(observed):.1f}" '
            f'r="{radius:.1f}" class="dot"><title>{count} forecasts</title></circle>'
        )
    return _svg(title, body, "calibration")


def fills_chart(
    title: str,
    prices: Sequence[tuple[float, float]],
    fills: Sequence[tuple[float, float, bool]],
    x_labels: tuple[str, str],
) -> str:
    """The market price path and our fills on it (up triangles buy YES, down ones sell)."""
    points = list(prices) + [(x, y) for x, y, _ in fills]
    if not points:
        return _svg(f"{title}: nothing to plot", "", "fills")
    frame = frame_of([x for x, _ in points], [0.0, 1.0])
    body = _axes(frame, "{:.0%}".format, x_labels)
    if prices:
        body += f'<path d="{_path(frame, sorted(prices), True)}" class="series"/>'
    for x, y, bought in fills:
        cx, cy = frame.x(x), frame.y(y)
        tip = cy - 5 if bought else cy + 5
        base = cy + 4 if bought else cy - 4
        body += (
            f'<path d="M{cx:.1f},{tip:.1f} L{cx - 4:.1f},{base:.1f} L{cx + 4:.1f},{base:.1f} Z" '
            f'class="fill {"buy" if bought else "sell"}"/>'
        )
    return _svg(title, body, "fills")

"""Draws a Grafana dashboard's layout as SVG, from its JSON alone (for the docs).

``python -m kalshi_core.monitoring.dashboard_preview [DASHBOARD.json [OUT.svg]]`` renders
``deploy/grafana/kalshi-core.json`` into ``docs/images/grafana-dashboard.svg``: each panel at
its grid position with its title, kind and series. No Grafana is needed, so the picture is
always the dashboard as committed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

COLUMN = 40  # pixels per grid column (Grafana's grid is 24 columns wide)
ROW = 30  # pixels per grid row
PAD = 6
LINE = 14
ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "kalshi-core.json"
PICTURE = ROOT / "docs" / "images" / "grafana-dashboard.svg"


def _series(panel: Mapping[str, Any]) -> list[str]:
    return [str(t.get("legendFormat") or t.get("expr", "")) for t in panel.get("targets", [])]


def _panel(panel: Mapping[str, Any]) -> list[str]:
    grid = panel["gridPos"]
    x, y = grid["x"] * COLUMN, grid["y"] * ROW
    width, height = grid["w"] * COLUMN - PAD, grid["h"] * ROW - PAD
    parts = [
        f'<rect x="{x}" y="{y}" width="{width}" height="{height}" rx="4" class="panel"/>',
        f'<text x="{x + PAD}" y="{y + LINE + 2}" class="title">{escape(panel["title"])}</text>',
        f'<text x="{x + width - PAD}" y="{y + LINE + 2}" class="kind" text-anchor="end">'
        f"{escape(panel['type'])}</text>",
    ]
    fits = max(0, (height - 2 * LINE) // LINE)
    for index, name in enumerate(_series(panel)[:fits]):
        line_y = y + (index + 2) * LINE + 6
        parts.append(f'<text x="{x + PAD}" y="{line_y}" class="series">{escape(name)}</text>')
    return parts


def render_svg(dashboard: Mapping[str, Any]) -> str:
    """The dashboard's panels as an SVG document (deterministic: same JSON, same bytes)."""
    panels = dashboard.get("panels", [])
    bottom = max((p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels), default=1)
    width, height = 24 * COLUMN, bottom * ROW + 30
    body = [part for panel in panels for part in _panel(panel)]
    style = (
        ".panel{fill:#181b1f;stroke:#34373d}.title{fill:#ccccdc;font:600 12px sans-serif}"
        ".kind{fill:#8e8e99;font:10px sans-serif}.series{fill:#73bf69;font:10px monospace}"
        ".head{fill:#ccccdc;font:600 14px sans-serif}"
    )
    title = escape(str(dashboard.get("title", "dashboard")))
    lines = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 -30 {width} {height}">',
        f"<style>{style}</style>",
        f'<rect x="0" y="-30" width="{width}" height="{height}" fill="#111217"/>',
        f'<text x="{PAD}" y="-10" class="head">{title}</text>',
        *body,
        "</svg>",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    source = Path(argv[0]) if argv else DASHBOARD
    target = Path(argv[1]) if len(argv) > 1 else PICTURE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_svg(json.loads(source.read_text())))


if __name__ == "__main__":
    main(sys.argv[1:])

"""The ``[dashboard]`` settings: rules, and the options object the app is built from."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from kalshi_core.errors import ConfigError
from kalshi_core.settings_rules import Rule

DASHBOARD_RULES: tuple[Rule, ...] = (
    Rule(key="dashboard.enabled", types=(bool,), description="`kalshi-core run` serves it"),
    Rule(key="dashboard.host", types=(str,), description="address to serve on; loopback default"),
    Rule(key="dashboard.port", types=(int,), minimum=0, maximum=65535, description="0 = free"),
    Rule(
        key="dashboard.allow_remote",
        types=(bool,),
        description="allow a host that is not loopback (behind a firewall and TLS proxy only)",
    ),
    Rule(
        key="dashboard.token",
        types=(str,),
        secret=True,
        description="the controls' token (empty: every control is refused)",
    ),
    Rule(key="dashboard.reports_dir", types=(str,), description="folder of backtest outputs"),
    Rule(
        key="dashboard.refresh_seconds",
        types=(int, float),
        minimum=0.1,
        maximum=3600,
        description="wall seconds between live updates",
    ),
    Rule(key="dashboard.rows", types=(int,), minimum=1, maximum=1000, description="rows a table"),
)

#: Shortest token accepted: a short one is guessable, so it is refused rather than used.
MIN_TOKEN_LENGTH = 16


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@attrs.frozen(kw_only=True, repr=False)
class DashboardOptions:
    """What the dashboard needs from settings; ``repr`` never shows the token."""

    host: str = "127.0.0.1"
    port: int = 9470
    token: str = ""
    reports_dir: Path = Path("backtests")
    refresh_seconds: float = 2.0
    rows: int = 50
    flatten_concession_cents: int = 5
    min_edge: Mapping[str, Any] = attrs.field(factory=dict)
    model_budget: int = 0

    def __repr__(self) -> str:
        return f"DashboardOptions(host={self.host!r}, port={self.port}, token=***)"

    @classmethod
    def from_app(
        cls, app: Any, *, model_budget: int = 0, overrides: Mapping[str, Any] | None = None
    ) -> DashboardOptions:
        """The options from ``[dashboard]`` (``overrides``: command-line choices on top);
        a host off loopback without ``allow_remote``, or a short token, is a ConfigError."""
        section = {**app.section("dashboard"), **(overrides or {})}
        host = str(section.get("host", "127.0.0.1"))
        if not is_loopback(host) and not section.get("allow_remote", False):
            raise ConfigError(
                f"dashboard.host = {host!r} is not loopback: set dashboard.allow_remote = true "
                "to serve it there (only behind a firewall and a TLS proxy)"
            )
        token = str(section.get("token", "") or "")
        if token and len(token) < MIN_TOKEN_LENGTH:
            raise ConfigError(
                f"dashboard.token is too short: at least {MIN_TOKEN_LENGTH} characters "
                "(for example `python -c 'import secrets; print(secrets.token_urlsafe())'`)"
            )
        return cls(
            host=host,
            port=int(section.get("port", 9470)),
            token=token,
            reports_dir=Path(str(section.get("reports_dir", "backtests"))),
            refresh_seconds=float(section.get("refresh_seconds", 2.0)),
            rows=int(section.get("rows", 50)),
            flatten_concession_cents=int(
                app.section("monitoring").get("flatten_concession_cents", 5)
            ),
            min_edge=dict(app.section("validators.min_edge")),
            model_budget=model_budget,
        )

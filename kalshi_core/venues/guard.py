"""The live-trading guard: the one function that decides whether a session may talk to a
remote exchange.

The rule, whatever the settings call the mode: a venue that is not on this machine (any host
the client's own loopback check refuses) trades real money, so it needs ``mode = "live"``,
credentials **and** the confirmation flag. ``mode = "live"`` needs the flag and credentials even
on loopback, and a live session needs a URL to trade on. Everything else is paper trading on a
loopback exchange, and the client is built with ``allow_remote=False`` so that even a mistake
further down cannot reach the network.
"""

from __future__ import annotations

import attrs
import httpx

from kalshi_core.client.transport import is_loopback
from kalshi_core.errors import ConfigError

LIVE_FLAG = "--i-understand-this-is-live-trading"


@attrs.frozen(kw_only=True)
class LiveRequest:
    """What the guard looks at: the settings that matter and the command line's flag."""

    env: str
    mode: str
    base_url: str
    confirmed: bool
    has_credentials: bool
    api_key_id: str = ""


@attrs.frozen(kw_only=True)
class LiveDecision:
    """``allow_remote`` is what the client may be built with; ``plan`` is printed before a live
    session starts (``None`` for paper trading)."""

    allow_remote: bool
    plan: str | None = None


def decide(request: LiveRequest) -> LiveDecision:
    """Allow paper trading on loopback, allow live trading only when fully confirmed, refuse
    everything else with a message saying what is missing. Nothing is sent before this."""
    remote = bool(request.base_url) and not _loopback_url(request.base_url)
    if not remote and request.mode != "live":
        return LiveDecision(allow_remote=False)
    plan = _plan(request)
    missing = _missing(request, remote)
    if missing:
        raise ConfigError(f"refusing to start: {plan}; {'; '.join(missing)}")
    return LiveDecision(allow_remote=remote, plan=plan)


def _loopback_url(base_url: str) -> bool:
    """Exactly the client's own test (:func:`is_loopback` on the parsed host)."""
    try:
        host = httpx.URL(base_url).host
    except httpx.InvalidURL as error:
        raise ConfigError(f"kalshi.base_url is not a valid URL ({error})") from None
    return bool(host) and is_loopback(host)


def _plan(request: LiveRequest) -> str:
    url = request.base_url or "(no kalshi.base_url set)"
    return (
        f"LIVE trading with real money on {url} (env {request.env!r}, mode {request.mode!r}) "
        f"as API key {request.api_key_id!r}"
    )


def _missing(request: LiveRequest, remote: bool) -> list[str]:
    """What a live session still lacks, each with its fix."""
    missing = []
    if remote and request.mode != "live":
        missing.append(
            f"mode is {request.mode!r} but kalshi.base_url is not on this machine: a remote "
            "exchange needs mode = 'live' (or clear kalshi.base_url to paper-trade locally)"
        )
    if request.mode == "live" and not request.base_url:
        missing.append("mode is 'live' but kalshi.base_url is empty")
    if not request.has_credentials:
        missing.append(
            "kalshi.api_key_id and kalshi.private_key_path (or kalshi.private_key, in "
            ".secrets.toml) must be set"
        )
    if not request.confirmed:
        missing.append(f"add {LIVE_FLAG} to confirm")
    return missing

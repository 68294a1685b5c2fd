"""The live-trading guard: every combination of env, mode, URL, flag and credentials, and the
end-to-end proof that a refused session sends nothing."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from kalshi_core.app import App
from kalshi_core.engine.session import Session, SessionOptions
from kalshi_core.errors import ConfigError
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.venues.guard import LIVE_FLAG, LiveRequest, decide

LOOPBACK = [
    "",
    "http://127.0.0.1:8080/trade-api/v2",
    "http://localhost:8080/trade-api/v2",
    "http://[::1]:8080/trade-api/v2",
    "http://[::ffff:127.0.0.1]:8080/trade-api/v2",  # IPv4-mapped loopback, on every Python
]
REMOTE = [
    "https://external-api.kalshi.com/trade-api/v2",
    "https://external-api.demo.kalshi.co/trade-api/v2",
    "http://localhost.:8080/trade-api/v2",  # resolves locally, but not loopback by name
    "http://[::ffff:10.0.0.1]:8080/trade-api/v2",
    "http://10.0.0.1/trade-api/v2",
    "http://127.0.0.1.example.com/trade-api/v2",
]
ENVS = ["development", "staging", "production"]
MODES = ["paper", "live"]


class CountingApp:
    """An ASGI wrapper counting the requests that reach the exchange."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            self.requests += 1
        await self.app(scope, receive, send)


def request(env: str, mode: str, url: str, confirmed: bool, credentials: bool) -> LiveRequest:
    return LiveRequest(
        env=env, mode=mode, base_url=url, confirmed=confirmed, has_credentials=credentials
    )


# (mode, url kind, flag, credentials) -> allowed with allow_remote?, or refused (None)
TABLE = {
    ("paper", "local", False, False): False,
    ("paper", "local", True, True): False,
    ("paper", "remote", False, False): None,
    ("paper", "remote", True, True): None,  # the bypass: mode says paper, the URL is Kalshi
    ("live", "local", False, True): None,
    ("live", "local", True, False): None,
    ("live", "remote", False, True): None,
    ("live", "remote", True, False): None,
    ("live", "remote", True, True): True,
}


@pytest.mark.parametrize(
    ("env", "mode", "url", "flag", "credentials"),
    list(itertools.product(ENVS, MODES, LOOPBACK + REMOTE, [False, True], [False, True])),
)
def test_every_combination_follows_the_rule(
    env: str, mode: str, url: str, flag: bool, credentials: bool
) -> None:
    remote = url in REMOTE
    expected = TABLE.get((mode, "remote" if remote else "local", flag, credentials))
    if (mode, flag, credentials) == ("live", True, True) and not remote:
        expected = None if url == "" else False  # live on loopback: allowed, never remote
    if mode == "paper" and not remote:
        expected = False
    if expected is None and (mode, remote, flag, credentials) not in {("live", True, True, True)}:
        with pytest.raises(ConfigError, match="refusing to start"):
            decide(request(env, mode, url, flag, credentials))
        return
    decision = decide(request(env, mode, url, flag, credentials))
    assert decision.allow_remote is expected
    assert (decision.plan is not None) == (mode == "live")


def test_remote_is_never_allowed_without_live_mode_flag_and_credentials() -> None:
    for env, mode, url, flag, creds in itertools.product(
        ENVS, MODES, LOOPBACK + REMOTE, [False, True], [False, True]
    ):
        try:
            decision = decide(request(env, mode, url, flag, creds))
        except ConfigError:
            continue
        if decision.allow_remote:
            assert (mode, flag, creds) == ("live", True, True)
            assert url in REMOTE


def test_the_refusal_names_what_is_missing() -> None:
    url = REMOTE[0]
    with pytest.raises(ConfigError) as caught:
        decide(request("production", "paper", url, False, False))
    message = str(caught.value)
    assert "mode is 'paper' but kalshi.base_url is not on this machine" in message
    assert LIVE_FLAG in message
    assert "kalshi.api_key_id" in message


def test_a_malformed_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"kalshi\.base_url is not a valid URL"):
        decide(request("development", "paper", "http://[::1/x", False, False))


async def test_production_env_in_paper_mode_sends_nothing_to_a_url_the_client_calls_remote(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reported bypass: KALSHI_ENV=production KALSHI_MODE=paper with a URL the client calls
    remote (``localhost.`` is no loopback name, yet it resolves to this machine, where a real
    exchange listens). It must see no request at all."""
    exchange = LocalExchange.create(key_dir=isolated / "keys")
    counter = CountingApp(exchange.app)
    exchange.app = counter
    async with exchange.serving("127.0.0.1", 0):
        port = exchange.base_url.rsplit(":", 1)[1].split("/")[0]
        monkeypatch.setenv("KALSHI_ENV", "production")
        monkeypatch.setenv("KALSHI_MODE", "paper")
        monkeypatch.setenv("KALSHI_KALSHI__BASE_URL", f"http://localhost.:{port}/x")
        monkeypatch.setenv("KALSHI_KALSHI__API_KEY_ID", exchange.api_key_id)
        monkeypatch.setenv("KALSHI_KALSHI__PRIVATE_KEY_PATH", str(exchange.private_key_path))
        options = SessionOptions(cycles=1, confirm_live=True)
        with pytest.raises(ConfigError, match="mode is 'paper'"):
            await Session(App.create(env="production"), options).run()
        assert exchange.venue.orders(exchange.account_id) == []
        assert counter.requests == 0

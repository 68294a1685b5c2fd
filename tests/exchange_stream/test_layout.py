"""The WebSocket feed and the HTTP routes share one auth module without an import cycle."""

from __future__ import annotations

import subprocess
import sys

from kalshi_core.exchange import server
from kalshi_core.exchange.http import auth, context


def _modules_after_import(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return set(done.stdout.split())


def test_the_feed_imports_auth_but_not_the_http_app() -> None:
    loaded = _modules_after_import("kalshi_core.exchange.websocket")
    assert "kalshi_core.exchange.http.auth" in loaded
    assert "kalshi_core.exchange.http.app" not in loaded
    assert "kalshi_core.exchange.server" not in loaded


def test_the_server_facade_still_exports_what_local_imports() -> None:
    assert server.KeyRegistry is auth.KeyRegistry
    assert server.ServerContext is context.ServerContext
    assert server.PREFIX == "/trade-api/v2"

"""The pool's asyncio connections over TLS: kept alive when trusted, refused when not.

The rest of the client suite talks plain HTTP to loopback; Kalshi itself is HTTPS, so the
streams' ``start_tls`` is exercised here against a self-signed server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import httpcore
import pytest

from kalshi_core.client.pool import AsyncioBackend
from tests.tls import self_signed_loopback

BODY = b'{"ok": true}'


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Every request on the connection answered with ``BODY``, until the client goes."""
    try:
        while await reader.readuntil(b"\r\n\r\n"):
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
        writer.close()


@pytest.fixture
async def tls_server(tmp_path: Path) -> AsyncIterator[tuple[str, Path]]:
    cert_path, key_path = self_signed_loopback(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    server = await asyncio.start_server(_answer, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"https://127.0.0.1:{port}/x", cert_path


async def test_a_trusted_tls_server_is_read_over_one_kept_connection(
    tls_server: tuple[str, Path],
) -> None:
    url, cert_path = tls_server
    context = ssl.create_default_context(cafile=str(cert_path))
    async with httpcore.AsyncConnectionPool(
        ssl_context=context, network_backend=AsyncioBackend()
    ) as pool:
        for _ in range(3):
            response = await pool.request("GET", url)
            assert (response.status, response.content) == (200, BODY)
        assert len(pool.connections) == 1


async def test_an_untrusted_certificate_is_a_connect_error(tls_server: tuple[str, Path]) -> None:
    url, _ = tls_server
    async with httpcore.AsyncConnectionPool(
        ssl_context=ssl.create_default_context(), network_backend=AsyncioBackend()
    ) as pool:
        with pytest.raises(httpcore.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await pool.request("GET", url)

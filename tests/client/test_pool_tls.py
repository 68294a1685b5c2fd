"""The pool's asyncio connections over TLS: kept alive when trusted, refused when not.

The rest of the client suite talks plain HTTP to loopback; Kalshi itself is HTTPS, so the
streams' ``start_tls`` is exercised here against a self-signed server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpcore
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kalshi_core.client.pool import AsyncioBackend

BODY = b'{"ok": true}'


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    loopback = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(loopback, critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


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
    cert_path, key_path = _self_signed(tmp_path)
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

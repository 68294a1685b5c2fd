"""The HTTP layer under :class:`~kalshi_core.client.KalshiClient`.

One pool of keep-alive connections per transport (:mod:`.pool`). Every attempt is rate limited
(read or write bucket), signed afresh, timed and counted. Reads are retried with exponential
backoff and full jitter on 429 (``Retry-After`` honoured), 5xx, timeouts and dropped
connections, and identical concurrent GETs share one in-flight request. Writes say whether an
unknown outcome may be retried (:attr:`Call.retry_unknown`); when it may not, or retries run
out, the caller gets :class:`~kalshi_core.client.errors.OrderStateUnknown` instead of a guess.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import httpx

from kalshi_core import __version__
from kalshi_core.client.auth import Signer
from kalshi_core.client.errors import OrderStateUnknown
from kalshi_core.client.json_body import read_json
from kalshi_core.client.metrics import ClientMetrics
from kalshi_core.client.pool import ConnectionPool, RawReply
from kalshi_core.client.ratelimit import RateLimiter
from kalshi_core.errors import ConfigError, ExchangeError

PRODUCTION_BASE_URL = "https://external-api.kalshi.com/trade-api/v2"
DEMO_BASE_URL = "https://external-api.demo.kalshi.co/trade-api/v2"

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=10.0, write=10.0, pool=5.0)
# Every connection the pool opens stays open between bursts (it used to open up to 20 and
# keep 10, so each burst closed and reopened the rest). No more than 10: httpcore looks at
# every pooled connection on each request, so a bigger pool costs CPU per call, and neither
# the single-threaded local exchange nor Kalshi's per-key rate limits serve more at once
# (measured in docs/performance.md).
DEFAULT_LIMITS = httpx.Limits(max_connections=10, max_keepalive_connections=10, keepalive_expiry=30)
# httpx's timeouts bound each read, not the request: a server sending one byte per second
# would hold a call for as long as it likes. Every attempt also has this overall deadline.
DEFAULT_DEADLINE = 30.0

_URL_MEMO_SIZE = 1024
# A path httpx sends unchanged: nothing to percent-encode (and, checked apart, no dot segment).
_PLAIN_PATH = re.compile(r"[A-Za-z0-9\-._~/]*")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})  # httpx sends Content-Length: 0 without one

# The request never left this machine: retrying cannot duplicate anything.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Params = tuple[tuple[str, str], ...]


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """Bounded retries with exponential backoff and full jitter."""

    max_attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 8.0
    max_retry_after: float = 60.0

    def backoff(self, attempt: int, uniform: Callable[[], float]) -> float:
        """Full jitter: uniform in [0, min(max_delay, base * 2**attempt)]."""
        return uniform() * min(self.max_delay, self.base_delay * float(2**attempt))


@attrs.frozen(kw_only=True)
class Call:
    """One logical request. ``endpoint`` is the path template used as the metrics label."""

    method: str
    path: str
    endpoint: str
    params: Params = ()
    body: Any = None
    write_cost: float | None = None  # None: a read, charged to the read bucket
    retry_unknown: bool = True
    client_order_id: str | None = None
    client_order_ids: tuple[str, ...] = ()
    order_id: str | None = None

    @property
    def where(self) -> str:
        return f"{self.method} {self.path}"


@attrs.frozen(kw_only=True)
class Reply:
    """A decoded response. ``after_unknown``: an earlier attempt's outcome was unknown."""

    status: int
    data: Any
    retry_after: float | None = None
    after_unknown: bool = False

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


Outcome = Reply | httpx.TransportError


def _parse_url(base_url: str) -> httpx.URL:
    """``base_url`` parsed, or a one-line :class:`ConfigError` naming the setting."""
    try:
        url = httpx.URL(base_url)
        port = url.port
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        raise ConfigError(f"kalshi.base_url {base_url!r} is not a valid URL: {exc}") from None
    if port is not None and not 0 < port < 65536:
        raise ConfigError(f"kalshi.base_url {base_url!r}: port {port} is not in 1-65535")
    return url


def check_base_url(base_url: str, *, allow_remote: bool) -> httpx.URL:
    """Parse ``base_url``; refuse anything but loopback unless ``allow_remote`` is set."""
    url = _parse_url(base_url)
    shown = f"{url.scheme}://{url.host}" + (f":{url.port}" if url.port else "")
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigError(f"kalshi.base_url must be http(s)://host/..., got {shown}")
    if url.userinfo:
        raise ConfigError(f"Kalshi base URL {shown} must not carry credentials")
    if not allow_remote and not is_loopback(url.host):
        raise ConfigError(
            f"refusing non-loopback Kalshi base URL {shown}: pass allow_remote=True "
            "to talk to a remote exchange (live trading is an explicit opt-in)"
        )
    return url


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address; an IPv4-mapped IPv6 address (``::ffff:127.0.0.1``)
    by its IPv4 address, as Python 3.13 does, so every supported Python agrees."""
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool((mapped or address).is_loopback)


def _is_plain(path: str) -> bool:
    return _PLAIN_PATH.fullmatch(path) is not None and "/." not in path


def _retry_after(response: RawReply) -> float | None:
    value = response.header(b"retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP-date: fall back to our own backoff
    return seconds if seconds >= 0 else None


def error_code(data: Any) -> tuple[str | None, str]:
    """``{"error": {"code", "message"}}`` (or the flat form) -> (code, message)."""
    if not isinstance(data, dict):
        return None, ""
    inner = data.get("error", data)
    if not isinstance(inner, dict):
        return None, str(inner)
    code = inner.get("code")
    message = inner.get("message")
    return (str(code) if code else None), (str(message) if message else "")


def exchange_error(call: Call, reply: Reply, *, prefix: str = "") -> ExchangeError:
    code, message = error_code(reply.data)
    return ExchangeError(
        f"{prefix}exchange refused the request: {message or 'no message'}",
        code=code,
        status=reply.status,
        endpoint=call.where,
    )


def unreadable_success(call: Call, problem: str, status: int = 200) -> ExchangeError:
    """A 2xx we cannot read. For an order write that means "applied, but we do not know how",
    which the engine must reconcile: :class:`OrderStateUnknown`."""
    if call.write_cost is None:
        return ExchangeError(f"malformed response: {problem}", endpoint=call.where)
    return OrderStateUnknown(
        f"order write succeeded but its response is unreadable: {problem}",
        client_order_id=call.client_order_id,
        client_order_ids=call.client_order_ids,
        order_id=call.order_id,
        endpoint=call.where,
    )


def _is_retryable_status(status: int) -> bool:
    return status == 429 or status >= 500


def _maybe_applied(outcome: Outcome) -> bool:
    """Could the server have acted on a request that ended like this?"""
    if isinstance(outcome, Reply):
        return outcome.status >= 500
    return not isinstance(outcome, _NOT_SENT)


def _describe(outcome: Outcome) -> str:
    if isinstance(outcome, Reply):
        code, _ = error_code(outcome.data)
        return f"HTTP {outcome.status}" + (f" {code}" if code else "")
    return f"{type(outcome).__name__}: {outcome}" if str(outcome) else type(outcome).__name__


# Sent with every request, in httpx's order (the bytes on the wire did not change with the pool).
COMMON_HEADERS = (
    (b"Accept", b"application/json"),
    (b"Accept-Encoding", b"gzip, deflate"),
    (b"Connection", b"keep-alive"),
    (b"User-Agent", f"kalshi-core/{__version__}".encode("ascii")),
)


class Transport:
    """Signs, rate limits, retries, coalesces and measures requests to one base URL."""

    def __init__(
        self,
        base_url: str,
        *,
        signer: Signer | None = None,
        allow_remote: bool = False,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        limits: httpx.Limits = DEFAULT_LIMITS,
        rate_limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        metrics: ClientMetrics | None = None,
        sleep: Sleep = asyncio.sleep,
        uniform: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
        deadline: float = DEFAULT_DEADLINE,
    ) -> None:
        self.base_url = check_base_url(base_url, allow_remote=allow_remote)
        if not deadline > 0:
            raise ConfigError(f"request deadline must be above 0 seconds, got {deadline}")
        self.deadline = deadline
        self.signer = signer
        self.rate_limiter = rate_limiter or RateLimiter.for_tier("basic")
        self.retry = retry or RetryPolicy()
        self.metrics = metrics or ClientMetrics()
        self._sleep = sleep
        self._uniform = uniform
        self._clock = clock
        self._inflight: dict[tuple[str, Params], asyncio.Future[Any]] = {}
        # The connection pool itself, without httpx.AsyncClient's layers (URL merging, cookie
        # jar, auth and redirect hooks: about a third of a call's CPU, none of it needed here).
        self._pool = ConnectionPool(self.base_url, limits, timeout)
        self._root = str(self.base_url).rstrip("/")
        plain = not self.base_url.query and not self.base_url.fragment
        self._root_path = self.base_url.raw_path.rstrip(b"/") if plain else None
        self._targets: dict[tuple[str, Params], bytes] = {}
        self._headers = COMMON_HEADERS

    async def aclose(self) -> None:
        await self._pool.aclose()

    def __repr__(self) -> str:
        return f"Transport(base_url={str(self.base_url)!r}, signer={self.signer!r})"

    # ---- one attempt ----

    async def _acquire(self, call: Call) -> None:
        if call.write_cost is None:
            waited = await self.rate_limiter.acquire_read()
        else:
            waited = await self.rate_limiter.acquire_write(call.write_cost)
        if waited:
            self.metrics.record_rate_limit_wait(waited)

    def _target(self, call: Call) -> bytes:
        """The request target (path and query) httpx would send for ``call``. A plain path
        under a plain base URL is used as it is; anything else goes through httpx's URL
        parsing, remembered: reads repeat their URLs (pages, books). Bounded like the wire
        memos."""
        if self._root_path is not None and not call.params and _is_plain(call.path):
            return self._root_path + call.path.encode("ascii")
        key = (call.path, call.params)
        target = self._targets.get(key)
        if target is None:
            url = httpx.URL(self._root + call.path, params=list(call.params) or None)
            target = url.raw_path
            if len(self._targets) >= _URL_MEMO_SIZE:
                self._targets.clear()
            self._targets[key] = target
        return target

    def _build(self, call: Call, target: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
        """Headers and body, as httpx would have built them (``json=`` compact, UTF-8)."""
        headers = list(self._headers)
        if self.signer is not None:
            path = target.split(b"?", 1)[0].decode("ascii")
            signed = self.signer.headers(call.method, path)
            headers.extend(
                (name.encode("ascii"), value.encode("ascii")) for name, value in signed.items()
            )
        if call.body is None:
            if call.method in _BODY_METHODS:
                headers.insert(0, (b"Content-Length", b"0"))
            return headers, b""
        body = json.dumps(call.body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        content = body.encode("utf-8")
        headers.append((b"Content-Length", str(len(content)).encode("ascii")))
        headers.append((b"Content-Type", b"application/json"))
        return headers, content

    def _decode(self, call: Call, response: RawReply) -> Reply:
        data: Any = None
        if response.status != 204 and response.content:
            try:
                data = read_json(response.content)
            except ValueError:
                if 200 <= response.status < 300:
                    raise unreadable_success(call, "response body is not valid JSON") from None
            except RecursionError:  # a hostile server's [[[[...]]]]: never a Python traceback
                if 200 <= response.status < 300:
                    raise unreadable_success(call, "response body is nested too deeply") from None
        return Reply(status=response.status, data=data, retry_after=_retry_after(response))

    async def _attempt(self, call: Call) -> Outcome:
        await self._acquire(call)
        target = self._target(call)
        headers, body = self._build(call, target)
        started = self._clock()
        try:
            response = await self._send_within_deadline(call.method, target, headers, body)
        except httpx.TransportError as exc:
            kind = "timeout" if isinstance(exc, httpx.TimeoutException) else "transport_error"
            self.metrics.record_call(call.endpoint, kind, self._clock() - started)
            return exc
        self.metrics.record_call(call.endpoint, response.status, self._clock() - started)
        return self._decode(call, response)

    async def _send_within_deadline(
        self, method: str, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> RawReply:
        """One exchange, the whole body read, bounded as a whole (httpx's timeouts bound each
        read, not the request)."""
        try:
            async with asyncio.timeout(self.deadline):
                return await self._pool.send(method.encode("ascii"), target, headers, body)
        except TimeoutError:
            raise httpx.ReadTimeout(
                f"no complete response within the {self.deadline:g} s request deadline"
            ) from None

    # ---- retries ----

    def _delay(self, outcome: Outcome, attempt: int) -> float:
        if isinstance(outcome, Reply) and outcome.retry_after is not None:
            return min(outcome.retry_after, self.retry.max_retry_after)
        return self.retry.backoff(attempt, self._uniform)

    def _unknown(self, call: Call, outcome: Outcome, attempts: int) -> OrderStateUnknown:
        status = outcome.status if isinstance(outcome, Reply) else None
        code = error_code(outcome.data)[0] if isinstance(outcome, Reply) else None
        return OrderStateUnknown(
            f"outcome of the order write is unknown after {attempts} attempt(s), "
            f"last: {_describe(outcome)}",
            client_order_id=call.client_order_id,
            client_order_ids=call.client_order_ids,
            order_id=call.order_id,
            code=code,
            status=status,
            endpoint=call.where,
        )

    def _exhausted(self, call: Call, outcome: Outcome, unknown: bool) -> ExchangeError:
        attempts = self.retry.max_attempts
        if unknown and call.write_cost is not None:
            return self._unknown(call, outcome, attempts)
        if isinstance(outcome, Reply):
            return exchange_error(call, outcome, prefix=f"gave up after {attempts} attempts: ")
        return ExchangeError(
            f"gave up after {attempts} attempts: {_describe(outcome)}", endpoint=call.where
        )

    async def execute(self, call: Call) -> Reply:
        """Send ``call`` with retries; return the final non-retryable reply (any status)."""
        unknown = False
        outcome: Outcome | None = None
        for attempt in range(self.retry.max_attempts):
            if outcome is not None:
                delay = self._delay(outcome, attempt - 1)
                reason = _describe(outcome)
                self.metrics.record_retry(call.endpoint, reason)
                log.warning("retrying %s after %s in %.3fs", call.where, reason, delay)
                await self._sleep(delay)
            outcome = await self._attempt(call)
            if isinstance(outcome, Reply) and not _is_retryable_status(outcome.status):
                return attrs.evolve(outcome, after_unknown=unknown)
            if _maybe_applied(outcome):
                unknown = True
                if not call.retry_unknown:
                    raise self._unknown(call, outcome, attempt + 1)
        assert outcome is not None
        raise self._exhausted(call, outcome, unknown)

    async def request(self, call: Call) -> Reply:
        """:meth:`execute`, raising ``ExchangeError`` for a non-2xx final reply."""
        reply = await self.execute(call)
        if not reply.ok:
            raise exchange_error(call, reply)
        return reply

    # ---- coalesced reads ----

    async def get(self, call: Call) -> Any:
        """A GET whose decoded body is shared by every identical request already in flight."""
        key = (call.path, call.params)
        future = self._inflight.get(key)
        if future is None:
            future = asyncio.ensure_future(self.request(call))
            self._inflight[key] = future
            future.add_done_callback(lambda done: self._forget(key, done))
        else:
            self.metrics.record_coalesced(call.endpoint)
        # Shielded: one caller being cancelled must not cancel the others' request.
        reply: Reply = await asyncio.shield(future)
        return reply.data

    def _forget(self, key: tuple[str, Params], done: asyncio.Future[Any]) -> None:
        if self._inflight.get(key) is done:
            del self._inflight[key]
        if not done.cancelled():
            done.exception()  # mark retrieved even if every waiter was cancelled

    @property
    def in_flight(self) -> int:
        return len(self._inflight)

"""Fault injection for the local exchange's HTTP face.

Two sources of faults, checked in this order for every request:

* one-shot faults queued by tests (:meth:`FaultInjector.inject`): "fail the next N requests
  to path P with X", "apply the next order but drop its response";
* random faults drawn from :class:`FaultSettings` rates with a seeded generator, so the same
  sequence of requests meets the same faults on every run.

The server acts a fault out (:mod:`kalshi_core.exchange.server`): an error status, a
response that never comes (the client's timeout fires), a connection dropped without a
response, or a request that is applied while its response is dropped. An exchange-wide pause
is not a per-request fault: it makes order entry fail with ``trading_is_paused``.
"""

from __future__ import annotations

import asyncio
import enum
import random
from collections.abc import Iterable

import attrs

from kalshi_core.errors import ConfigError

ERROR_CODES = {
    429: "too_many_requests",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}


class FaultKind(enum.Enum):
    """What happens to a request that meets a fault."""

    STATUS = "status"  # answer with an error status; nothing is applied
    TIMEOUT = "timeout"  # never answer (until released); nothing is applied
    DROP = "drop"  # close the connection without a complete response; nothing is applied
    APPLY_THEN_DROP = "apply_then_drop"  # apply the request, then drop the connection
    APPLY_THEN_TIMEOUT = "apply_then_timeout"  # apply the request, then never answer

    @property
    def applies(self) -> bool:
        return self in (FaultKind.APPLY_THEN_DROP, FaultKind.APPLY_THEN_TIMEOUT)


@attrs.frozen(kw_only=True)
class Fault:
    """One fault. ``status`` and ``code`` matter for ``STATUS`` only."""

    kind: FaultKind
    status: int = 500
    code: str = ""
    retry_after: float | None = None

    @property
    def error_code(self) -> str:
        return self.code or ERROR_CODES.get(self.status, "error")


def _rate(value: float, name: str) -> float:
    if not 0 <= value <= 1:
        raise ConfigError(f"exchange fault rate {name} = {value} must be between 0 and 1")
    return value


@attrs.frozen(kw_only=True)
class FaultSettings:
    """Random faults: each ``*_rate`` is the chance a request meets that fault (0..1).

    ``latency_ms`` is added to every request. ``paused`` starts the exchange paused.
    ``timeout_seconds`` bounds how long a "timeout" response is held back (it should exceed
    the client's read timeout).
    """

    latency_ms: float = 0.0
    rate_429: float = 0.0
    rate_5xx: float = 0.0
    rate_timeout: float = 0.0
    rate_drop: float = 0.0
    paused: bool = False
    seed: int = 0
    timeout_seconds: float = 60.0

    def __attrs_post_init__(self) -> None:
        for name in ("rate_429", "rate_5xx", "rate_timeout", "rate_drop"):
            _rate(getattr(self, name), name)
        if self.rate_429 + self.rate_5xx + self.rate_timeout + self.rate_drop > 1:
            raise ConfigError("exchange fault rates add up to more than 1")
        if self.latency_ms < 0 or self.timeout_seconds <= 0:
            raise ConfigError("exchange fault latency must be >= 0 and the timeout > 0")


@attrs.define(kw_only=True)
class _Pending:
    fault: Fault
    remaining: int
    method: str | None
    path: str | None

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method.upper():
            return False
        if self.path is None:
            return True
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path


class FaultInjector:
    """Decides, request by request, which fault (if any) the server acts out."""

    def __init__(self, settings: FaultSettings | None = None) -> None:
        self.settings = settings or FaultSettings()
        self._random = random.Random(self.settings.seed)
        self._pending: list[_Pending] = []
        self.released = asyncio.Event()  # set at shutdown: held "timeout" responses end
        self.injected: list[tuple[str, str, Fault]] = []  # every fault acted out, in order

    def inject(
        self,
        kind: FaultKind,
        *,
        times: int = 1,
        path: str | None = None,
        method: str | None = None,
        status: int = 500,
        code: str = "",
    ) -> None:
        """Queue a fault for the next ``times`` requests matching ``method`` and ``path``.

        ``path`` is relative to ``/trade-api/v2`` (``/portfolio/events/orders``); a trailing
        ``*`` matches any path with that prefix; ``None`` matches every path.
        """
        if times < 1:
            raise ValueError(f"inject {kind.value}: times must be at least 1, got {times}")
        fault = Fault(kind=kind, status=status, code=code)
        method = method.upper() if method else None
        self._pending.append(_Pending(fault=fault, remaining=times, method=method, path=path))

    def fail_next(
        self, times: int, path: str, status: int, *, method: str | None = None, code: str = ""
    ) -> None:
        """Shorthand: the next ``times`` requests to ``path`` get HTTP ``status``."""
        self.inject(
            FaultKind.STATUS, times=times, path=path, method=method, status=status, code=code
        )

    def clear(self) -> None:
        self._pending.clear()

    @property
    def pending(self) -> int:
        return sum(p.remaining for p in self._pending)

    def take(self, method: str, path: str) -> Fault | None:
        """The fault for this request, if any (a one-shot first, then a random draw)."""
        fault = self._take_pending(method, path) or self._draw()
        if fault is not None:
            self.injected.append((method, path, fault))
        return fault

    def _take_pending(self, method: str, path: str) -> Fault | None:
        for index, pending in enumerate(self._pending):
            if pending.matches(method, path):
                pending.remaining -= 1
                if pending.remaining == 0:
                    del self._pending[index]
                return pending.fault
        return None

    def _draw(self) -> Fault | None:
        s = self.settings
        if not (s.rate_429 or s.rate_5xx or s.rate_timeout or s.rate_drop):
            return None
        roll = self._random.random()
        for rate, fault in self._random_faults():
            if roll < rate:
                return fault
            roll -= rate
        return None

    def _random_faults(self) -> Iterable[tuple[float, Fault]]:
        s = self.settings
        yield s.rate_429, Fault(kind=FaultKind.STATUS, status=429, retry_after=0.0)
        yield s.rate_5xx, Fault(kind=FaultKind.STATUS, status=503)
        yield s.rate_timeout, Fault(kind=FaultKind.TIMEOUT)
        yield s.rate_drop, Fault(kind=FaultKind.DROP)

    @property
    def latency_seconds(self) -> float:
        return self.settings.latency_ms / 1000.0

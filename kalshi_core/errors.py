"""The exceptions a user of kalshi-core can catch. Each message says what and where."""

from __future__ import annotations


class KalshiCoreError(Exception):
    """Base class of every error kalshi-core raises on purpose."""


class ConfigError(KalshiCoreError):
    """A setting is missing, malformed or out of range."""


class PluginError(KalshiCoreError):
    """A plugin is broken: it failed to load, or registered something twice or badly."""


class WireFormatError(KalshiCoreError, ValueError):
    """JSON from (or for) the exchange does not match the expected shape."""


class ExchangeError(KalshiCoreError):
    """The exchange answered with an error, or with a response we could not understand.

    ``code`` is the exchange's own error code (``order_already_exists``, ...) when it sent one,
    ``status`` the HTTP status, ``endpoint`` the path that was called.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        endpoint: str | None = None,
    ) -> None:
        self.code = code
        self.status = status
        self.endpoint = endpoint
        where = f" [{endpoint}]" if endpoint else ""
        tag = f" ({status} {code})" if status or code else ""
        super().__init__(f"{message}{tag}{where}")


class RiskRejected(KalshiCoreError):
    """An order intent broke a risk limit; ``rule`` names the limit."""

    def __init__(self, rule: str, reason: str) -> None:
        self.rule = rule
        self.reason = reason
        super().__init__(f"{rule}: {reason}")


class StorageError(KalshiCoreError):
    """The database is unreachable, or its schema is not the one this version expects."""


class LookaheadError(KalshiCoreError):
    """Something asked for, or was handed, data stamped after the venue clock's now: in a
    backtest that is a result from the future, so the run stops instead of trusting it."""

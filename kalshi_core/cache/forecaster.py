"""Analysis de-duplication: a forecast is reused while its market's price has not moved.

The key is the market, its mid price bucket (``mid // price_bucket``), the forecaster's
model identity and the prompt version, so a new model, a new prompt or a price move asks
again. On Redis the forecasts outlive a restart: a restarted worker does not pay for the
same analysis twice. Declined forecasts (``None``) are never cached. A reused forecast keeps
its model, prompt hash and time, with cost and tokens zero: the reuse cost nothing.
"""

from __future__ import annotations

import hashlib

import attrs

from kalshi_core.cache import kinds
from kalshi_core.cache.store import SharedCache
from kalshi_core.models import Forecast, Market
from kalshi_core.protocols import Forecaster, PipelineContext


def model_identity(forecaster: Forecaster) -> str:
    """The forecaster's name plus the models it asks (an LLM ensemble lists each member)."""
    options = getattr(forecaster, "options", None)
    members = getattr(options, "members", None) or ()
    models = ",".join(str(getattr(m, "model", m)) for m in members)
    return f"{forecaster.name}[{models}]" if models else forecaster.name


def prompt_version(text: str) -> str:
    """A short, stable version of a prompt template."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


class CachingForecaster:
    """A :class:`~kalshi_core.protocols.Forecaster` that asks ``inner`` only for markets
    whose (bucketed) price it has not forecast yet with this model and prompt."""

    def __init__(
        self,
        inner: Forecaster,
        cache: SharedCache,
        *,
        price_bucket: int = 100,
        prompt: str = "",
    ) -> None:
        if price_bucket < 1:
            raise ValueError(f"cache.forecast_price_bucket must be at least 1, got {price_bucket}")
        self.inner = inner
        self.cache = cache
        self.name = inner.name
        self.price_bucket = price_bucket
        self.identity = model_identity(inner)
        self.prompt_version = prompt or str(getattr(inner, "prompt_version", "") or "v0")
        self.calls = 0  # forecasts asked of ``inner``
        self.reused = 0  # forecasts answered from the cache

    def key(self, market: Market) -> str | None:
        """The cache key, or ``None`` for a market without a mid price (never reused)."""
        mid = market.mid
        if mid is None:
            return None
        bucket = mid // self.price_bucket
        return f"{market.ticker}|{bucket}|{self.identity}|{self.prompt_version}"

    async def forecast(self, market: Market, context: PipelineContext) -> Forecast | None:
        key = self.key(market)
        if key is not None:
            cached = await self.cache.get(kinds.FORECAST, key)
            if cached is not None:
                self.reused += 1
                # reusing cost nothing: the stored decision must not count the spend twice
                return attrs.evolve(cached, cost=0, input_tokens=0, output_tokens=0)
        self.calls += 1
        made = await self.inner.forecast(market, context)
        if made is not None and key is not None:
            await self.cache.put(kinds.FORECAST, key, made)
        return made

    async def aclose(self) -> None:
        closer = getattr(self.inner, "aclose", None)
        if closer is not None:
            await closer()

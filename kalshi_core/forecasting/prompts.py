"""The prompt the ``llm`` forecaster sends, and the optional context (news) provider it asks.

The prompt carries the market's rules, the time to close, its quote, its price a day ago (from
the exchange's ``previous_*`` fields) and the quotes the forecaster saw on earlier calls. It
asks for a 90 % interval as well as the probability: the interval's width becomes the
forecast's standard error. The prompt is a pure function of the market, the pipeline's ``now``,
the history and the provider's text, so it is reproducible (tests pin it with snapshots) and
its SHA-256 identifies it on the Forecast.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

import attrs

from kalshi_core.models import Market
from kalshi_core.money import DOLLAR, Price, format_count, format_dollars

SYSTEM_PROMPT = (
    "You forecast binary prediction markets. Estimate the probability that the market below "
    "resolves YES, using the rules as written and what you know; the market prices are other "
    "traders' opinions, not facts. Reply with exactly one JSON object and nothing else: "
    '{"probability": <number 0..1 that it resolves YES>, '
    '"confidence": <number 0..1, how sure you are of that estimate>, '
    '"low": <number 0..1>, "high": <number 0..1>, '
    '"reasoning": "<two or three sentences>"}, '
    "where low..high is your 90% interval for the probability (it contains the probability; "
    "a wide interval when you know little; null for both if you cannot say)."
)


@attrs.frozen(kw_only=True)
class PricePoint:
    """One quote of a market as seen at ``time``."""

    time: datetime
    yes_bid: Price
    yes_ask: Price
    last_price: Price

    @classmethod
    def of(cls, market: Market, time: datetime) -> PricePoint:
        return cls(
            time=time, yes_bid=market.yes_bid, yes_ask=market.yes_ask, last_price=market.last_price
        )


@runtime_checkable
class ContextProvider(Protocol):
    """Supplies background text (news, data) about a market for the prompt; "" for none."""

    async def context_for(self, market: Market) -> str: ...


@attrs.frozen(kw_only=True)
class Prompt:
    """The system and user messages of one forecast request."""

    system: str
    user: str

    @property
    def sha256(self) -> str:
        text = f"{self.system}\n\n{self.user}"
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def messages(self) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system}, {"role": "user", "content": self.user}]


def describe_price(price: Price | None) -> str:
    """``4200`` -> ``"$0.4200 (42.0%)"``; ``None`` -> ``"none"``."""
    if price is None:
        return "none"
    return f"${format_dollars(price)} ({price * 100 / DOLLAR:.1f}%)"


def describe_duration(delta: timedelta) -> str:
    """A time to close in days, hours and minutes ("closed" when not positive)."""
    seconds = int(delta.total_seconds())
    if seconds <= 0:
        return "closed"
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    parts = [f"{days} d"] if days else []
    parts += [f"{hours} h"] if days or hours else []
    parts.append(f"{minutes} min")
    return " ".join(parts)


def _quote_lines(market: Market) -> list[str]:
    bid = market.yes_bid if market.yes_bid > 0 else None
    ask = market.yes_ask if market.yes_ask < DOLLAR else None
    last = market.last_price if market.last_price > 0 else None
    return [
        f"YES bid: {describe_price(bid)}",
        f"YES ask: {describe_price(ask)}",
        f"Last traded YES price: {describe_price(last)}",
        f"Volume: {format_count(market.volume)} contracts",
        f"Open interest: {format_count(market.open_interest)} contracts",
    ]


def _history_lines(market: Market, history: Sequence[PricePoint]) -> list[str]:
    lines = []
    if market.previous_price > 0 or market.previous_yes_bid > 0:
        lines.append(
            f"24 h ago: YES bid {_price_or_none(market.previous_yes_bid)}, ask "
            f"{_price_or_none(market.previous_yes_ask)}, last "
            f"{_price_or_none(market.previous_price)}"
        )
    if history:
        lines.append("Earlier quotes (oldest first):")
        lines += [
            f"- {p.time.isoformat()}: YES bid {_price_or_none(p.yes_bid)}, ask "
            f"{_price_or_none(p.yes_ask)}, last {_price_or_none(p.last_price)}"
            for p in history
        ]
    return lines


def _price_or_none(price: Price) -> str:
    return describe_price(price if 0 < price < DOLLAR else None)


def build_prompt(
    market: Market,
    now: datetime,
    context_text: str = "",
    history: Sequence[PricePoint] = (),
) -> Prompt:
    """The request for ``market`` as seen at ``now``, with its earlier quotes ``history``
    (oldest first) and optional background text."""
    lines = [f"Market: {market.ticker}", f"Title: {market.title or market.ticker}"]
    if market.subtitle:
        lines.append(f"Subtitle: {market.subtitle}")
    lines.append(f"Rules: {market.rules_primary or 'not given'}")
    if market.rules_secondary:
        lines.append(f"More rules: {market.rules_secondary}")
    lines.append(f"Now: {now.isoformat()}")
    to_close = describe_duration(market.close_time - now)
    lines.append(f"Closes: {market.close_time.isoformat()} (in {to_close})")
    lines.extend(_quote_lines(market))
    lines.extend(_history_lines(market, history))
    if context_text.strip():
        lines += ["", "Background:", context_text.strip()]
    lines += ["", "What is the probability that this market resolves YES?"]
    return Prompt(system=SYSTEM_PROMPT, user="\n".join(lines))

"""The ``llm`` forecaster: any OpenAI-compatible chat endpoint, one model or an ensemble.

Each call sends the prompt of :mod:`kalshi_core.forecasting.prompts` and asks for the JSON
answer of :mod:`kalshi_core.forecasting.answers`. A call that yields no acceptable answer
(refusal, malformed or out-of-range output, timeout, HTTP error, budget exhausted) is
*rejected*: the forecaster keeps it as ``last_rejection``, counts it in ``rejection_counts`` and
sends the :data:`kalshi_core.signals.forecast_rejected` signal with the :class:`Rejection`.
Every call that cost money also sends :data:`kalshi_core.signals.ai_spend`.

With several ensemble members, the answers are combined by weighted mean, weighted median or
inverse-variance weighting; the forecast stands if at least ``min_members`` members answered.

Every forecast records its uncertainty where there is one (:func:`ensemble_stderr`): a member's
stderr comes from the 90 % interval it gave; an ensemble adds the members' spread (their
weighted standard deviation) to the stderr of the pooled answer. One model without an interval
has no stderr, and its edge counts as unproven downstream. No stderr is below
``min_stderr`` (a model claiming certainty is not taken at its word).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import Counter, deque
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import attrs
import openai
from openai import AsyncOpenAI

from kalshi_core import signals
from kalshi_core.forecasting.answers import (
    ANSWER_SCHEMA,
    Answer,
    AnswerRejected,
    RejectionReason,
    parse_answer,
)
from kalshi_core.forecasting.budget import DailyBudget, ModelPrice, worst_case_input_tokens
from kalshi_core.forecasting.prompts import ContextProvider, PricePoint, Prompt, build_prompt
from kalshi_core.models import Forecast, Market
from kalshi_core.money import DOLLAR, Money
from kalshi_core.protocols import PipelineContext

NAME = "llm"
COMBINE_RULES = ("mean", "median", "inverse_variance")
RESPONSE_FORMATS = ("json_schema", "json_object", "none")
NO_API_KEY = "not-needed"  # local OpenAI-compatible servers accept any key

log = logging.getLogger(__name__)


@attrs.frozen(kw_only=True)
class Member:
    """One model of the ensemble and where to reach it. The key never appears in a repr."""

    model: str
    base_url: str
    api_key: str = attrs.field(default="", repr=False)
    weight: float = 1.0
    price: ModelPrice


@attrs.frozen(kw_only=True)
class LLMOptions:
    """Request parameters, budget and ensemble rules shared by every member."""

    members: tuple[Member, ...]
    temperature: float = 0.0
    timeout_seconds: float = 30.0
    max_tokens: int = 600
    max_retries: int = 0
    daily_budget: Money = 0
    combine: str = attrs.field(default="mean", validator=attrs.validators.in_(COMBINE_RULES))
    min_members: int = 1
    response_format: str = attrs.field(
        default="json_schema", validator=attrs.validators.in_(RESPONSE_FORMATS)
    )
    min_stderr: int = 200  # basis points: the floor of any stderr this forecaster states
    history_points: int = 12  # quotes of a market it saw before, shown in the prompt


@attrs.frozen(kw_only=True)
class Rejection:
    """Why one call (or the whole ensemble) produced no forecast, and what it cost."""

    ticker: str
    model: str
    reason: RejectionReason
    detail: str
    created_time: datetime
    prompt_hash: str
    input_tokens: int = 0
    output_tokens: int = 0
    cost: Money = 0


@attrs.frozen(kw_only=True)
class MemberAnswer:
    member: Member
    answer: Answer
    input_tokens: int
    output_tokens: int
    cost: Money


@attrs.frozen(kw_only=True)
class _Call:
    """What one request needs to know besides the member."""

    market: Market
    prompt: Prompt
    now: datetime
    spent_elsewhere: Money


class CallFailed(Exception):
    """A request failed before an answer could be read."""

    def __init__(self, reason: RejectionReason, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(detail)


def weighted_median(values: Sequence[tuple[float, float]]) -> float:
    """The lower weighted median of ``(value, weight)`` pairs."""
    ordered = sorted(values)
    half = sum(weight for _, weight in ordered) / 2
    running = 0.0
    for value, weight in ordered:
        running += weight
        if running >= half:
            return value
    return ordered[-1][0]


def _weighted_mean(pairs: Sequence[tuple[float, float]]) -> float:
    return sum(v * w for v, w in pairs) / sum(w for _, w in pairs)


def _stated_variances(answers: Sequence[MemberAnswer], floor: int) -> list[float]:
    """Each member's variance from its stderr (at least ``floor``); a member without one gets
    the largest stated variance, so it weighs least (all equal when none stated)."""
    stated = [max(a.answer.stderr, floor) ** 2 for a in answers if a.answer.stderr is not None]
    fallback = float(max(stated, default=max(floor, 1) ** 2))
    return [
        float(max(a.answer.stderr, floor) ** 2) if a.answer.stderr is not None else fallback
        for a in answers
    ]


def combine_weights(answers: Sequence[MemberAnswer], rule: str, floor: int) -> list[float]:
    """Member weights: as configured, or divided by each member's variance."""
    weights = [a.member.weight for a in answers]
    if rule != "inverse_variance":
        return weights
    variances = _stated_variances(answers, floor)
    return [w / v for w, v in zip(weights, variances, strict=True)]


def ensemble_stderr(answers: Sequence[MemberAnswer], weights: Sequence[float]) -> float | None:
    """sqrt(pooled^2 + spread^2): ``pooled`` is the weighted mean of the stderrs the members
    stated, ``spread`` the members' weighted standard deviation around the combined mean. Both
    are deliberately not shrunk by sqrt(n): models trained on the same text make correlated
    errors, so n of them are not n independent measurements. None for one member without an
    interval."""
    pairs = list(zip((float(a.answer.probability) for a in answers), weights, strict=True))
    parts: list[float] = []
    if len(answers) > 1:
        mean = _weighted_mean(pairs)
        parts.append(_weighted_mean([((p - mean) ** 2, w) for p, w in pairs]))
    stated = [
        (float(a.answer.stderr), w)
        for a, w in zip(answers, weights, strict=True)
        if a.answer.stderr is not None
    ]
    if stated:
        parts.append(_weighted_mean(stated) ** 2)
    return math.sqrt(sum(parts)) if parts else None


@attrs.frozen(kw_only=True)
class Combined:
    probability: int
    confidence: int
    stderr: int | None


def combine(answers: Sequence[MemberAnswer], rule: str, min_stderr: int = 0) -> Combined:
    """Probability, confidence and stderr (basis points) from the members' answers."""
    weights = combine_weights(answers, rule, min_stderr)
    pairs = [(float(a.answer.probability), w) for a, w in zip(answers, weights, strict=True)]
    probability = weighted_median(pairs) if rule == "median" else _weighted_mean(pairs)
    confidence = _weighted_mean(
        [(float(a.answer.confidence), w) for a, w in zip(answers, weights, strict=True)]
    )
    stderr = ensemble_stderr(answers, weights)
    floored = None if stderr is None else min(DOLLAR, max(min_stderr, round(stderr)))
    return Combined(probability=round(probability), confidence=round(confidence), stderr=floored)


def _response_format(kind: str) -> dict[str, Any] | None:
    if kind == "json_schema":
        schema = {"name": "forecast", "strict": True, "schema": ANSWER_SCHEMA}
        return {"type": "json_schema", "json_schema": schema}
    if kind == "json_object":
        return {"type": "json_object"}
    return None


def read_completion(completion: Any) -> Answer:
    """The answer in a chat completion; a refusal or truncation raises :class:`AnswerRejected`."""
    if not completion.choices:
        raise AnswerRejected(RejectionReason.MALFORMED, "reply has no choices")
    choice = completion.choices[0]
    refusal = getattr(choice.message, "refusal", None)
    if refusal or choice.finish_reason == "content_filter":
        raise AnswerRejected(RejectionReason.REFUSED, str(refusal or "content filter")[:200])
    if choice.finish_reason == "length":
        raise AnswerRejected(RejectionReason.MALFORMED, "reply cut off at max_tokens")
    return parse_answer(choice.message.content)


class LLMForecaster:
    """Asks one model, or an ensemble, for P(yes). See the module docstring for rejections."""

    name = NAME

    def __init__(
        self, options: LLMOptions, context_provider: ContextProvider | None = None
    ) -> None:
        if not options.members:
            raise ValueError("the llm forecaster needs at least one model")
        self.options = options
        self.context_provider = context_provider
        self.budget = DailyBudget(options.daily_budget)
        self.last_rejection: Rejection | None = None
        self.rejection_counts: Counter[RejectionReason] = Counter()
        self._clients: dict[tuple[str, str], AsyncOpenAI] = {}
        self._history: dict[str, deque[PricePoint]] = {}  # quotes seen on earlier calls

    def __repr__(self) -> str:
        models = [m.model for m in self.options.members]
        return f"LLMForecaster(models={models}, combine={self.options.combine!r})"

    async def aclose(self) -> None:
        """Close the HTTP connections of every client this forecaster opened."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.close()

    def _client(self, member: Member) -> AsyncOpenAI:
        key = (member.base_url, member.api_key)
        if key not in self._clients:
            self._clients[key] = AsyncOpenAI(
                base_url=member.base_url,
                api_key=member.api_key or NO_API_KEY,
                timeout=self.options.timeout_seconds,
                max_retries=self.options.max_retries,
            )
        return self._clients[key]

    async def forecast(self, market: Market, context: PipelineContext) -> Forecast | None:
        background = ""
        if self.context_provider is not None:
            background = await self.context_provider.context_for(market)
        seen = self._history.setdefault(market.ticker, deque(maxlen=self.options.history_points))
        prompt = build_prompt(market, context.now, background, tuple(seen))
        seen.append(PricePoint.of(market, context.now))
        call = _Call(
            market=market, prompt=prompt, now=context.now, spent_elsewhere=context.ai_spend_today
        )
        results = await asyncio.gather(*(self._ask(m, call) for m in self.options.members))
        answered = [r for r in results if r is not None]
        if len(answered) < self.options.min_members or not answered:
            if len(self.options.members) > 1:
                detail = f"{len(answered)} of {len(self.options.members)} members answered"
                self._reject(call, self._ensemble_name(), RejectionReason.TOO_FEW_MEMBERS, detail)
            return None
        return self._forecast_from(call, answered)

    def _ensemble_name(self, answered: Sequence[MemberAnswer] | None = None) -> str:
        members = [a.member for a in answered] if answered is not None else self.options.members
        if len(self.options.members) == 1:
            return members[0].model
        return f"ensemble-{self.options.combine}[{','.join(m.model for m in members)}]"

    def _forecast_from(self, call: _Call, answered: Sequence[MemberAnswer]) -> Forecast:
        combined = combine(answered, self.options.combine, self.options.min_stderr)
        if len(self.options.members) == 1:
            reasoning = answered[0].answer.reasoning
        else:
            reasoning = "\n".join(f"[{a.member.model}] {a.answer.reasoning}" for a in answered)
        return Forecast(
            ticker=call.market.ticker,
            probability=combined.probability,
            model=self._ensemble_name(answered),
            created_time=call.now,
            confidence=combined.confidence,
            stderr=combined.stderr,
            reasoning=reasoning,
            prompt_hash=call.prompt.sha256,
            input_tokens=sum(a.input_tokens for a in answered),
            output_tokens=sum(a.output_tokens for a in answered),
            cost=sum(a.cost for a in answered),
        )

    def _worst_case(self, member: Member, prompt: Prompt) -> Money:
        size = len(prompt.system.encode("utf-8")) + len(prompt.user.encode("utf-8"))
        return member.price.cost(worst_case_input_tokens(size), self.options.max_tokens)

    async def _ask(self, member: Member, call: _Call) -> MemberAnswer | None:
        day = call.now.date()
        worst = self._worst_case(member, call.prompt)
        if not self.budget.reserve(day, worst, call.spent_elsewhere):
            spent = max(self.budget.spent(day), call.spent_elsewhere)
            detail = f"spent {spent} of {self.options.daily_budget} today; call may cost {worst}"
            self._reject(call, member.model, RejectionReason.OVER_BUDGET, detail)
            return None
        try:
            completion = await self._request(member, call.prompt)
        except CallFailed as failed:
            unknown_outcome = failed.reason is RejectionReason.TIMEOUT
            cost = worst if unknown_outcome else 0
            self.budget.settle(day, worst, cost)
            self._reject(call, member.model, failed.reason, failed.detail, cost=cost)
            return None
        return self._answer(member, call, completion, worst)

    async def _request(self, member: Member, prompt: Prompt) -> Any:
        arguments: dict[str, Any] = {
            "model": member.model,
            "messages": prompt.messages(),
            "temperature": self.options.temperature,
            "max_tokens": self.options.max_tokens,
        }
        response_format = _response_format(self.options.response_format)
        if response_format is not None:
            arguments["response_format"] = response_format
        try:
            return await self._client(member).chat.completions.create(**arguments)
        except openai.APITimeoutError:
            raise CallFailed(RejectionReason.TIMEOUT, "no reply within the timeout") from None
        except openai.APIStatusError as exc:
            raise CallFailed(RejectionReason.HTTP_ERROR, f"HTTP {exc.status_code}") from None
        except openai.APIConnectionError as exc:
            raise CallFailed(RejectionReason.CONNECTION_ERROR, type(exc).__name__) from None
        except openai.OpenAIError as exc:
            raise CallFailed(RejectionReason.MALFORMED, type(exc).__name__) from None

    def _answer(
        self, member: Member, call: _Call, completion: Any, worst: Money
    ) -> MemberAnswer | None:
        usage = getattr(completion, "usage", None)
        input_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        output_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        # without usage the real cost is unknown: keep the worst case
        cost = member.price.cost(input_tokens, output_tokens) if usage is not None else worst
        self.budget.settle(call.now.date(), worst, cost)
        signals.ai_spend.send(
            self,
            ticker=call.market.ticker,
            model=member.model,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost=cost,
        )
        try:
            answer = read_completion(completion)
        except AnswerRejected as rejected:
            tokens = {"input_tokens": input_tokens, "output_tokens": output_tokens, "cost": cost}
            self._reject(call, member.model, rejected.reason, rejected.detail, **tokens)
            return None
        return MemberAnswer(
            member=member,
            answer=answer,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost=cost,
        )

    def _reject(
        self, call: _Call, model: str, reason: RejectionReason, detail: str, **spend: int
    ) -> None:
        rejection = Rejection(
            ticker=call.market.ticker,
            model=model,
            reason=reason,
            detail=detail,
            created_time=call.now,
            prompt_hash=call.prompt.sha256,
            **spend,
        )
        self.last_rejection = rejection
        self.rejection_counts[reason] += 1
        log.info("forecast rejected: %s %s %s: %s", call.market.ticker, model, reason.value, detail)
        signals.forecast_rejected.send(self, rejection=rejection)

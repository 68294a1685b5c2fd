"""The model's answer: a JSON object ``{probability, confidence, reasoning}``, checked strictly.

It may also carry ``low`` and ``high``, the model's 90 % interval for the probability (both or
neither; ``null`` means none): the interval must contain the probability. Its width gives the
answer's standard error, ``(high - low) / (2 x 1.645)``, as for a normal 90 % interval.

The JSON may be the whole reply or embedded in prose or a code fence. Anything else is
rejected with a :class:`RejectionReason`: a refusal, malformed JSON, a missing or extra key, a
wrong type, or a number outside 0..1. A rejected answer is never turned into a forecast.
"""

from __future__ import annotations

import enum
import json
import math
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import attrs

from kalshi_core.money import DOLLAR

ANSWER_KEYS = ("probability", "confidence", "reasoning")
INTERVAL_KEYS = ("low", "high")
Z_90 = Decimal("1.6449")  # a normal 90 % interval is +-1.6449 standard errors

_BOUND = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "probability": {"type": "number", "minimum": 0, "maximum": 1},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "low": _BOUND,
        "high": _BOUND,
        "reasoning": {"type": "string"},
    },
    # strict structured output wants every key listed: "no interval" is low = high = null
    "required": [*ANSWER_KEYS, *INTERVAL_KEYS],
    "additionalProperties": False,
}


class RejectionReason(enum.Enum):
    """Why a forecaster call produced no forecast."""

    REFUSED = "refused"
    MALFORMED = "malformed"
    OUT_OF_RANGE = "out_of_range"
    TIMEOUT = "timeout"
    HTTP_ERROR = "http_error"
    CONNECTION_ERROR = "connection_error"
    OVER_BUDGET = "over_budget"
    TOO_FEW_MEMBERS = "too_few_members"


class AnswerRejected(Exception):
    """The reply is not an acceptable answer; ``reason`` says which way it failed."""

    def __init__(self, reason: RejectionReason, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason.value}: {detail}")


@attrs.frozen(kw_only=True)
class Answer:
    """A validated answer; probability and confidence in basis points (0..10,000)."""

    probability: int
    confidence: int
    reasoning: str
    stderr: int | None = None  # from the model's 90 % interval, when it gave one


def _embedded_object(text: str) -> dict[str, Any] | None:
    """The first JSON object found in ``text`` (whole, fenced or inside prose)."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, dict):
            return value
        start = text.find("{", start + 1)
    return None


def _unit_interval(payload: dict[str, Any], key: str) -> int:
    value = payload[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AnswerRejected(RejectionReason.MALFORMED, f"{key} is {type(value).__name__}")
    if not math.isfinite(value) or not 0 <= value <= 1:
        raise AnswerRejected(RejectionReason.OUT_OF_RANGE, f"{key} {value!r} is outside 0..1")
    units = Decimal(repr(value)) * DOLLAR
    return int(units.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _check_keys(payload: dict[str, Any]) -> None:
    keys = set(payload)
    missing = sorted(set(ANSWER_KEYS) - keys)
    extra = sorted(keys - set(ANSWER_KEYS) - set(INTERVAL_KEYS))
    if missing or extra:
        raise AnswerRejected(RejectionReason.MALFORMED, f"missing keys {missing}, extra {extra}")
    if not isinstance(payload["reasoning"], str):
        raise AnswerRejected(RejectionReason.MALFORMED, "reasoning is not a string")


def interval_stderr(payload: dict[str, Any], probability: int) -> int | None:
    """The stderr (basis points) of the answer's 90 % interval; None when it gave none."""
    given = [payload.get(key) is not None for key in INTERVAL_KEYS]
    if not any(given):
        return None
    if not all(given):
        raise AnswerRejected(RejectionReason.MALFORMED, "give both low and high, or neither")
    low, high = (_unit_interval(payload, key) for key in INTERVAL_KEYS)
    if not low <= probability <= high:
        raise AnswerRejected(
            RejectionReason.OUT_OF_RANGE,
            f"interval [{payload['low']!r}, {payload['high']!r}] does not contain the "
            f"probability {payload['probability']!r}",
        )
    stderr = Decimal(high - low) / (2 * Z_90)
    return int(stderr.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def parse_answer(content: str | None) -> Answer:
    """Validate a reply's text against :data:`ANSWER_SCHEMA`; raise :class:`AnswerRejected`."""
    if not content or not content.strip():
        raise AnswerRejected(RejectionReason.MALFORMED, "empty reply")
    payload = _embedded_object(content)
    if payload is None:
        raise AnswerRejected(RejectionReason.MALFORMED, f"no JSON object in {content[:80]!r}")
    _check_keys(payload)
    probability = _unit_interval(payload, "probability")
    return Answer(
        probability=probability,
        confidence=_unit_interval(payload, "confidence"),
        reasoning=payload["reasoning"].strip(),
        stderr=interval_stderr(payload, probability),
    )

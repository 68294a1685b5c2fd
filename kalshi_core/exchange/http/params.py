"""Reading query parameters and JSON bodies into checked values (400 naming what was wrong)."""

from __future__ import annotations

import enum
import json
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from starlette.requests import Request

from kalshi_core.exchange import rules
from kalshi_core.exchange.http.errors import bad
from kalshi_core.money import Count, Money, parse_count, parse_dollars

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
E = TypeVar("E", bound=enum.Enum)


# ---- query parameters --------------------------------------------------------------------------


def query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    if not text.lstrip("-").isdigit():
        raise bad(f"query parameter {name}={text!r} is not an integer")
    value = int(text)
    if not low <= value <= high:
        raise bad(f"query parameter {name}={value} must be between {low} and {high}")
    return value


def query_time(request: Request, name: str) -> datetime | None:
    text = request.query_params.get(name)
    if not text:
        return None
    if not text.isdigit():
        raise bad(f"query parameter {name}={text!r} must be Unix seconds")
    return EPOCH + timedelta(seconds=int(text))


def query_bool(request: Request, name: str) -> bool | None:
    text = request.query_params.get(name)
    if not text:
        return None
    if text not in ("true", "false"):
        raise bad(f"query parameter {name}={text!r} must be true or false")
    return text == "true"


def query_csv(request: Request, name: str, most: int = 1000) -> list[str]:
    values = [
        item
        for raw in request.query_params.getlist(name)
        for item in raw.split(",")
        if item.strip()
    ]
    if len(values) > most:
        raise bad(f"query parameter {name} takes at most {most} values, got {len(values)}")
    return values


def in_range(moment: datetime | None, low: datetime | None, high: datetime | None) -> bool:
    if low is None and high is None:
        return True
    if moment is None:
        return False
    return (low is None or moment >= low) and (high is None or moment <= high)


def in_time(moment: datetime | None, request: Request) -> bool:
    """``min_ts <= moment <= max_ts`` for the request's (optional) bounds."""
    return in_range(moment, query_time(request, "min_ts"), query_time(request, "max_ts"))


# ---- JSON bodies -------------------------------------------------------------------------------


async def json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        raise bad("request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise bad("request body must be a JSON object")
    return data


def text_field(data: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise bad(f"field {name} must be a non-empty string, got {value!r}")
    return value


def choice_field(data: dict[str, Any], name: str, kind: type[E]) -> E:
    value = data.get(name)
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(str(member.value) for member in kind)
        raise bad(f"field {name}={value!r} must be one of {allowed}") from None


def flag_field(data: dict[str, Any], name: str) -> bool:
    value = data.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise bad(f"field {name} must be true or false, got {value!r}")
    return value


def parse_price(value: Any, name: str = "price") -> Money:
    if not isinstance(value, str):
        raise bad(f'field {name} must be a dollar string like "0.42"', rules.INVALID_PRICE)
    try:
        return parse_dollars(value, name)
    except ValueError as exc:
        raise bad(str(exc), rules.INVALID_PRICE) from None


def parse_count_field(value: Any, name: str = "count") -> Count:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise bad(f'field {name} must be a count string like "10.00"', rules.INVALID_COUNT)
    try:
        return parse_count(value, name)
    except ValueError as exc:
        raise bad(str(exc), rules.INVALID_COUNT) from None


def expiration_field(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise bad(f"expiration_time must be Unix seconds, got {value!r}")
    return EPOCH + timedelta(seconds=value)

"""Reading query parameters and JSON bodies into checked values (400 naming what was wrong).

Every number is matched against a bounded ASCII grammar *before* any conversion or
arithmetic: ``"1e999990"`` as a count, ``"²"`` or ``"--5"`` in a query, or a timestamp past
the year 9999 is a 400 that costs microseconds, never a 500 or a stalled server.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from starlette.requests import Request

from kalshi_core.exchange import rules
from kalshi_core.exchange.http.errors import bad
from kalshi_core.exchange.subaccounts import MAX_SUBACCOUNT
from kalshi_core.money import CONTRACT, Count, Money, parse_count, parse_dollars

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_UNIX_SECONDS = 253_402_300_799  # 9999-12-31T23:59:59Z, the last second datetime can hold
E = TypeVar("E", bound=enum.Enum)
_INTEGER = re.compile(r"-?[0-9]{1,18}")
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")
_SUBACCOUNT = re.compile(r"0|[1-9][0-9]?")


def unix_seconds(value: int, what: str) -> datetime:
    """Unix seconds -> a UTC datetime; 400 outside ``0..MAX_UNIX_SECONDS``."""
    if not 0 <= value <= MAX_UNIX_SECONDS:
        raise bad(f"{what} must be Unix seconds between 0 and {MAX_UNIX_SECONDS}")
    return EPOCH + timedelta(seconds=value)


# ---- query parameters --------------------------------------------------------------------------


def query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    if _INTEGER.fullmatch(text) is None:
        raise bad(f"query parameter {name}={text[:40]!r} is not an integer")
    value = int(text)
    if not low <= value <= high:
        raise bad(f"query parameter {name}={value} must be between {low} and {high}")
    return value


def query_subaccount(request: Request) -> int | None:
    """``subaccount`` (0 to 63, no sign, padding or exponent), None when not given."""
    text = request.query_params.get("subaccount")
    if text is None or text == "":
        return None
    if _SUBACCOUNT.fullmatch(text) is None or int(text) > MAX_SUBACCOUNT:
        raise bad(
            f"query parameter subaccount={text[:40]!r} must be a subaccount number"
            f" 0 to {MAX_SUBACCOUNT}"
        )
    return int(text)


def query_time(request: Request, name: str) -> datetime | None:
    text = request.query_params.get(name)
    if not text:
        return None
    if _UNIX_SECONDS.fullmatch(text) is None:
        raise bad(f"query parameter {name}={text[:40]!r} must be Unix seconds")
    return unix_seconds(int(text), f"query parameter {name}")


def query_bool(request: Request, name: str) -> bool | None:
    text = request.query_params.get(name)
    if not text:
        return None
    if text not in ("true", "false"):
        raise bad(f"query parameter {name}={text[:40]!r} must be true or false")
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


def time_window(request: Request) -> Callable[[datetime | None], bool]:
    """``min_ts <= moment <= max_ts`` for the request's (optional) bounds, read up front so
    a bad bound is refused even when there is nothing to filter."""
    low, high = query_time(request, "min_ts"), query_time(request, "max_ts")
    return lambda moment: in_range(moment, low, high)


# ---- JSON bodies -------------------------------------------------------------------------------


async def json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        raise bad("request body is not valid JSON") from None
    except RecursionError:
        raise bad("request body is nested too deeply") from None
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


MAX_CLIENT_ORDER_ID = 64
# The venue's own order ids are lowercase version-5 UUIDs, and an order placed without a
# client_order_id takes its order id as one. A client id of that form could therefore
# collide with an id the venue generates later: such ids are reserved for the exchange.
_GENERATED_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def client_order_id_field(data: dict[str, Any], name: str = "client_order_id") -> str | None:
    """An optional client order id: 1 to 64 printable characters, not in the exchange's own
    order-id form."""
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_CLIENT_ORDER_ID:
        raise bad(f"field {name} must be a string of 1 to {MAX_CLIENT_ORDER_ID} characters")
    if not value.isprintable():
        raise bad(f"field {name} must not contain control characters")
    if _GENERATED_ID.fullmatch(value) is not None:
        raise bad(f"field {name}={value!r} has the form of the exchange's own order ids")
    return value


def int_field(data: dict[str, Any], name: str, low: int, high: int) -> int:
    """A JSON integer (not a bool, float or string) between ``low`` and ``high``."""
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        shown = repr(value)[:40]
        raise bad(f"field {name}={shown} must be an integer from {low} to {high}")
    return value


def subaccount_field(data: dict[str, Any], name: str = "subaccount") -> int | None:
    """An optional subaccount number in a JSON body (0 to 63), None when absent or null."""
    if data.get(name) is None:
        return None
    return int_field(data, name, 0, MAX_SUBACCOUNT)


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


# Kalshi's decimal strings: ASCII digits, no sign, exponent, separator, padding or leading
# zero, at most four decimals ("0.4200", "10.00", "10"). Ten integer digits bound every value
# before it is converted.
DECIMAL = re.compile(r"(?:0|[1-9][0-9]{0,9})(?:\.[0-9]{1,4})?")
MAX_WHOLE_COUNT = 9_999_999_999


def _decimal_text(value: str, name: str, code: str, example: str) -> str:
    if DECIMAL.fullmatch(value) is None:
        shown = value if len(value) <= 40 else value[:40] + "..."
        raise bad(
            f"field {name}={shown!r} must be a decimal string like {example!r} (ASCII digits,"
            " at most 4 decimals, no sign, exponent or padding)",
            code,
        )
    return value


def parse_price(value: Any, name: str = "price") -> Money:
    """A dollar string (``"0.42"``, ``"0.4200"``) -> money units."""
    if not isinstance(value, str):
        raise bad(f'field {name} must be a dollar string like "0.42"', rules.INVALID_PRICE)
    text = _decimal_text(value, name, rules.INVALID_PRICE, "0.42")
    try:
        return parse_dollars(text, name)
    except ValueError as exc:
        raise bad(str(exc), rules.INVALID_PRICE) from None


def parse_count_field(value: Any, name: str = "count") -> Count:
    """A count string (``"10.00"``, ``"10"``) or a whole number of contracts -> count units."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value <= MAX_WHOLE_COUNT:
            raise bad(f"field {name}={value} must be 0 to {MAX_WHOLE_COUNT}", rules.INVALID_COUNT)
        return value * CONTRACT
    if not isinstance(value, str):
        raise bad(f'field {name} must be a count string like "10.00"', rules.INVALID_COUNT)
    text = _decimal_text(value, name, rules.INVALID_COUNT, "10.00")
    try:
        return parse_count(text, name)
    except ValueError as exc:
        raise bad(str(exc), rules.INVALID_COUNT) from None


def expiration_field(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad(f"expiration_time must be Unix seconds, got {type(value).__name__}")
    return unix_seconds(value, "expiration_time")

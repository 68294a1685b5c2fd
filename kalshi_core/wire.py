"""The one cattrs converter that owns Kalshi's wire JSON.

Every attrs model is (un)structured by hooks generated from the ``WIRE`` metadata that
:mod:`kalshi_core.models` puts on its fields, so a new model field needs no change here:

* ``DOLLARS``: ``"0.4200"`` <-> ``4200`` money units (JSON numbers are rejected, as the SDK does).
* ``COUNT``: ``"10.00"`` <-> ``1000`` units of 1/100 contract.
* ``CENTS``: ``42`` <-> ``4200`` (the few integer-cent survivors).
* ``TIME``: RFC3339 <-> aware UTC ``datetime``; ``EPOCH_S`` / ``EPOCH_MS``: Unix integers.
* Enums travel by value, tuples as JSON arrays; ``None`` fields are left out of the output.

Unknown input keys are ignored (the exchange keeps adding fields); a ``null`` for a field that
has a default means "use the default", because the exchange sends ``null`` for optional fields.
Every failure of :func:`from_wire` is a :class:`~kalshi_core.errors.WireFormatError` naming the
endpoint and the wire path, e.g. ``GET /markets: markets[3].yes_bid_dollars: ...``.

The order book is not an object on the wire but two arrays of ``[price, count]`` pairs; see
:func:`orderbook_from_wire` and :func:`orderbook_to_wire`.
"""

from __future__ import annotations

import enum
import itertools
import re
import types
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, Union, get_args, get_origin

import attrs
import cattrs
from cattrs.cols import homogenous_tuple_structure_factory
from cattrs.errors import ClassValidationError, IterableValidationError
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from kalshi_core.errors import WireFormatError
from kalshi_core.models import WIRE, OrderBook, PriceLevel, WireKind
from kalshi_core.money import (
    CONTRACT,
    COUNT_PLACES,
    DOLLAR,
    MONEY_PLACES,
    Count,
    Money,
    Price,
    format_count,
    format_dollars,
    money_to_cents,
    parse_count,
    parse_dollars,
    parse_fixed_text,
)

__all__ = [
    "converter",
    "format_time",
    "from_wire",
    "many_from_wire",
    "orderbook_from_wire",
    "orderbook_to_wire",
    "parse_time",
    "to_wire",
]

T = TypeVar("T")
K = TypeVar("K")
Parser = Callable[[Any], Any]
Formatter = Callable[[Any], Any]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DOLLAR_TEXT = re.compile(r"-?\d+\.\d{2,6}")
_COUNT_TEXT = re.compile(r"-?\d+(?:\.\d{1,6})?")
_RFC3339 = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})"
)
# The form Kalshi sends (UTC as "Z", ASCII digits, whole microseconds or none), which
# datetime.fromisoformat reads in one call on Python >= 3.11; every other form takes _RFC3339.
_PLAIN_UTC = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{6})?Z")
_MAX_PROBLEMS = 10
_BOOK_KEY = "orderbook_fp"
_BOOK_SIDES = ("yes_dollars", "no_dollars")


class _PathError(ValueError):
    """A problem found by hand-written structuring (the order book) below the current path."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


def _json_type(value: Any) -> str:
    """The JSON name of a decoded value's type, for error messages."""
    names: dict[type[Any], str] = {
        bool: "boolean",
        int: "number",
        float: "number",
        str: "string",
        list: "array",
        tuple: "array",
        dict: "object",
        type(None): "null",
    }
    name = names.get(type(value), type(value).__name__)
    shown = repr(value)
    return name if len(shown) > 40 or name in ("array", "object", "null") else f"{name} {shown}"


def _require_text(value: Any, expected: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected {expected}, got {_json_type(value)}")
    return value


def _require_int(value: Any, expected: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected {expected}, got {_json_type(value)}")
    return value


# ---- per-kind parsers and formatters ----


# Readings already made: a listing repeats the same few hundred prices, counts and times.
# Only strings that parsed are kept, and each memo is emptied when full, so hostile input
# costs memory up to the bound and never changes an answer.
_MEMO_SIZE = 4096
# Times repeat less: a listing of 5,000 markets holds about 8,400 distinct ones (close and
# update times), so a memo of 4,096 was emptied before any listing could meet its times again.
_TIMES_KEPT = 1 << 15
# Arrays of string records are remembered up to this length: a hostile server's long arrays
# would otherwise keep big keys alive.
_RECORDS_REMEMBERED = 8
_DOLLARS_SEEN: dict[str, Money] = {}
_COUNTS_SEEN: dict[str, Count] = {}
_TIMES_SEEN: dict[str, datetime] = {}


def _remember(memo: dict[K, T], key: K, value: T, bound: int = _MEMO_SIZE) -> T:
    if len(memo) >= bound:
        memo.clear()
    memo[key] = value
    return value


def fast_wire_dollars(value: Any) -> Money | None:
    """The Decimal-free reading of a valid dollar string; ``None`` for anything else."""
    if type(value) is not str:
        return None
    seen = _DOLLARS_SEEN.get(value)
    if seen is not None:
        return seen
    decimals = len(value) - value.find(".") - 1
    if not 2 <= decimals <= 6 or decimals == len(value):
        return None
    units = parse_fixed_text(value, MONEY_PLACES, 6)
    return None if units is None else _remember(_DOLLARS_SEEN, value, units)


def fast_wire_count(value: Any) -> Count | None:
    """The Decimal-free reading of a valid count string; ``None`` for anything else."""
    if type(value) is not str:
        return None
    seen = _COUNTS_SEEN.get(value)
    if seen is not None:
        return seen
    units = parse_fixed_text(value, COUNT_PLACES, 6)
    return None if units is None else _remember(_COUNTS_SEEN, value, units)


def parse_wire_dollars(value: Any) -> Money:
    """``"0.4200"`` -> ``4200``; 2-6 decimals, nothing finer than 1/10,000 dollar."""
    fast = fast_wire_dollars(value)
    return _explain_dollars(value) if fast is None else fast


def _explain_dollars(value: Any) -> Money:
    """The strict, Decimal-based reading: the reference, and the source of error messages."""
    text = _require_text(value, 'a dollar string like "0.4200"')
    if not _DOLLAR_TEXT.fullmatch(text):
        raise ValueError(f"dollar string {text!r} must be digits with 2 to 6 decimals")
    try:
        return parse_dollars(text, "dollar amount")
    except ValueError:
        raise ValueError(f"dollar amount {text!r} is finer than $0.0001 (1/{DOLLAR})") from None


def parse_wire_count(value: Any) -> Count:
    """``"10.00"`` -> ``1000``; nothing finer than 1/100 contract."""
    fast = fast_wire_count(value)
    return _explain_count(value) if fast is None else fast


def _explain_count(value: Any) -> Count:
    """The strict, Decimal-based reading: the reference, and the source of error messages."""
    text = _require_text(value, 'a contract-count string like "10.00"')
    if not _COUNT_TEXT.fullmatch(text):
        raise ValueError(f"contract-count string {text!r} is not a decimal number")
    try:
        return parse_count(text, "contract count")
    except ValueError:
        raise ValueError(f"contract count {text!r} is finer than 1/{CONTRACT} contract") from None


def parse_wire_cents(value: Any) -> Money:
    """Integer cents -> money units."""
    return _require_int(value, "an integer number of cents") * (DOLLAR // 100)


def parse_time(value: Any) -> datetime:
    """RFC3339 (``Z`` or an offset, optional fraction) -> aware UTC datetime.

    Digits beyond microseconds are dropped: ``datetime`` cannot hold them. Parsed strings are
    remembered (``datetime`` is immutable), up to a bound.
    """
    if type(value) is not str:
        return _parse_time(value)
    seen = _TIMES_SEEN.get(value)
    return _new_time(value) if seen is None else seen


def _new_time(value: Any) -> datetime:
    """A time the memo does not hold, read and remembered (the generated readers have looked
    it up already)."""
    return _remember(_TIMES_SEEN, value, _parse_time(value), _TIMES_KEPT)


def _parse_time(value: Any) -> datetime:
    if type(value) is str and _PLAIN_UTC.fullmatch(value):
        try:
            return datetime.fromisoformat(value)  # UTC already: the same datetime, read whole
        except ValueError:
            pass  # a 13th month, a 61st second: the general reading words the error
    return read_rfc3339(value)


def read_rfc3339(value: Any) -> datetime:
    """The general reading of an RFC3339 time (any offset, any fraction), and its errors."""
    text = _require_text(value, "an RFC3339 time string")
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not an RFC3339 time like '2026-01-02T00:49:43.055Z'")
    date, clock, fraction, zone = match.groups()
    micros = (fraction or "")[:6].ljust(6, "0")
    offset = "+00:00" if zone in ("Z", "z") else zone
    try:
        parsed = datetime.fromisoformat(f"{date}T{clock}.{micros}{offset}")
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid time: {exc}") from None
    return parsed.astimezone(UTC)


def _aware_utc(moment: Any) -> datetime:
    if not isinstance(moment, datetime):
        raise TypeError(f"expected a datetime, got {type(moment).__name__}")
    if moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()} has no timezone; use UTC")
    return moment.astimezone(UTC)


def format_time(moment: datetime) -> str:
    """Aware datetime -> RFC3339 in UTC with ``Z``: seconds, milliseconds or microseconds,
    whichever is the shortest exact form, so a round trip keeps every microsecond."""
    utc = _aware_utc(moment)
    if utc.microsecond == 0:
        timespec = "seconds"
    elif utc.microsecond % 1000 == 0:
        timespec = "milliseconds"
    else:
        timespec = "microseconds"
    return utc.replace(tzinfo=None).isoformat(timespec=timespec) + "Z"


def _epoch_parser(unit: timedelta) -> Parser:
    def parse(value: Any) -> datetime:
        number = _require_int(value, "an integer Unix time")
        try:
            return _EPOCH + number * unit
        except OverflowError:
            raise ValueError(f"Unix time {number} is out of range") from None

    return parse


def _epoch_formatter(unit: timedelta) -> Formatter:
    def format_epoch(moment: Any) -> int:
        # Whole units only: the wire has no fraction, so a finer time is floored.
        return (_aware_utc(moment) - _EPOCH) // unit

    return format_epoch


def _format_money(amount: Any) -> str:
    return format_dollars(_require_int(amount, "an int amount of money units"))


def _format_count(count: Any) -> str:
    return format_count(_require_int(count, "an int count of 1/100 contracts"))


def _format_cents(amount: Any) -> int:
    return money_to_cents(_require_int(amount, "an int amount of money units"))


_PARSERS: dict[WireKind, Parser] = {
    WireKind.DOLLARS: parse_wire_dollars,
    WireKind.COUNT: parse_wire_count,
    WireKind.CENTS: parse_wire_cents,
    WireKind.TIME: parse_time,
    WireKind.EPOCH_S: _epoch_parser(timedelta(seconds=1)),
    WireKind.EPOCH_MS: _epoch_parser(timedelta(milliseconds=1)),
}
_FORMATTERS: dict[WireKind, Formatter] = {
    WireKind.DOLLARS: _format_money,
    WireKind.COUNT: _format_count,
    WireKind.CENTS: _format_cents,
    WireKind.TIME: format_time,
    WireKind.EPOCH_S: _epoch_formatter(timedelta(seconds=1)),
    WireKind.EPOCH_MS: _epoch_formatter(timedelta(milliseconds=1)),
}


# ---- field metadata ----


@attrs.frozen
class WireField:
    """How one attrs field travels: its wire name, format, and whether it may be null."""

    name: str
    wire_name: str
    kind: WireKind
    nullable: bool
    has_default: bool


def _is_optional(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType) and type(None) in get_args(tp)


_FIELDS_CACHE: dict[type[Any], tuple[WireField, ...]] = {}


def wire_fields(cls: type[Any]) -> tuple[WireField, ...]:
    """The wire description of every field of attrs class ``cls``, read from its metadata."""
    cached = _FIELDS_CACHE.get(cls)
    if cached is None:
        cached = _FIELDS_CACHE[cls] = _describe_fields(cls)
    return cached


def _describe_fields(cls: type[Any]) -> tuple[WireField, ...]:
    attrs.resolve_types(cls)
    described = []
    for field in attrs.fields(cls):
        wire_name, kind = field.metadata.get(WIRE, (None, WireKind.PLAIN))
        described.append(
            WireField(
                name=field.name,
                wire_name=wire_name or field.name,
                kind=kind,
                nullable=_is_optional(field.type),
                has_default=field.default is not attrs.NOTHING,
            )
        )
    return tuple(described)


def _wire_names(cls: type[Any]) -> dict[str, str]:
    if not attrs.has(cls):
        return {}
    return {field.name: field.wire_name for field in wire_fields(cls)}


# ---- hook factories ----


def _field_parser(field: WireField) -> Callable[[Any, Any], Any] | None:
    parser = _PARSERS.get(field.kind)
    if parser is None:
        return None

    def structure_field(value: Any, _: Any) -> Any:
        if value is None and field.nullable:
            return None
        return parser(value)

    return structure_field


def _field_formatter(cls: type[Any], field: WireField) -> Formatter | None:
    formatter = _FORMATTERS.get(field.kind)
    if formatter is None:
        return None
    label = f"{cls.__name__}.{field.name}"

    def unstructure_field(value: Any) -> Any:
        if value is None:
            return None
        try:
            return formatter(value)
        except (TypeError, ValueError) as exc:
            raise WireFormatError(f"{label}: {exc}") from None

    return unstructure_field


def _structure_attrs_factory(cls: type[Any], made: cattrs.Converter) -> Callable[[Any, Any], Any]:
    fields = wire_fields(cls)
    overrides = {f.name: override(rename=f.wire_name, struct_hook=_field_parser(f)) for f in fields}
    generated = make_dict_structure_fn(cls, made, **overrides)  # type: ignore[arg-type]
    null_means_default = frozenset(f.wire_name for f in fields if f.has_default)

    def structure(value: Any, _: Any) -> Any:
        if not isinstance(value, Mapping):
            raise TypeError(f"expected a JSON object for {cls.__name__}, got {_json_type(value)}")
        present = {
            key: item
            for key, item in value.items()
            if item is not None or key not in null_means_default
        }
        return generated(present, cls)

    return structure


def _unstructure_attrs_factory(
    cls: type[Any], made: cattrs.Converter
) -> Callable[[Any], dict[str, Any]]:
    overrides = {
        f.name: override(rename=f.wire_name, unstruct_hook=_field_formatter(cls, f))
        for f in wire_fields(cls)
    }
    generated = make_dict_unstructure_fn(cls, made, **overrides)  # type: ignore[arg-type]

    def unstructure(obj: Any) -> dict[str, Any]:
        return {key: value for key, value in generated(obj).items() if value is not None}

    return unstructure


def _structure_enum(value: Any, cls: type[enum.Enum]) -> Any:
    try:
        return cls(value)
    except ValueError:
        allowed = ", ".join(repr(member.value) for member in cls)
        raise ValueError(
            f"{_json_type(value)} is not a valid {cls.__name__}; expected one of {allowed}"
        ) from None


def _strict(json_type: type[Any], expected: str) -> Callable[[Any, Any], Any]:
    """A hook taking only values already of ``json_type`` (cattrs would coerce ``5`` to "5").

    cattrs dispatches subclasses of ``str``/``int`` here too, so enums are passed on.
    """

    def structure(value: Any, target: Any) -> Any:
        if target is not json_type and issubclass(target, enum.Enum):
            return _structure_enum(value, target)
        if isinstance(value, json_type) and (json_type is bool or not isinstance(value, bool)):
            return value
        raise TypeError(f"expected {expected}, got {_json_type(value)}")

    return structure


def _structure_float(value: Any, _: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a JSON number, got {_json_type(value)}")
    return float(value)


def _unstructure_text(value: str) -> str:
    return str(value.value) if isinstance(value, enum.Enum) else value


def _is_homogeneous_tuple(tp: Any) -> bool:
    args = get_args(tp)
    return get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis


def _structure_tuple_factory(tp: Any, made: cattrs.Converter) -> Callable[[Any, Any], Any]:
    elements = homogenous_tuple_structure_factory(tp, made)

    def structure(value: Any, _: Any) -> Any:
        # cattrs would turn any iterable into a tuple, a string into its characters.
        if not isinstance(value, list | tuple):
            raise TypeError(f"expected a JSON array, got {_json_type(value)}")
        return elements(value, tp)

    return structure


def _unstructure_tuple_factory(_: Any, made: cattrs.Converter) -> Callable[[Any], list[Any]]:
    return lambda items: [made.unstructure(item) for item in items]


def _make_converter() -> cattrs.Converter:
    made = cattrs.Converter(detailed_validation=True, forbid_extra_keys=False)
    made.register_structure_hook(str, _strict(str, "a JSON string"))
    made.register_structure_hook(bool, _strict(bool, "a JSON boolean"))
    made.register_structure_hook(int, _strict(int, "a JSON integer"))
    made.register_structure_hook(float, _structure_float)
    made.register_structure_hook(enum.Enum, _structure_enum)
    made.register_unstructure_hook(str, _unstructure_text)
    made.register_unstructure_hook(enum.Enum, lambda member: member.value)
    made.register_structure_hook_factory(_is_homogeneous_tuple, _structure_tuple_factory)
    made.register_unstructure_hook_factory(_is_homogeneous_tuple, _unstructure_tuple_factory)
    made.register_structure_hook_factory(attrs.has, _structure_attrs_factory)
    made.register_unstructure_hook_factory(attrs.has, _unstructure_attrs_factory)
    made.register_structure_hook(OrderBook, _structure_book_entry)
    made.register_unstructure_hook(OrderBook, _unstructure_book_entry)
    return made


# ---- the order book ----


def _book_levels(side: str, raw: Any) -> tuple[PriceLevel, ...]:
    if raw is None:  # the exchange leaves out (or nulls) an empty side
        return ()
    if not isinstance(raw, list):
        raise _PathError(side, f"expected a JSON array of levels, got {_json_type(raw)}")
    levels = []
    for index, level in enumerate(raw):
        where = f"{side}[{index}]"
        if not isinstance(level, list) or len(level) != 2:
            raise _PathError(where, f"expected [price, count], got {_json_type(level)}")
        try:
            price = parse_wire_dollars(level[0])
        except (TypeError, ValueError) as exc:
            raise _PathError(f"{where}[0]", str(exc)) from None
        try:
            count = parse_wire_count(level[1])
        except (TypeError, ValueError) as exc:
            raise _PathError(f"{where}[1]", str(exc)) from None
        levels.append(_possible_level(where, price, count))
    return _distinct_prices(side, sorted(levels, key=lambda lvl: lvl.price))


def _possible_level(where: str, price: Price, count: Count) -> PriceLevel:
    """A resting bid is strictly between $0 and $1 and holds at least one contract's unit."""
    if not 0 < price < DOLLAR:
        raise _PathError(f"{where}[0]", f"price {format_dollars(price)} is not between $0 and $1")
    if count <= 0:
        raise _PathError(f"{where}[1]", f"count {format_count(count)} is not positive")
    return PriceLevel(price, count)


def _distinct_prices(side: str, levels: list[PriceLevel]) -> tuple[PriceLevel, ...]:
    """Levels sorted by price, refused when two share a price (a book has one level a price)."""
    for lower, upper in itertools.pairwise(levels):
        if lower.price == upper.price:
            raise _PathError(side, f"two levels at {format_dollars(lower.price)}")
    return tuple(levels)


def _book_from_mapping(ticker: str, data: Any) -> OrderBook:
    if not isinstance(data, Mapping):
        raise TypeError(f"expected a JSON object with {_BOOK_KEY!r}, got {_json_type(data)}")
    if _BOOK_KEY not in data:
        raise _PathError(_BOOK_KEY, "required field missing")
    sides = data[_BOOK_KEY]
    if not isinstance(sides, Mapping):
        raise _PathError(_BOOK_KEY, f"expected a JSON object, got {_json_type(sides)}")
    try:
        yes, no = (_book_levels(side, sides.get(side)) for side in _BOOK_SIDES)
    except _PathError as exc:
        raise _PathError(f"{_BOOK_KEY}.{exc.path}", exc.problem) from None
    return OrderBook(ticker=ticker, yes=yes, no=no)


def _structure_book_entry(data: Any, _: Any) -> OrderBook:
    """``{"ticker": ..., "orderbook_fp": {...}}``, as ``GET /markets/orderbooks`` lists them."""
    if not isinstance(data, Mapping):
        raise TypeError(f"expected a JSON object for OrderBook, got {_json_type(data)}")
    ticker = data.get("ticker")
    if not isinstance(ticker, str):
        raise _PathError("ticker", f"expected a JSON string, got {_json_type(ticker)}")
    return _book_from_mapping(ticker, data)


def _level_pairs(levels: tuple[PriceLevel, ...]) -> list[list[str]]:
    return [[_format_money(level.price), _format_count(level.count)] for level in levels]


def orderbook_to_wire(book: OrderBook) -> dict[str, Any]:
    """``OrderBook`` -> ``{"orderbook_fp": {"yes_dollars": [...], "no_dollars": [...]}}``."""
    try:
        return {
            _BOOK_KEY: {"yes_dollars": _level_pairs(book.yes), "no_dollars": _level_pairs(book.no)}
        }
    except (TypeError, ValueError) as exc:
        raise WireFormatError(f"OrderBook {book.ticker}: {exc}") from None


def _unstructure_book_entry(book: OrderBook) -> dict[str, Any]:
    return {"ticker": book.ticker, **orderbook_to_wire(book)}


def orderbook_from_wire(ticker: str, data: Any, *, where: str = "orderbook") -> OrderBook:
    """The body of ``GET /markets/{ticker}/orderbook`` -> ``OrderBook``, levels ascending."""
    try:
        return _book_from_mapping(ticker, data)
    except Exception as exc:
        raise WireFormatError(_message(where, exc, "")) from exc


# ---- errors ----


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _describe(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return "required field missing"
    text = str(exc)
    return text if text else type(exc).__name__


def _problems(exc: BaseException, path: str) -> Iterator[tuple[str, str]]:
    """Walk cattrs' detailed-validation exception groups, naming fields by their wire names."""
    if isinstance(exc, ClassValidationError):
        names = _wire_names(exc.cl)
        with_notes, without = exc.group_exceptions()
        for sub, note in with_notes:
            yield from _problems(sub, _join(path, names.get(note.name, note.name)))
    elif isinstance(exc, IterableValidationError):
        items, without = exc.group_exceptions()
        for sub, item in items:
            yield from _problems(sub, f"{path}[{item.index}]")
    elif isinstance(exc, _PathError):
        yield _join(path, exc.path), exc.problem
        return
    else:
        yield path, _describe(exc)
        return
    for sub in without:
        yield from _problems(sub, path)


def _message(where: str, exc: BaseException, root: str) -> str:
    found = [f"{path}: {problem}" if path else problem for path, problem in _problems(exc, root)]
    shown = "; ".join(found[:_MAX_PROBLEMS])
    more = f"; and {len(found) - _MAX_PROBLEMS} more" if len(found) > _MAX_PROBLEMS else ""
    return f"{where}: {shown}{more}"


# ---- the compiled fast path ----
#
# cattrs with detailed validation spends most of a listing's time in bookkeeping that only an
# error needs. Each attrs class therefore also gets a plain function, generated once, that
# reads a valid object in one pass; it raises (anything) as soon as the input is not exactly
# what it expects, and :func:`from_wire` then runs the cattrs path on the same data, which
# either explains the error or, for a rare valid form the fast path leaves to it, returns the
# object. The fast path may only be narrower than cattrs, never wider: the property tests in
# tests/test_wire_fast.py hold both to the same answers.


class _Fallback(Exception):
    """The fast path does not take this input; the cattrs path decides."""


_MISSING: Any = object()
_HASH_CACHE = "_attrs_cached_hash"  # the slot attrs adds for cache_hash=True
_OBJECT_NEW: Any = object.__new__
Structurer = Callable[[Any], Any]
_COMPILED: dict[type[Any], Structurer] = {}


def fast_structurer(cls: type[Any]) -> Structurer:
    """The generated one-pass reader of attrs class ``cls`` (built on first use)."""
    compiled = _COMPILED.get(cls)
    if compiled is None:
        # The order book is not an attrs object on the wire: its own hand-written reader.
        made = (lambda value: _structure_book_entry(value, cls)) if cls is OrderBook else None
        compiled = _COMPILED[cls] = made or _compile(cls)
    return compiled


def _reject(value: Any) -> Any:
    raise _Fallback


def _exact(json_type: type[Any]) -> Parser:
    def take(value: Any) -> Any:
        if type(value) is not json_type:
            raise _Fallback
        return value

    return take


def _to_float(value: Any) -> float:
    if type(value) is float:
        return value
    if type(value) is int:
        return float(value)
    raise _Fallback


def _enum_reader(cls: type[enum.Enum]) -> Parser:
    members = cls._value2member_map_

    def read(value: Any) -> Any:
        return members[value]  # a miss (KeyError, TypeError) leaves it to cattrs

    return read


def _tuple_reader(element: Parser) -> Parser:
    def read(value: Any) -> tuple[Any, ...]:
        if type(value) is not list:
            raise _Fallback
        return tuple([element(item) for item in value])

    return read


def _is_string_record(cls: type[Any]) -> bool:
    """An attrs class whose every field is read from a JSON string (a price grid's range)."""
    return attrs.has(cls) and all(field.kind in _MEMOS for field in wire_fields(cls))


def _tuple_type_reader(element: Any) -> Parser:
    if _is_string_record(element):
        return _records_reader(element)
    return _tuple_reader(_type_reader(element))


def _records_reader(cls: type[Any]) -> Parser:
    """A short array of string records, remembered by its field values: a listing repeats a
    few price grids, and each read made 3 objects. Equal keys give the same answer: each field
    takes only a string (which equals no other JSON value), null and missing read alike, and
    ``dict.get`` refuses anything but an object."""
    names = tuple(field.wire_name for field in wire_fields(cls))
    read_all = _tuple_reader(_nested_reader(cls))
    seen: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    get = dict.get

    def read(value: Any) -> Any:
        if type(value) is not list or len(value) > _RECORDS_REMEMBERED:
            return read_all(value)
        key = tuple([tuple(map(get, itertools.repeat(item), names)) for item in value])
        found = seen.get(key)
        return _remember(seen, key, read_all(value)) if found is None else found

    return read


def _nested_reader(cls: type[Any]) -> Parser:
    def read(value: Any) -> Any:
        return fast_structurer(cls)(value)  # looked up late: a class may contain itself

    return read


def _type_reader(tp: Any) -> Parser:
    """A strict reader of one plain (non-``WIRE``) field type; unknown types go to cattrs."""
    simple: dict[Any, Parser] = {str: _exact(str), int: _exact(int), bool: _exact(bool)}
    if tp in simple:
        return simple[tp]
    if tp is float:
        return _to_float
    if _is_enum(tp):
        return _enum_reader(tp)
    if attrs.has(tp):
        return _nested_reader(tp)
    if _is_homogeneous_tuple(tp):
        return _tuple_type_reader(get_args(tp)[0])
    hook = converter.get_structure_hook(tp)
    return lambda value: hook(value, tp)


def _non_null(tp: Any) -> Any:
    """``X | None`` -> ``X``; anything else unchanged."""
    if not _is_optional(tp):
        return tp
    rest = [arg for arg in get_args(tp) if arg is not type(None)]
    return rest[0] if len(rest) == 1 else Union[tuple(rest)]  # noqa: UP007


def _field_reader(field: WireField, plain_type: Any) -> Parser:
    if field.kind is WireKind.TIME:
        return _new_time  # called on a memo miss only: see _read_source
    parser = _PARSERS.get(field.kind)
    return parser if parser is not None else _type_reader(plain_type)


_REQUIRED = """    value = data.get({wire!r}, _MISSING)
    if value is _MISSING or value is None:
        raise _Fallback
"""
_OPTIONAL = """    value = data.get({wire!r})
    if value is not None:
"""
_MEMOS: dict[WireKind, dict[str, Any]] = {
    WireKind.DOLLARS: _DOLLARS_SEEN,
    WireKind.COUNT: _COUNTS_SEEN,
    WireKind.TIME: _TIMES_SEEN,
}


def _read_source(field: WireField, plain_type: Any, index: int, pad: str) -> str:
    """The lines that read ``value`` into local ``v_<index>``: inline for JSON scalars, enums
    and memoized strings, a call otherwise."""
    target = f"{pad}v_{index}"
    if field.kind in _MEMOS:  # seen before: no call (an unhashable value raises)
        return (
            f"{pad}seen = seen_{index}.get(value)\n"
            f"{target} = read_{index}(value) if seen is None else seen\n"
        )
    if field.kind is WireKind.PLAIN and plain_type in (str, int, bool):
        check = f"{pad}if type(value) is not {plain_type.__name__}:\n{pad}    raise _Fallback\n"
        return f"{check}{target} = value\n"
    if field.kind is WireKind.PLAIN and _is_enum(plain_type):
        return f"{target} = members_{index}[value]\n"
    return f"{target} = read_{index}(value)\n"


def _is_enum(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, enum.Enum)


def _field_source(field: WireField, attribute: Any, plain_type: Any, index: int) -> str:
    pad = " " * (8 if field.has_default else 4)
    head = (_OPTIONAL if field.has_default else _REQUIRED).format(wire=field.wire_name)
    return _default_source(attribute, index) + head + _read_source(field, plain_type, index, pad)


def _default_source(attribute: Any, index: int) -> str:
    """An absent or null optional field starts as attrs would fill it: its default, or a
    fresh product of its factory."""
    if attribute.default is attrs.NOTHING:
        return ""
    made = "()" if isinstance(attribute.default, attrs.Factory) else ""  # type: ignore[arg-type]
    return f"    v_{index} = default_{index}{made}\n"


def _default_value(attribute: Any) -> Any:
    default = attribute.default
    return default.factory if isinstance(default, attrs.Factory) else default  # type: ignore[arg-type]


def _compilable(attributes: Any) -> bool:
    """Every field can be passed by keyword and its default made without the instance."""
    return all(
        attribute.init
        and not (isinstance(attribute.default, attrs.Factory) and attribute.default.takes_self)  # type: ignore[arg-type]
        for attribute in attributes
    )


def _construction_source(cls: type[Any], attributes: Any, namespace: dict[str, Any]) -> str:
    """The lines that make the object from the locals: the class called by keyword or, when
    attrs' own ``__init__`` would only store each value, its slots filled directly (matching
    a market's 45 keyword arguments was a third of reading it)."""
    if not _stores_only(cls, attributes):
        arguments = ", ".join(f"{attribute.alias}=v_{i}" for i, attribute in enumerate(attributes))
        return f"    return _cls({arguments})"
    namespace["_new"] = _OBJECT_NEW
    twin = namespace["_twin"] = _slots_twin(cls)
    if twin is None:  # each slot's own setter: what attrs' frozen __init__ does, without it
        lines = ["    made = _new(_cls)"]
        for index, attribute in enumerate(attributes):
            namespace[f"put_{index}"] = getattr(cls, attribute.name).__set__
            lines.append(f"    put_{index}(made, v_{index})")
    else:  # plain stores into the twin (a frozen class refuses them), then the class
        lines = ["    made = _new(_twin)"]
        lines.extend(f"    made.{attribute.name} = v_{i}" for i, attribute in enumerate(attributes))
        lines.append("    made.__class__ = _cls")
    lines.append("    return made")
    return "\n".join(lines)


def _slots_twin(cls: type[Any]) -> type[Any] | None:
    """A plain class with exactly ``cls``'s slots, or None. CPython lets an object change its
    ``__class__`` between two such classes (the same memory layout), so a twin instance whose
    slots were filled by ordinary stores becomes a ``cls`` instance, as if attrs had made it."""
    slots = cls.__dict__.get("__slots__")
    if cls.__bases__ != (object,) or not isinstance(slots, tuple):
        return None
    twin = type(f"{cls.__name__}Slots", (), {"__slots__": slots, "__module__": __name__})
    try:
        _OBJECT_NEW(twin).__class__ = cls
    except TypeError:  # a layout CPython does not call the same (3.11 with a weakref slot)
        return None
    return twin


def _stores_only(cls: type[Any], attributes: Any) -> bool:
    """attrs generated ``__init__`` and it does nothing but store each argument in its slot:
    no validator, converter, pre- or post-init hook, cached hash or ``__new__`` of its own.
    Anything else keeps the call, as does any attrs that names its code otherwise."""
    init = getattr(cls.__init__, "__code__", None)
    hooks = ("__attrs_pre_init__", "__attrs_post_init__")
    return (
        init is not None
        and init.co_filename.startswith("<attrs generated")
        and cls.__new__ is _OBJECT_NEW
        and not any(hasattr(cls, hook) for hook in hooks)
        and _HASH_CACHE not in getattr(cls, "__slots__", ())
        and all(_plain_slot(cls, attribute) for attribute in attributes)
    )


def _plain_slot(cls: type[Any], attribute: Any) -> bool:
    slot = getattr(cls, attribute.name, None)
    plain = attribute.validator is None and attribute.converter is None
    return plain and isinstance(slot, types.MemberDescriptorType)


def _compile(cls: type[Any]) -> Structurer:
    """Generate ``structure_<cls>(data)``: one straight pass over the fields into locals, no
    loops, then the object made from the locals."""
    fields = wire_fields(cls)
    attributes = attrs.fields(cls)
    if not _compilable(attributes):
        return _reject  # the cattrs path only
    namespace: dict[str, Any] = {"_cls": cls, "_Fallback": _Fallback, "_MISSING": _MISSING}
    lines = [f"def structure_{cls.__name__}(data):", "    if type(data) is not dict:"]
    lines.append("        raise _Fallback")
    for index, (field, attribute) in enumerate(zip(fields, attributes, strict=True)):
        plain_type = _non_null(attribute.type)
        namespace[f"read_{index}"] = _field_reader(field, plain_type)
        namespace[f"seen_{index}"] = _MEMOS.get(field.kind)
        namespace[f"default_{index}"] = _default_value(attribute)
        if _is_enum(plain_type):
            namespace[f"members_{index}"] = plain_type._value2member_map_
        lines.append(_field_source(field, attribute, plain_type, index))
    lines.append(_construction_source(cls, attributes, namespace))
    exec(compile("\n".join(lines), f"<wire structure {cls.__qualname__}>", "exec"), namespace)  # noqa: S102
    structure: Structurer = namespace[f"structure_{cls.__name__}"]
    return structure


# ---- public API ----

converter: cattrs.Converter = _make_converter()


def from_wire(data: Any, cls: type[T], *, where: str) -> T:
    """Decoded JSON -> ``cls``; any problem raises ``WireFormatError`` naming ``where`` and
    the wire path of each bad field."""
    if attrs.has(cls):
        try:
            fast: T = fast_structurer(cls)(data)
            return fast
        except Exception:  # noqa: S110 - the cattrs path below explains it
            pass
    try:
        return converter.structure(data, cls)
    except Exception as exc:
        raise WireFormatError(_message(where, exc, "")) from exc


def many_from_wire(items: Any, cls: type[T], *, where: str, key: str) -> list[T]:
    """A list of ``cls`` from a response envelope (``{"markets": [...], "cursor": ""}``) or from
    the list itself; errors name ``key`` and the index (``markets[3].yes_bid_dollars``)."""
    if isinstance(items, Mapping):
        if key not in items:
            raise WireFormatError(f"{where}: {key}: required field missing")
        items = items[key]
    if not isinstance(items, list | tuple):
        raise WireFormatError(f"{where}: {key}: expected a JSON array, got {_json_type(items)}")
    if attrs.has(cls):
        try:
            structure = fast_structurer(cls)
            return [structure(item) for item in items]
        except Exception:  # noqa: S110 - the cattrs path below explains it
            pass
    try:
        return converter.structure(items, list[cls])  # type: ignore[valid-type]
    except Exception as exc:
        raise WireFormatError(_message(where, exc, key)) from exc


def to_wire(obj: Any) -> dict[str, Any]:
    """An attrs model -> a JSON-ready dict with wire names and wire formats."""
    if not attrs.has(type(obj)):
        raise WireFormatError(f"to_wire needs an attrs model, got {type(obj).__name__}")
    try:
        result: dict[str, Any] = converter.unstructure(obj)
    except WireFormatError:
        raise
    except (TypeError, ValueError) as exc:
        raise WireFormatError(f"{type(obj).__name__}: {exc}") from None
    return result

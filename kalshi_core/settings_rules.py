"""Declarative rules for settings keys: type, range, allowed values.

Plugins hand these to ``register_settings``; :mod:`kalshi_core.settings` checks every rule at
start-up and reports a bad value with its key, the value, what is allowed and which layer
(default, environment section, .secrets.toml, a ``KALSHI_`` variable, ``--settings`` file)
set it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from typing import Any

import attrs

_TYPE_WORDS = {
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "a list",
    bool: "true or false",
    dict: "a table",
}


def _type_words(types: tuple[type, ...]) -> str:
    if set(types) == {int, float}:
        return "a number"
    return " or ".join(_TYPE_WORDS.get(t, t.__name__) for t in types)


@attrs.frozen(kw_only=True)
class Rule:
    """One settings key's contract.

    ``key`` is the dotted path (``risk.max_position_pct``). ``types`` the accepted Python
    types after Dynaconf parsing (``int`` also accepts ``bool``? no: booleans are rejected for
    numbers). ``minimum``/``maximum`` bound numbers (``exclusive_minimum`` for "above 0"),
    ``choices`` enumerates allowed values, ``secret`` masks the value in ``config show``.
    """

    key: str
    types: tuple[type, ...]
    description: str = ""
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    choices: Collection[Any] | None = None
    required: bool = True
    secret: bool = False
    each_choice: Collection[Any] | None = None  # for lists: every item must be one of these
    # a check of the value's content (a table's entries): None when fine, else what is wrong
    check: Callable[[Any], str | None] | None = None

    def allowed(self) -> str:
        """Human wording of what is allowed, for error messages and ``config show``."""
        parts = [_type_words(self.types)]
        if self.choices is not None:
            parts.append("that is one of " + ", ".join(repr(c) for c in self.choices))
        if self.each_choice is not None:
            parts.append("of items from " + ", ".join(repr(c) for c in self.each_choice))
        parts.extend(self._range_words())
        text = " ".join(parts)
        return f"{text} ({self.description})" if self.description else text

    def _range_words(self) -> list[str]:
        words = []
        if self.minimum is not None:
            words.append(f"{'above' if self.exclusive_minimum else 'at least'} {self.minimum:g}")
        if self.maximum is not None:
            words.append(f"at most {self.maximum:g}")
        return [" and ".join(words)] if words else []

    def problem(self, value: Any) -> str | None:
        """``None`` when ``value`` is acceptable, else a short description of what is wrong."""
        if value is None:
            return "is required" if self.required else None
        if isinstance(value, bool) and bool not in self.types:
            return "has the wrong type bool"
        if not isinstance(value, self.types):
            return self._type_problem(value)
        if self.choices is not None and value not in self.choices:
            return "is not an allowed value"
        if self.each_choice is not None and not self._all_allowed(value):
            return "contains a value that is not allowed"
        return self._content_problem(value)

    def _content_problem(self, value: Any) -> str | None:
        if self.check is not None:
            return self.check(value)
        return self._range_problem(value)

    def _type_problem(self, value: Any) -> str:
        if list in self.types and isinstance(value, str):
            return f"is a string, not a list (write [{value!r}])"
        return f"has the wrong type {type(value).__name__}"

    def _all_allowed(self, items: Any) -> bool:
        allowed = self.each_choice or ()
        return all(item in allowed for item in items)

    def _range_problem(self, value: Any) -> str | None:
        if not isinstance(value, int | float) or isinstance(value, bool):
            return None
        if not math.isfinite(value):  # nan compares false with every bound
            return "is not a finite number"
        if self.minimum is not None:
            too_low = value <= self.minimum if self.exclusive_minimum else value < self.minimum
            if too_low:
                return "is out of range"
        if self.maximum is not None and value > self.maximum:
            return "is out of range"
        return None

"""Bounded label values: a metric's label set must never grow without limit.

Per-market (ticker) and plugin-named labels pass through a :class:`LabelCap`: the first
``limit`` distinct values keep their name, every later one is reported as ``other``.
"""

from __future__ import annotations

OTHER = "other"


class LabelCap:
    """Admits at most ``limit`` distinct label values; the rest become :data:`OTHER`."""

    def __init__(self, limit: int) -> None:
        if limit < 0:
            raise ValueError(f"a label cap must be 0 or more, got {limit}")
        self.limit = limit
        self._seen: set[str] = set()

    def __call__(self, value: str) -> str:
        if value in self._seen:
            return value
        if len(self._seen) >= self.limit:
            return OTHER
        self._seen.add(value)
        return value

    @property
    def admitted(self) -> frozenset[str]:
        return frozenset(self._seen)

"""pytest plugin shipped with kalshi-core: fixtures for plugin authors (entry point ``pytest11``)."""

from __future__ import annotations

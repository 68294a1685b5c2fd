"""kalshi-core: a plugin-based framework for AI-assisted trading on Kalshi."""

__version__ = "0.1.0"

# Plugins mark their hook implementations with ``@kalshi_core.hookimpl``.
from kalshi_core.hookspecs import hookimpl

__all__ = ["__version__", "hookimpl"]

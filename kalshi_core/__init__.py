"""kalshi-core: a plugin-based framework for AI-assisted trading on Kalshi."""

__version__ = "0.1.0"

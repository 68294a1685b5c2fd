"""An example kalshi-core plugin: one strategy, one validator."""

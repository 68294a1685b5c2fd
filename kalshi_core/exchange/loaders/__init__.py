"""History loaders: each reads one kind of data set folder (see docs/data.md).

The protocol and the dispatch live in :mod:`kalshi_core.exchange.loaders.base`; the built-in
loaders in the sibling modules are registered through the ``register_history_loaders`` hook
(:mod:`kalshi_core.builtin.history_loaders`).
"""

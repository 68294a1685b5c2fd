"""The web dashboard: the bot's state, its backtests, and its graded controls (docs/dashboard.md).

``kalshi-core dashboard`` serves it over the database alone; ``kalshi-core run`` serves it with
the running engine attached when ``dashboard.enabled`` is set. This package imports nothing
itself (the settings rules are read without loading the web stack): import the submodules.
"""

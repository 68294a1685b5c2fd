"""Backtesting: the trading engine on the ``simulated`` venue over recorded history.

A backtest is a run like any other (same engine, strategies, validators, forecasters, risk), on
the in-process venue and its stepped clock; see docs/backtesting.md.
"""

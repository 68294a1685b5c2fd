"""The trading engine's pure decision logic: sizing, edge, the portfolio step and risk."""

"""The volatility-targeted trend portfolio: settings, signals, target weights, rebalancing.

Data flows one way: closed daily candles → :mod:`.signals` (trend score, trailing volatility,
regime) → :mod:`.weights` (per-pair raw weight, then the portfolio's caps and volatility
target) → :mod:`.rebalance` (the order that brings a position back inside its band). The
strategy (``strategies/SwingPortfolioStrategy.py``), the research simulation
(:mod:`.simulation`) and the tests call these same functions.
"""

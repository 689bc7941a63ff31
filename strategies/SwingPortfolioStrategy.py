"""Volatility-targeted trend portfolio over the whitelist (docs/portfolio.md).

Run with ``-c config/base.json -c config/portfolio.json --freqaimodel SwingPortfolioModel``;
add ``-c config/portfolio-no-ml.json`` for the core without any model. The logic lives in
:mod:`freqai_swing.portfolio`; this file only names the class for Freqtrade's resolver.
"""

from freqai_swing.portfolio.strategy import PortfolioStrategyBase


class SwingPortfolioStrategy(PortfolioStrategyBase):
    """Trend score × volatility budget × regime gate, rebalanced inside a ±25 % band."""

"""FreqAI model of the portfolio's ML parts (``--freqaimodel SwingPortfolioModel``)."""

from freqai_swing.portfolio.model import PortfolioModelBase


class SwingPortfolioModel(PortfolioModelBase):
    """Volatility forecast (HAR or LightGBM) and calibrated meta-label probability."""

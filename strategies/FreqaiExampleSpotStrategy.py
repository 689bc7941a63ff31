"""FreqAI's own ``FreqaiExampleStrategy``, changed only where spot on 1h requires it: no short
side. Run it with ``--freqaimodel LightGBMRegressor`` and ``config/freqai-example.json``; it is
the reference the bundle's models are compared with."""

from freqtrade.templates.FreqaiExampleStrategy import FreqaiExampleStrategy


class FreqaiExampleSpotStrategy(FreqaiExampleStrategy):
    """Long side of the example, unchanged."""

    can_short = False

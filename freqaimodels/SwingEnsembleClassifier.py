"""FreqAI classifier: XGBoost + LightGBM stacked out of fold (``--freqaimodel
SwingEnsembleClassifier``)."""

from freqai_swing.models.freqai_classifier import SwingEnsembleModel


class SwingEnsembleClassifier(SwingEnsembleModel):
    """Members, folds and calibration come from ``swing.ensemble``; see
    ``freqai_swing.models.ensemble``."""

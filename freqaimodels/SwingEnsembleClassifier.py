"""FreqAI classifier: XGBoost + LightGBM stacked out of fold (``--freqaimodel
SwingEnsembleClassifier``)."""

from freqai_swing.models.ensemble.freqai_model import EnsembleFreqaiModel


class SwingEnsembleClassifier(EnsembleFreqaiModel):
    """Members, folds and calibration come from ``swing.ensemble``; see
    ``freqai_swing.models.ensemble.stacked``."""

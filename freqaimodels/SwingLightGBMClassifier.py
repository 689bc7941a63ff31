"""FreqAI classifier: LightGBM on the swing labels (``--freqaimodel SwingLightGBMClassifier``)."""

from freqai_swing.models.boosting import train_lightgbm
from freqai_swing.models.freqai_classifier import SwingBoostingClassifier


class SwingLightGBMClassifier(SwingBoostingClassifier):
    """LightGBM ``multiclass`` with settings equivalent to the XGBoost model's."""

    booster_name = "lightgbm"
    trainer = staticmethod(train_lightgbm)

"""FreqAI classifier: LightGBM on the swing labels (``--freqaimodel SwingLightGBMClassifier``)."""

from freqai_swing.models.boosting.cores import train_lightgbm
from freqai_swing.models.common.freqai_classifier import ClassifierFreqaiModel


class SwingLightGBMClassifier(ClassifierFreqaiModel):
    """LightGBM ``multiclass`` with settings equivalent to the XGBoost model's."""

    booster_name = "lightgbm"
    trainer = staticmethod(train_lightgbm)

"""FreqAI classifier: XGBoost on the swing labels (``--freqaimodel SwingXGBoostClassifier``)."""

from freqai_swing.models.boosting.cores import train_xgboost
from freqai_swing.models.common.freqai_classifier import ClassifierFreqaiModel


class SwingXGBoostClassifier(ClassifierFreqaiModel):
    """XGBoost ``multi:softprob`` with the seed's settings; see ``freqai_swing.models``."""

    booster_name = "xgboost"
    trainer = staticmethod(train_xgboost)

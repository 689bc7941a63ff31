"""FreqAI classifier: XGBoost on the swing labels (``--freqaimodel SwingXGBoostClassifier``)."""

from freqai_swing.models.boosting import train_xgboost
from freqai_swing.models.freqai_classifier import SwingBoostingClassifier


class SwingXGBoostClassifier(SwingBoostingClassifier):
    """XGBoost ``multi:softprob`` with the seed's settings; see ``freqai_swing.models``."""

    booster_name = "xgboost"
    trainer = staticmethod(train_xgboost)

"""Stacking: the members' out-of-fold probabilities and the weights that mix them.

Each member is trained once per purged fold (:func:`~freqai_swing.models.common.classifier.
purged_folds`) and predicts only that fold's rows, so the weights are fitted on no row a member
was trained on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.optimize import minimize

from freqai_swing.labels import CLASS_ORDER
from freqai_swing.metrics import PROBABILITY_FLOOR
from freqai_swing.models.boosting.cores import train_lightgbm, train_xgboost
from freqai_swing.models.common.classifier import (
    ClassifierCore,
    FloatMatrix,
    PurgedSplit,
    TrainingSet,
)
from freqai_swing.settings import ModelSettings

logger = logging.getLogger(__name__)

#: A fold whose training rows are fewer than this is skipped (its rows get no vote).
MIN_FOLD_TRAINING_ROWS: Final = 200
#: The empty early-stopping split of a fold's member (its rounds are fixed).
NO_ROWS: Final = np.array([], dtype=np.int64)


class FoldMember(Protocol):
    """What a member trained on one fold is asked: its probabilities for the fold's rows."""

    def predict_proba(self, features: pd.DataFrame | FloatMatrix) -> FloatMatrix: ...


#: Trains one member on ``TrainingSet.split.fit_rows`` with the given parameters.
FoldTrainer = Callable[[TrainingSet, dict[str, Any], ModelSettings], FoldMember]
Trainer = Callable[[TrainingSet, dict[str, Any], ModelSettings], ClassifierCore]
#: The booster trainers by member name (the ``ppo`` member is trained on its own).
TRAINERS: Final[dict[str, Trainer]] = {"xgboost": train_xgboost, "lightgbm": train_lightgbm}


def nonnegative_weights(
    member_probabilities: Sequence[FloatMatrix], labels: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """Weights ≥ 0 summing to 1 that minimise the log loss of the weighted probabilities.

    The loss is convex in the weights (a mix's true-class probability is linear in them), so
    the optimum is unique up to ties and the solver needs no restarts.
    """
    rows = np.arange(len(labels))
    picked = np.stack([p[rows, labels] for p in member_probabilities])  # members × rows
    count = len(member_probabilities)

    def loss(weights: npt.NDArray[np.float64]) -> tuple[float, npt.NDArray[np.float64]]:
        mixed = np.clip(weights @ picked, PROBABILITY_FLOOR, None)
        return float(-np.log(mixed).mean()), -(picked / mixed).mean(axis=1)

    result = minimize(
        loss,
        np.full(count, 1.0 / count),
        jac=True,
        method="SLSQP",
        bounds=[(0.0, 1.0)] * count,
        constraints=({"type": "eq", "fun": lambda w: w.sum() - 1.0},),
    )
    weights = np.clip(result.x, 0.0, None)
    normalised: npt.NDArray[np.float64] = weights / weights.sum()
    return normalised


def out_of_fold_probabilities(
    trainer: FoldTrainer,
    data: TrainingSet,
    folds: Sequence[PurgedSplit],
    parameters: Mapping[str, Any],
    settings: ModelSettings,
) -> FloatMatrix:
    """Each fold's rows predicted by the member trained on that fold's purged training rows.

    The rounds are fixed by ``parameters`` (no early stopping on the fold itself, which would
    tune the member on the rows it then predicts). Rows of a skipped fold stay NaN.
    """
    result = np.full((len(data.labels), len(CLASS_ORDER)), np.nan)
    for fold in folds:
        if len(fold.fit_rows) < MIN_FOLD_TRAINING_ROWS:
            logger.info("Ensemble fold skipped: %d training rows.", len(fold.fit_rows))
            continue
        fold_data = TrainingSet(
            data.features, data.labels, data.weights, PurgedSplit(fold.fit_rows, NO_ROWS)
        )
        member = trainer(fold_data, dict(parameters), settings)
        rows = fold.validation_rows
        result[rows] = member.predict_proba(data.features.iloc[rows])
    return result

"""Scores of class probabilities against realised triple-barrier labels.

Shared by the ensemble (its out-of-fold weights and calibration) and the evaluations, so every
report scores the same way.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from freqai_swing.labels import CLASS_ORDER

#: Floor of any probability that enters a logarithm.
PROBABILITY_FLOOR: Final = 1e-6
FloatMatrix = npt.NDArray[np.float64]


def log_loss(probabilities: FloatMatrix, labels: npt.NDArray[np.int64]) -> float:
    """Mean negative log-probability of the true class (nats per row)."""
    picked = probabilities[np.arange(len(labels)), labels]
    return float(-np.log(np.clip(picked, PROBABILITY_FLOOR, 1.0)).mean())


def brier_score(probabilities: FloatMatrix, labels: npt.NDArray[np.int64]) -> float:
    """Mean squared distance to the one-hot truth, summed over classes."""
    truth = np.eye(len(CLASS_ORDER))[labels]
    return float(((probabilities - truth) ** 2).sum(axis=1).mean())


def balanced_accuracy(probabilities: FloatMatrix, labels: npt.NDArray[np.int64]) -> float:
    """Mean recall over the classes present (chance = 1 / number of classes)."""
    predicted = probabilities.argmax(axis=1)
    recalls = [(predicted[labels == k] == k).mean() for k in np.unique(labels)]
    return float(np.mean(recalls))


def classification_metrics(
    probabilities: FloatMatrix, labels: npt.NDArray[np.int64]
) -> dict[str, float]:
    return {
        "log_loss": log_loss(probabilities, labels),
        "brier": brier_score(probabilities, labels),
        "balanced_accuracy": balanced_accuracy(probabilities, labels),
    }

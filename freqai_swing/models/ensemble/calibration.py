"""Calibration of the ensemble's mixed probabilities, fitted on out-of-fold rows only.

The calibrators are pickled inside a saved :class:`~freqai_swing.models.ensemble.stacked.
SwingEnsemble` (FreqAI's model file), by this module's path.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize
from sklearn.isotonic import IsotonicRegression

from freqai_swing.labels import CLASS_ORDER
from freqai_swing.metrics import PROBABILITY_FLOOR, log_loss
from freqai_swing.models.common.classifier import FloatMatrix

FloatVector = npt.NDArray[np.float64]


class Calibrator(Protocol):
    def transform(self, probabilities: FloatMatrix) -> FloatMatrix: ...


class IdentityCalibration:
    """No calibration (``calibration: none``)."""

    def transform(self, probabilities: FloatMatrix) -> FloatMatrix:
        return probabilities


class SigmoidCalibration:
    """Multiclass Platt scaling: a softmax over ``scale_k · log p_k + shift_k``.

    Six parameters, fitted by log loss with a light pull towards the identity, so a few
    thousand out-of-fold rows pin them down without the overfitting isotonic steps risk.
    """

    def __init__(self, scale: FloatVector, shift: FloatVector) -> None:
        self.scale = scale
        self.shift = shift

    @staticmethod
    def _apply(
        log_probabilities: FloatMatrix, scale: FloatVector, shift: FloatVector
    ) -> FloatMatrix:
        logits = log_probabilities * scale + shift
        logits -= logits.max(axis=1, keepdims=True)
        exponent = np.exp(logits)
        softmax: FloatMatrix = exponent / exponent.sum(axis=1, keepdims=True)
        return softmax

    @classmethod
    def fit(
        cls, probabilities: FloatMatrix, labels: npt.NDArray[np.int64], ridge: float = 1e-3
    ) -> SigmoidCalibration:
        classes = len(CLASS_ORDER)
        log_p = np.log(np.clip(probabilities, PROBABILITY_FLOOR, 1.0))
        truth = np.eye(classes)[labels]
        identity = np.concatenate([np.ones(classes), np.zeros(classes)])

        def loss(params: npt.NDArray[np.float64]) -> tuple[float, npt.NDArray[np.float64]]:
            scale, shift = params[:classes], params[classes:]
            calibrated = cls._apply(log_p, scale, shift)
            value = log_loss(calibrated, labels) + ridge * ((params - identity) ** 2).sum()
            residual = (calibrated - truth) / len(labels)
            gradient = np.concatenate([(residual * log_p).sum(axis=0), residual.sum(axis=0)])
            return value, gradient + 2 * ridge * (params - identity)

        result = minimize(loss, identity, jac=True, method="L-BFGS-B")
        return cls(result.x[:classes], result.x[classes:])

    def transform(self, probabilities: FloatMatrix) -> FloatMatrix:
        log_p = np.log(np.clip(probabilities, PROBABILITY_FLOOR, 1.0))
        return self._apply(log_p, self.scale, self.shift)


class IsotonicCalibration:
    """One monotone map per class (one-vs-rest), then rows renormalised to sum to 1."""

    def __init__(self, maps: list[IsotonicRegression]) -> None:
        self.maps = maps

    @classmethod
    def fit(cls, probabilities: FloatMatrix, labels: npt.NDArray[np.int64]) -> IsotonicCalibration:
        maps = []
        for k in range(len(CLASS_ORDER)):
            regression = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
            maps.append(regression.fit(probabilities[:, k], (labels == k).astype(float)))
        return cls(maps)

    def transform(self, probabilities: FloatMatrix) -> FloatMatrix:
        columns = [m.predict(probabilities[:, k]) for k, m in enumerate(self.maps)]
        calibrated = np.clip(np.column_stack(columns), PROBABILITY_FLOOR, None)
        normalised: FloatMatrix = calibrated / calibrated.sum(axis=1, keepdims=True)
        return normalised


def fit_calibration(
    method: str, probabilities: FloatMatrix, labels: npt.NDArray[np.int64]
) -> Calibrator:
    if method == "sigmoid":
        return SigmoidCalibration.fit(probabilities, labels)
    if method == "isotonic":
        return IsotonicCalibration.fit(probabilities, labels)
    return IdentityCalibration()

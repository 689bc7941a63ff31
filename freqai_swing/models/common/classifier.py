"""What every classifier family shares: fixed classes, purged validation, the model interface.

FreqAI's stock classifiers re-derive the class order from whatever labels a training window
happens to contain (``LabelEncoder``), so a window without a ``down`` candle silently shifts the
probability columns. Here the order is fixed (``down``, ``flat``, ``up``), every model always
has three outputs, and the saved object carries its own ``classes_``. This module imports no
model family.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from freqai_swing.labels import CLASS_ORDER

CLASS_INDEX: Final[dict[str, int]] = {name: index for index, name in enumerate(CLASS_ORDER)}
#: Fewer validation rows than this make early stopping noise; the booster then runs all rounds.
MIN_VALIDATION_ROWS: Final = 48

FloatMatrix = npt.NDArray[np.float64]


def encode_labels(labels: pd.Series | npt.ArrayLike) -> npt.NDArray[np.int64]:
    """``down``/``flat``/``up`` to 0/1/2; anything else is a bug upstream and raises."""
    values = pd.Series(np.asarray(labels, dtype=object))
    codes = values.map(CLASS_INDEX)
    if codes.isna().any():
        unknown = sorted({str(v) for v in values[codes.isna()].unique()})
        raise ValueError(f"Unknown label values {unknown}; expected one of {list(CLASS_ORDER)}")
    encoded: npt.NDArray[np.int64] = codes.to_numpy(dtype=np.int64)
    return encoded


@dataclass(frozen=True)
class PurgedSplit:
    """Row positions fitted on, and held out for early stopping, in time order."""

    fit_rows: npt.NDArray[np.int64]
    validation_rows: npt.NDArray[np.int64]


def time_ordered_stamps(dates: pd.Series, needed_by: str) -> pd.Series:
    """The rows' dates as UTC timestamps indexed 0…n-1; rows out of time order raise.

    ``needed_by`` names the caller in the error: "a purged split needs", "purged folds need".
    """
    stamps = pd.to_datetime(pd.Series(dates).reset_index(drop=True), utc=True)
    if not stamps.is_monotonic_increasing:
        raise ValueError(f"Training rows are not in time order; {needed_by} them to be.")
    return stamps


def purged_fit_mask(
    stamps: pd.Series,
    first: int,
    last: int,
    purge: pd.Timedelta,
    embargo: pd.Timedelta | None = None,
) -> npt.NDArray[np.bool_]:
    """The rows that may be fitted while rows ``first``…``last`` are held out.

    A fitted row ends ``purge`` before the held-out rows begin (its label reads that far
    ahead) or, with an ``embargo``, starts that long after they end (its features read back
    into them). Gaps are measured in time, because FreqAI has already dropped rows with NaN
    features or labels: a row-based gap would shrink across them.
    """
    keep = stamps < stamps.iloc[first] - purge
    if embargo is not None:
        keep |= stamps > stamps.iloc[last] + embargo
    mask: npt.NDArray[np.bool_] = keep.to_numpy()
    return mask


def purged_validation_split(
    dates: pd.Series | None,
    validation_fraction: float,
    purge_candles: int,
    candle_seconds: int,
    rows: int,
) -> PurgedSplit:
    """Hold out the last rows of the training window, with a purge gap before them.

    The gap is measured in time (``purge_candles`` candle periods), not rows (see
    :func:`purged_fit_mask`). A fitted row's label looks ``horizon`` candles ahead; with the
    gap at least that long, no fitted label overlaps a validation candle.
    """
    positions = np.arange(rows, dtype=np.int64)
    validation_rows = int(np.ceil(rows * validation_fraction))
    if validation_rows < MIN_VALIDATION_ROWS or rows - validation_rows < MIN_VALIDATION_ROWS:
        return PurgedSplit(positions, np.array([], dtype=np.int64))
    first_validation = rows - validation_rows
    if dates is None:
        fit_end = max(first_validation - purge_candles, 0)
        return PurgedSplit(positions[:fit_end], positions[first_validation:])
    stamps = time_ordered_stamps(dates, "a purged split needs")
    purge = pd.Timedelta(seconds=purge_candles * candle_seconds)
    fit_mask = purged_fit_mask(stamps, first_validation, rows - 1, purge)
    return PurgedSplit(positions[fit_mask], positions[first_validation:])


def purged_folds(
    dates: pd.Series | None,
    folds: int,
    purge_candles: int,
    embargo_candles: int,
    candle_seconds: int,
) -> list[PurgedSplit]:
    """Contiguous validation folds in time order, each with its purged training rows.

    A training row ends ``purge_candles`` before the fold begins (its label reads that far
    ahead) or starts ``embargo_candles`` after the fold ends (its features read back into it).
    """
    if dates is None:
        raise ValueError("Purged folds need the training rows' dates.")
    stamps = time_ordered_stamps(dates, "purged folds need")
    positions = np.arange(len(stamps), dtype=np.int64)
    purge = pd.Timedelta(seconds=purge_candles * candle_seconds)
    embargo = pd.Timedelta(seconds=embargo_candles * candle_seconds)
    splits = []
    for block in np.array_split(positions, folds):
        if not len(block):
            continue
        keep = purged_fit_mask(stamps, block[0], block[-1], purge, embargo)
        splits.append(PurgedSplit(positions[keep], block))
    return splits


class ClassifierCore(ABC):
    """A trained three-class model in the sklearn shape FreqAI's classifier base expects."""

    classes_: npt.NDArray[np.str_] = np.array(CLASS_ORDER)

    def __init__(self, feature_names: list[str], best_iteration: int, device: str) -> None:
        self.feature_names = feature_names
        self.best_iteration = best_iteration
        self.device = device
        #: Validation log loss of the class prior minus the model's (None: no validation rows).
        self.validation_skill: float | None = None

    @abstractmethod
    def predict_proba(self, features: pd.DataFrame | FloatMatrix) -> FloatMatrix:
        """Probabilities, one column per class of ``classes_``, rows summing to 1."""

    def predict(self, features: pd.DataFrame | FloatMatrix) -> npt.NDArray[np.object_]:
        """The most probable class name per row."""
        best = self.predict_proba(features).argmax(axis=1)
        names: npt.NDArray[np.object_] = np.asarray(self.classes_, dtype=object)[best]
        return names

    @property
    @abstractmethod
    def feature_importances_(self) -> FloatMatrix:
        """Total gain per feature, normalised to sum to 1."""

    def _matrix(self, features: pd.DataFrame | FloatMatrix) -> FloatMatrix:
        if isinstance(features, pd.DataFrame):
            missing = [name for name in self.feature_names if name not in features.columns]
            if missing:
                raise ValueError(
                    f"Prediction features lack {len(missing)} columns, e.g. {missing[:3]}"
                )
            features = features[self.feature_names]
        return np.asarray(features, dtype=np.float64)


@dataclass(frozen=True)
class TrainingSet:
    """The arrays one training window hands to a booster."""

    features: pd.DataFrame
    labels: npt.NDArray[np.int64]
    weights: npt.NDArray[np.float64]
    split: PurgedSplit

    def part(
        self, rows: npt.NDArray[np.int64]
    ) -> tuple[FloatMatrix, npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        matrix = self.features.to_numpy(dtype=np.float64)[rows]
        return matrix, self.labels[rows], self.weights[rows]


def validation_skill(model: ClassifierCore, data: TrainingSet) -> float | None:
    """How much better than the fitted rows' class frequencies the model predicts the purged
    validation rows, in log loss (nats per row; > 0 = skill, <= 0 = none).

    On 1h crypto candles most windows show none; a model without it trades noise.
    """
    if not len(data.split.validation_rows):
        return None
    fit_labels = data.labels[data.split.fit_rows]
    counts = np.bincount(fit_labels, minlength=len(CLASS_ORDER)) + 1.0  # Laplace smoothing
    prior = counts / counts.sum()
    val_x, val_y, _ = data.part(data.split.validation_rows)
    predicted = np.clip(model.predict_proba(val_x), 1e-12, 1.0)
    rows = np.arange(len(val_y))
    prior_loss = -np.log(prior[val_y]).mean()
    model_loss = -np.log(predicted[rows, val_y]).mean()
    return float(prior_loss - model_loss)

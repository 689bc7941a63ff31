"""Gradient-boosting cores of the swing classifiers: purged validation, fixed classes, devices.

FreqAI's stock classifiers re-derive the class order from whatever labels a training window
happens to contain (``LabelEncoder``), so a window without a ``down`` candle silently shifts the
probability columns. Here the order is fixed (``down``, ``flat``, ``up``), every booster always
has three outputs, and the saved object carries its own ``classes_``.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import pandas as pd
import xgboost as xgb

from freqai_swing.labels import CLASS_ORDER
from freqai_swing.models.device import note_fallback, resolve_device
from freqai_swing.settings import ModelSettings

logger = logging.getLogger(__name__)

CLASS_INDEX: Final[dict[str, int]] = {name: index for index, name in enumerate(CLASS_ORDER)}
#: Fewer validation rows than this make early stopping noise; the booster then runs all rounds.
MIN_VALIDATION_ROWS: Final = 48

XGBOOST_DEFAULTS: Final[dict[str, Any]] = {
    "objective": "multi:softprob",
    "eval_metric": "mlogloss",
    "max_depth": 6,
    "learning_rate": 0.05,
    "n_estimators": 500,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "reg_alpha": 0.1,
    "reg_lambda": 1.0,
    "tree_method": "hist",
}
LIGHTGBM_DEFAULTS: Final[dict[str, Any]] = {
    "objective": "multiclass",
    "metric": "multi_logloss",
    "max_depth": 6,
    "num_leaves": 31,
    "learning_rate": 0.05,
    "n_estimators": 500,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "feature_fraction": 0.8,
    "lambda_l1": 0.1,
    "lambda_l2": 1.0,
    "min_child_samples": 20,
    "deterministic": True,
    "force_row_wise": True,
    "verbose": -1,
}

FloatMatrix = npt.NDArray[np.float64]


def encode_labels(labels: pd.Series | npt.ArrayLike) -> npt.NDArray[np.int64]:
    """``down``/``flat``/``up`` to 0/1/2; anything else is a bug upstream and raises."""
    values = pd.Series(np.asarray(labels, dtype=object))
    codes = values.map(CLASS_INDEX)
    if codes.isna().any():
        unknown = sorted({str(v) for v in values[codes.isna()].unique()})
        raise ValueError(f"Unknown label values {unknown}; expected one of {list(CLASS_ORDER)}")
    return codes.to_numpy(dtype=np.int64)


@dataclass(frozen=True)
class PurgedSplit:
    """Row positions fitted on, and held out for early stopping, in time order."""

    fit_rows: npt.NDArray[np.int64]
    validation_rows: npt.NDArray[np.int64]


def purged_validation_split(
    dates: pd.Series | None,
    validation_fraction: float,
    purge_candles: int,
    candle_seconds: int,
    rows: int,
) -> PurgedSplit:
    """Hold out the last rows of the training window, with a purge gap before them.

    The gap is measured in time (``purge_candles`` candle periods), not rows, because FreqAI has
    already dropped rows with NaN features or labels: a row-based gap would shrink across them.
    A fitted row's label looks ``horizon`` candles ahead; with the gap at least that long, no
    fitted label overlaps a validation candle.
    """
    positions = np.arange(rows, dtype=np.int64)
    validation_rows = int(np.ceil(rows * validation_fraction))
    if validation_rows < MIN_VALIDATION_ROWS or rows - validation_rows < MIN_VALIDATION_ROWS:
        return PurgedSplit(positions, np.array([], dtype=np.int64))
    first_validation = rows - validation_rows
    if dates is None:
        fit_end = max(first_validation - purge_candles, 0)
        return PurgedSplit(positions[:fit_end], positions[first_validation:])
    stamps = pd.to_datetime(pd.Series(dates).reset_index(drop=True), utc=True)
    if not stamps.is_monotonic_increasing:
        raise ValueError("Training rows are not in time order; a purged split needs them to be.")
    cutoff = stamps.iloc[first_validation] - pd.Timedelta(seconds=purge_candles * candle_seconds)
    fit_mask = (stamps < cutoff).to_numpy()
    return PurgedSplit(positions[fit_mask], positions[first_validation:])


class SwingBoostedClassifier(ABC):
    """A trained three-class booster in the sklearn shape FreqAI's classifier base expects."""

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
        return np.asarray(self.classes_, dtype=object)[self.predict_proba(features).argmax(axis=1)]

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


class XGBoostSwingModel(SwingBoostedClassifier):
    """XGBoost booster trained with ``multi:softprob`` on the fixed classes."""

    def __init__(
        self, booster: xgb.Booster, feature_names: list[str], best_iteration: int, device: str
    ) -> None:
        super().__init__(feature_names, best_iteration, device)
        self.booster = booster

    def predict_proba(self, features: pd.DataFrame | FloatMatrix) -> FloatMatrix:
        self.booster.set_param({"device": "cpu"})
        matrix = xgb.DMatrix(self._matrix(features))
        probabilities = self.booster.predict(matrix, iteration_range=(0, self.best_iteration + 1))
        return np.asarray(probabilities, dtype=np.float64).reshape(-1, len(CLASS_ORDER))

    @property
    def feature_importances_(self) -> FloatMatrix:
        gains = self.booster.get_score(importance_type="total_gain")
        values = np.array([gains.get(f"f{i}", 0.0) for i in range(len(self.feature_names))])
        total = values.sum()
        return values / total if total > 0 else values


class LightGBMSwingModel(SwingBoostedClassifier):
    """LightGBM booster trained with ``multiclass`` on the fixed classes."""

    def __init__(
        self, booster: lgb.Booster, feature_names: list[str], best_iteration: int, device: str
    ) -> None:
        super().__init__(feature_names, best_iteration, device)
        self.booster = booster

    def predict_proba(self, features: pd.DataFrame | FloatMatrix) -> FloatMatrix:
        probabilities = self.booster.predict(
            self._matrix(features), num_iteration=self.best_iteration + 1
        )
        return np.asarray(probabilities, dtype=np.float64).reshape(-1, len(CLASS_ORDER))

    @property
    def feature_importances_(self) -> FloatMatrix:
        values = np.asarray(self.booster.feature_importance(importance_type="gain"), dtype=float)
        total = values.sum()
        return values / total if total > 0 else values


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


def validation_skill(model: SwingBoostedClassifier, data: TrainingSet) -> float | None:
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


BoosterT = TypeVar("BoosterT")


def _fit_on_device(
    fit: Callable[[str], BoosterT], device: str, component: str, gpu_error: type[Exception]
) -> tuple[BoosterT, str]:
    """Fit on ``device``; a GPU failure falls back to CPU once, with one warning."""
    try:
        return fit(device), device
    except gpu_error as error:
        if device == "cpu":
            raise
        note_fallback(component, str(error).splitlines()[0])
        return fit("cpu"), "cpu"


def _merged(defaults: dict[str, Any], overrides: dict[str, Any]) -> tuple[dict[str, Any], int]:
    params = {**defaults, **overrides}
    rounds = int(params.pop("n_estimators", params.pop("num_boost_round", 500)))
    return params, rounds


def train_xgboost(
    data: TrainingSet, overrides: dict[str, Any], settings: ModelSettings
) -> XGBoostSwingModel:
    """Fit XGBoost on the fitted rows, early-stopping on the purged validation rows."""
    params, rounds = _merged(XGBOOST_DEFAULTS, overrides)
    params.update(num_class=len(CLASS_ORDER), seed=settings.seed, nthread=settings.threads or -1)
    device = resolve_device(str(params.pop("device", settings.device)), "XGBoost")
    fit_x, fit_y, fit_w = data.part(data.split.fit_rows)
    train_matrix = xgb.DMatrix(fit_x, label=fit_y, weight=fit_w)
    evals: list[tuple[xgb.DMatrix, str]] = []
    if len(data.split.validation_rows):
        val_x, val_y, val_w = data.part(data.split.validation_rows)
        evals.append((xgb.DMatrix(val_x, label=val_y, weight=val_w), "validation"))

    def fit(on: str) -> xgb.Booster:
        return xgb.train(
            {**params, "device": on},
            train_matrix,
            num_boost_round=rounds,
            evals=evals,
            early_stopping_rounds=settings.early_stopping_rounds if evals else None,
            verbose_eval=False,
        )

    booster, device = _fit_on_device(fit, device, "XGBoost", xgb.core.XGBoostError)
    best = booster.best_iteration if evals else rounds - 1
    model = XGBoostSwingModel(booster, list(data.features.columns), int(best), device)
    model.validation_skill = validation_skill(model, data)
    return model


def train_lightgbm(
    data: TrainingSet, overrides: dict[str, Any], settings: ModelSettings
) -> LightGBMSwingModel:
    """Fit LightGBM on the fitted rows, early-stopping on the purged validation rows."""
    params, rounds = _merged(LIGHTGBM_DEFAULTS, overrides)
    params.update(num_class=len(CLASS_ORDER), seed=settings.seed, num_threads=settings.threads)
    device = resolve_device(str(params.pop("device", settings.device)), "LightGBM")
    fit_x, fit_y, fit_w = data.part(data.split.fit_rows)
    valid_sets: list[lgb.Dataset] = []
    train_set = lgb.Dataset(fit_x, label=fit_y, weight=fit_w, free_raw_data=False)
    if len(data.split.validation_rows):
        val_x, val_y, val_w = data.part(data.split.validation_rows)
        valid_sets.append(lgb.Dataset(val_x, label=val_y, weight=val_w, reference=train_set))
    callbacks = (
        [lgb.early_stopping(settings.early_stopping_rounds, verbose=False)] if valid_sets else []
    )

    def fit(on: str) -> lgb.Booster:
        device_params = {"device_type": "gpu"} if on == "cuda" else {"device_type": "cpu"}
        return lgb.train(
            {**params, **device_params},
            train_set,
            num_boost_round=rounds,
            valid_sets=valid_sets,
            callbacks=callbacks,
        )

    booster, device = _fit_on_device(fit, device, "LightGBM", lgb.basic.LightGBMError)
    best = (booster.best_iteration or rounds) - 1
    model = LightGBMSwingModel(booster, list(data.features.columns), int(best), device)
    model.validation_skill = validation_skill(model, data)
    return model

"""The gradient-boosting family: XGBoost and LightGBM cores on the fixed classes, on a device."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Final, TypeVar

import lightgbm as lgb
import numpy as np
import pandas as pd
import xgboost as xgb

from freqai_swing.labels import CLASS_ORDER
from freqai_swing.models.common.classifier import (
    ClassifierCore,
    FloatMatrix,
    TrainingSet,
    validation_skill,
)
from freqai_swing.models.common.device import Device, note_fallback, resolve_device
from freqai_swing.settings import ModelSettings

logger = logging.getLogger(__name__)

BoosterT = TypeVar("BoosterT")

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


class XGBoostCore(ClassifierCore):
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


class LightGBMCore(ClassifierCore):
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


def _fit_on_device(
    fit: Callable[[str], BoosterT], device: Device, component: str, gpu_error: type[Exception]
) -> tuple[BoosterT, Device]:
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
) -> XGBoostCore:
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
    model = XGBoostCore(booster, list(data.features.columns), int(best), device)
    model.validation_skill = validation_skill(model, data)
    return model


def train_lightgbm(
    data: TrainingSet, overrides: dict[str, Any], settings: ModelSettings
) -> LightGBMCore:
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
    callbacks: list[Callable[..., Any]] = (
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
    model = LightGBMCore(booster, list(data.features.columns), int(best), device)
    model.validation_skill = validation_skill(model, data)
    return model

"""``SwingPortfolioModel``: FreqAI's side of the portfolio's two ML parts.

One FreqAI model per pair and window learns, from the pair's 1h features:

* ``&-log_volatility``, the log of the next day's annualised realised volatility, with HAR
  (a linear model on the day/week/month realised volatility, the reference) or one of the
  bundle's boosting members, LightGBM or XGBoost (the contenders), chosen by
  ``swing.portfolio.volatility_model``;
* ``&-meta_label``, the calibrated probability that holding the pair over the meta horizon
  beats the round-trip cost: the members chosen by ``swing.portfolio.meta_model`` (LightGBM,
  XGBoost, or the ensemble of both) weighted by label uniqueness, their mix weighted out of
  sample and Platt-calibrated on the window's last fifth, kept apart from the fitted rows by
  the horizon.

Labels reach ``fit`` unscaled (an empty label pipeline), so the predictions are the log
volatility and the probability themselves.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import xgboost as xgb
from datasieve.pipeline import Pipeline
from freqtrade.freqai.base_models.BaseRegressionModel import BaseRegressionModel
from freqtrade.freqai.data_kitchen import FreqaiDataKitchen
from sklearn.linear_model import LinearRegression, LogisticRegression

from freqai_swing.models.ensemble.stacking import nonnegative_weights
from freqai_swing.portfolio.labels import HAR_FEATURES, label_uniqueness
from freqai_swing.settings import load_swing_settings

logger = logging.getLogger(__name__)

VOLATILITY_LABEL = "&-log_volatility"
META_LABEL = "&-meta_label"
CALIBRATION_FRACTION = 0.2


def own_columns(columns: pd.Index, names: tuple[str, ...]) -> list[str]:
    """The pair's own FreqAI columns for ``names`` (not those of a correlated pair)."""
    chosen = []
    for name in names:
        matches = [c for c in columns if c.startswith(f"%-{name}_") and "/" not in c]
        chosen.extend(matches[:1])
    return chosen


@dataclass
class PortfolioForecaster:
    """The fitted parts; ``predict`` answers in FreqAI's label order."""

    labels: list[str]
    volatility: Any
    volatility_columns: list[str] | None
    meta: MetaFit

    def _volatility(self, features: pd.DataFrame) -> np.ndarray:
        chosen = features if self.volatility_columns is None else features[self.volatility_columns]
        return np.asarray(self.volatility.predict(chosen), dtype=float)

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        outputs = {
            VOLATILITY_LABEL: self._volatility(features),
            META_LABEL: self.meta.probability(features),
        }
        return np.column_stack([outputs[label] for label in self.labels])


def _logit(probability: np.ndarray) -> np.ndarray:
    clipped = np.clip(probability, 1e-6, 1 - 1e-6)
    logits: np.ndarray = np.log(clipped / (1 - clipped))
    return logits


def _lightgbm_parameters(config: dict[str, Any], seed: int) -> dict[str, Any]:
    parameters = {"n_estimators": 150, "learning_rate": 0.05, "num_leaves": 15, "verbosity": -1}
    parameters.update(config.get("freqai", {}).get("model_training_parameters", {}))
    parameters.update({"random_state": seed, "n_jobs": 1, "deterministic": True})
    return parameters


#: ``model_training_parameters`` (LightGBM's names) that mean the same to XGBoost.
_SHARED_PARAMETERS = ("n_estimators", "learning_rate", "subsample", "colsample_bytree")


def _xgboost_parameters(config: dict[str, Any], seed: int) -> dict[str, Any]:
    """XGBoost's counterpart of the LightGBM settings: the shared ones, depth 4 (about 15
    leaves), and the same seed and single thread."""
    given = config.get("freqai", {}).get("model_training_parameters", {})
    parameters: dict[str, Any] = {"n_estimators": 150, "learning_rate": 0.05, "max_depth": 4}
    parameters.update({key: given[key] for key in _SHARED_PARAMETERS if key in given})
    parameters.update({"random_state": seed, "n_jobs": 1, "tree_method": "hist", "verbosity": 0})
    return parameters


def volatility_learner(name: str, config: dict[str, Any], seed: int) -> Any:
    """An unfitted regressor of the bundle's boosting members."""
    if name == "xgboost":
        return xgb.XGBRegressor(**_xgboost_parameters(config, seed))
    return lgb.LGBMRegressor(**_lightgbm_parameters(config, seed))


def meta_learners(name: str, config: dict[str, Any], seed: int) -> list[Any]:
    """Unfitted classifiers of the members ``swing.portfolio.meta_model`` names."""
    lightgbm = lgb.LGBMClassifier(**_lightgbm_parameters(config, seed))
    xgboost = xgb.XGBClassifier(**_xgboost_parameters(config, seed))
    return {"lightgbm": [lightgbm], "xgboost": [xgboost], "ensemble": [lightgbm, xgboost]}[name]


@dataclass
class MetaFit:
    """The fitted meta-label: members, their out-of-sample mix weights, Platt's calibration.

    Without members (too few rows, or one class) it answers the window's base rate.
    """

    members: list[Any]
    weights: np.ndarray
    calibrator: LogisticRegression | None
    base_rate: float

    def raw(self, features: pd.DataFrame) -> np.ndarray:
        """The members' mixed probability, before calibration."""
        columns = [member.predict_proba(features)[:, 1] for member in self.members]
        return np.asarray(self.weights @ np.vstack(columns), dtype=float)

    def probability(self, features: pd.DataFrame) -> np.ndarray:
        if not self.members or self.calibrator is None:
            return np.full(len(features), self.base_rate)
        calibrated: np.ndarray = self.calibrator.predict_proba(
            _logit(self.raw(features).reshape(-1, 1))
        )[:, 1]
        return calibrated


def fit_meta(
    features: pd.DataFrame, labels: np.ndarray, horizon: int, learners: list[Any]
) -> MetaFit:
    """The members on the first rows; on the last fifth, after a purge of one horizon, the
    weights of their mix (log loss, non-negative, summing to one) and Platt's scaling."""
    base_rate = float(np.mean(labels)) if len(labels) else 0.5
    nothing = MetaFit([], np.zeros(0), None, base_rate)
    split = int(len(features) * (1 - CALIBRATION_FRACTION))
    fitted_end = split - horizon
    if fitted_end < 100 or len(np.unique(labels[:fitted_end])) < 2:
        return nothing
    if len(np.unique(labels[split:])) < 2:
        return nothing
    weights = label_uniqueness(np.ones(fitted_end, dtype=bool), horizon)
    for learner in learners:
        learner.fit(features.iloc[:fitted_end], labels[:fitted_end], sample_weight=weights)
    truth = labels[split:].astype(np.int64)
    up = np.vstack([learner.predict_proba(features.iloc[split:])[:, 1] for learner in learners])
    if len(learners) == 1:
        mix = np.ones(1)
    else:
        mix = nonnegative_weights([np.column_stack([1 - p, p]) for p in up], truth)
    calibrator = LogisticRegression(C=1e6)
    calibrator.fit(_logit((mix @ up).reshape(-1, 1)), truth)
    return MetaFit(learners, mix, calibrator, base_rate)


class PortfolioModelBase(BaseRegressionModel):
    """FreqAI regression model over the two portfolio labels (see the module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.swing = load_swing_settings(self.config)

    def define_label_pipeline(self, threads: int = -1) -> Pipeline:
        return Pipeline([])

    def fit(self, data_dictionary: dict[str, Any], dk: FreqaiDataKitchen, **kwargs: Any) -> Any:
        features: pd.DataFrame = data_dictionary["train_features"]
        labels: pd.DataFrame = data_dictionary["train_labels"]
        settings = self.swing.portfolio
        seed = self.swing.model.seed
        volatility_label = labels[VOLATILITY_LABEL].to_numpy(dtype=float)
        if settings.volatility_model == "har":
            columns = own_columns(features.columns, HAR_FEATURES)
            volatility = LinearRegression().fit(features[columns], volatility_label)
        else:
            columns = None
            volatility = volatility_learner(settings.volatility_model, self.config, seed)
            volatility.fit(features, volatility_label)
        meta = fit_meta(
            features,
            labels[META_LABEL].to_numpy(dtype=float),
            settings.meta_horizon_days * 24,
            meta_learners(settings.meta_model, self.config, seed),
        )
        logger.info(
            "Portfolio model for %s: volatility by %s, meta-label by %s (weights %s), base "
            "rate %.3f%s",
            dk.pair,
            settings.volatility_model,
            settings.meta_model,
            np.round(meta.weights, 3).tolist(),
            meta.base_rate,
            "" if meta.members else " (too few rows or one class: base rate only)",
        )
        return PortfolioForecaster(
            labels=list(labels.columns),
            volatility=volatility,
            volatility_columns=columns,
            meta=meta,
        )

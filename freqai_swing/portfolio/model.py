"""``SwingPortfolioModel``: FreqAI's side of the portfolio's two ML parts.

One FreqAI model per pair and window learns, from the pair's 1h features:

* ``&-log_volatility``, the log of the next day's annualised realised volatility, with HAR
  (a linear model on the day/week/month realised volatility, the reference) or LightGBM (the
  contender), chosen by ``swing.portfolio.volatility_model``;
* ``&-meta_label``, the calibrated probability that holding the pair over the meta horizon
  beats the round-trip cost: LightGBM weighted by label uniqueness, Platt-calibrated on the
  window's last fifth, kept apart from the fitted rows by the horizon.

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
from datasieve.pipeline import Pipeline
from freqtrade.freqai.base_models.BaseRegressionModel import BaseRegressionModel
from freqtrade.freqai.data_kitchen import FreqaiDataKitchen
from sklearn.linear_model import LinearRegression, LogisticRegression

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
    meta: lgb.LGBMClassifier | None
    calibrator: LogisticRegression | None
    base_rate: float

    def _volatility(self, features: pd.DataFrame) -> np.ndarray:
        chosen = features if self.volatility_columns is None else features[self.volatility_columns]
        return np.asarray(self.volatility.predict(chosen), dtype=float)

    def _meta(self, features: pd.DataFrame) -> np.ndarray:
        if self.meta is None or self.calibrator is None:
            return np.full(len(features), self.base_rate)
        raw = self.meta.predict_proba(features)[:, 1].reshape(-1, 1)
        return self.calibrator.predict_proba(_logit(raw))[:, 1]

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        outputs = {VOLATILITY_LABEL: self._volatility(features), META_LABEL: self._meta(features)}
        return np.column_stack([outputs[label] for label in self.labels])


def _logit(probability: np.ndarray) -> np.ndarray:
    clipped = np.clip(probability, 1e-6, 1 - 1e-6)
    return np.log(clipped / (1 - clipped))


def _lightgbm_parameters(config: dict[str, Any], seed: int) -> dict[str, Any]:
    parameters = {"n_estimators": 150, "learning_rate": 0.05, "num_leaves": 15, "verbosity": -1}
    parameters.update(config.get("freqai", {}).get("model_training_parameters", {}))
    parameters.update({"random_state": seed, "n_jobs": 1, "deterministic": True})
    return parameters


def fit_meta(
    features: pd.DataFrame,
    labels: np.ndarray,
    horizon: int,
    parameters: dict[str, Any],
) -> tuple[lgb.LGBMClassifier | None, LogisticRegression | None, float]:
    """LightGBM on the first rows, Platt scaling on the last fifth after a purge."""
    base_rate = float(np.mean(labels)) if len(labels) else 0.5
    split = int(len(features) * (1 - CALIBRATION_FRACTION))
    fitted_end = split - horizon
    if fitted_end < 100 or len(np.unique(labels[:fitted_end])) < 2:
        return None, None, base_rate
    if len(np.unique(labels[split:])) < 2:
        return None, None, base_rate
    weights = label_uniqueness(np.ones(fitted_end, dtype=bool), horizon)
    classifier = lgb.LGBMClassifier(**parameters)
    classifier.fit(features.iloc[:fitted_end], labels[:fitted_end], sample_weight=weights)
    raw = classifier.predict_proba(features.iloc[split:])[:, 1].reshape(-1, 1)
    calibrator = LogisticRegression(C=1e6)
    calibrator.fit(_logit(raw), labels[split:])
    return classifier, calibrator, base_rate


class PortfolioModelBase(BaseRegressionModel):
    """FreqAI regression model over the two portfolio labels (see the module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.swing = load_swing_settings(self.config)

    def define_label_pipeline(self, threads: int = -1) -> Pipeline:
        return Pipeline([])

    def fit(self, data_dictionary: dict, dk: FreqaiDataKitchen, **kwargs: Any) -> Any:
        features: pd.DataFrame = data_dictionary["train_features"]
        labels: pd.DataFrame = data_dictionary["train_labels"]
        settings = self.swing.portfolio
        parameters = _lightgbm_parameters(self.config, self.swing.model.seed)
        volatility_label = labels[VOLATILITY_LABEL].to_numpy(dtype=float)
        if settings.volatility_model == "har":
            columns = own_columns(features.columns, HAR_FEATURES)
            volatility = LinearRegression().fit(features[columns], volatility_label)
        else:
            columns = None
            volatility = lgb.LGBMRegressor(**parameters).fit(features, volatility_label)
        horizon = settings.meta_horizon_days * 24
        meta, calibrator, base_rate = fit_meta(
            features, labels[META_LABEL].to_numpy(dtype=float), horizon, parameters
        )
        logger.info(
            "Portfolio model for %s: volatility by %s, meta base rate %.3f%s",
            dk.pair,
            settings.volatility_model,
            base_rate,
            "" if meta is not None else " (too few rows or one class: base rate only)",
        )
        return PortfolioForecaster(
            labels=list(labels.columns),
            volatility=volatility,
            volatility_columns=columns,
            meta=meta,
            calibrator=calibrator,
            base_rate=base_rate,
        )

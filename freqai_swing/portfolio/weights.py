"""Target weights: one pair's raw weight, then the portfolio's volatility target and caps."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from freqai_swing.portfolio.settings import PortfolioSettings


def meta_multiplier(probability: pd.Series | float, threshold: float) -> pd.Series | float:
    """0 below ``threshold``; ``min(1, p / (1 - threshold))`` at or above it; 0 when unknown."""
    if isinstance(probability, pd.Series):
        scaled = (probability / (1.0 - threshold)).clip(upper=1.0)
        return scaled.where(probability >= threshold, 0.0).fillna(0.0)
    if probability is None or not math.isfinite(probability) or probability < threshold:
        return 0.0
    return min(1.0, probability / (1.0 - threshold))


def raw_weight(
    score: pd.Series,
    volatility: pd.Series,
    regime_on: pd.Series,
    pairs: int,
    settings: PortfolioSettings,
    meta_probability: pd.Series | None = None,
) -> pd.Series:
    """A pair's weight before the portfolio step: trend × volatility budget × regime (× meta).

    Each pair's volatility budget is ``target / sqrt(pairs)``, what the target would allow if
    the pairs moved independently; :func:`portfolio_targets` then scales the whole book down
    to the target with the covariance the held pairs really have. Unknown inputs give 0.
    """
    budget = settings.target_volatility / math.sqrt(max(pairs, 1))
    weight = score * budget / volatility.where(volatility > 0)
    weight = weight.where(regime_on.astype(bool), 0.0)
    if meta_probability is not None:
        weight = weight * meta_multiplier(meta_probability, settings.meta_threshold)
    return weight.replace([np.inf, -np.inf], np.nan).fillna(0.0).clip(lower=0.0)


def portfolio_targets(
    raw: Mapping[str, float],
    covariance: pd.DataFrame | None,
    settings: PortfolioSettings,
    max_position: float,
    max_exposure: float,
) -> dict[str, float]:
    """Final weights: each capped at ``max_position``, the book scaled to the volatility
    target by the held pairs' annualised ``covariance``, then to ``max_exposure`` in all."""
    weights = pd.Series({pair: max(0.0, float(value)) for pair, value in raw.items()}, dtype=float)
    weights = weights.fillna(0.0).clip(upper=max_position)
    held = weights[weights > 0]
    if covariance is not None and not held.empty:
        known = [pair for pair in held.index if pair in covariance.index]
        sub = covariance.loc[known, known].to_numpy(dtype=float)
        vector = held[known].to_numpy()
        variance = float(vector @ np.nan_to_num(sub) @ vector)
        if variance > 0 and math.sqrt(variance) > settings.target_volatility:
            weights *= settings.target_volatility / math.sqrt(variance)
    total = float(weights.sum())
    if total > max_exposure > 0:
        weights *= max_exposure / total
    return {pair: float(value) for pair, value in weights.items()}


def annualised_covariance(daily_closes: pd.DataFrame, days: int) -> pd.DataFrame:
    """Covariance of the last ``days`` daily log returns, annualised (pairwise complete)."""
    returns = np.log(daily_closes.iloc[-(days + 1) :]).diff().iloc[1:]
    return returns.cov(min_periods=max(10, days // 3)) * 365

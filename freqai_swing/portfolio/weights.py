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


def book_scale(
    shares: np.ndarray,
    covariance: np.ndarray | None,
    settings: PortfolioSettings,
    max_exposure: float,
) -> float:
    """The multiplier that brings the held ``shares`` to the volatility target (by their
    annualised ``covariance``; none when unknown) and then within ``max_exposure`` in all."""
    scale = 1.0
    if covariance is not None:
        variance = float(shares @ np.nan_to_num(covariance) @ shares)
        if variance > 0 and math.sqrt(variance) > settings.target_volatility:
            scale = settings.target_volatility / math.sqrt(variance)
    total = scale * float(shares.sum())
    if total > max_exposure > 0:
        scale *= max_exposure / total
    return scale


def portfolio_targets(
    shares: Mapping[str, float],
    covariance: pd.DataFrame | None,
    settings: PortfolioSettings,
    max_position: float,
    max_exposure: float,
) -> dict[str, float]:
    """One day's final weights: each share capped at ``max_position``, then scaled by
    :func:`book_scale` over the held pairs."""
    weights = pd.Series({pair: max(0.0, float(value)) for pair, value in shares.items()})
    weights = weights.astype(float).fillna(0.0).clip(upper=max_position)
    held = weights[weights > 0]
    if held.empty:
        return {pair: 0.0 for pair in weights.index}
    matrix = None
    if covariance is not None:
        matrix = covariance.reindex(index=held.index, columns=held.index).to_numpy(dtype=float)
    scale = book_scale(held.to_numpy(), matrix, settings, max_exposure)
    return {pair: float(value) * scale for pair, value in weights.items()}


def annualised_covariance(daily_closes: pd.DataFrame, days: int) -> pd.DataFrame:
    """Covariance of the last ``days`` daily log returns, annualised (pairwise complete)."""
    returns = np.log(daily_closes.iloc[-(days + 1) :]).diff().iloc[1:]
    return returns.cov(min_periods=max(10, days // 3)) * 365

"""Scores the portfolio's evidence reports: forecast errors, probability scores, the Deflated
Sharpe Ratio."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.stats import kurtosis, norm, skew

EULER_GAMMA = 0.5772156649015329


def qlike(realised_variance: np.ndarray, forecast_variance: np.ndarray) -> float:
    """Mean QLIKE loss (Patton 2011): robust to noise in the realised variance; 0 is perfect."""
    ratio = realised_variance / forecast_variance
    return float(np.mean(ratio - np.log(ratio) - 1.0))


def log_rmse(realised_volatility: np.ndarray, forecast_volatility: np.ndarray) -> float:
    """Root mean squared error of log volatility."""
    return float(np.sqrt(np.mean((np.log(realised_volatility) - np.log(forecast_volatility)) ** 2)))


def binary_log_loss(probability: np.ndarray, outcome: np.ndarray) -> float:
    clipped = np.clip(probability, 1e-6, 1 - 1e-6)
    return float(-np.mean(outcome * np.log(clipped) + (1 - outcome) * np.log(1 - clipped)))


def binary_brier(probability: np.ndarray, outcome: np.ndarray) -> float:
    return float(np.mean((probability - outcome) ** 2))


def expected_max_sharpe(trial_sharpes: Sequence[float], trials: int) -> float:
    """The Sharpe ratio the best of ``trials`` unskilled trials would show (Bailey & López de
    Prado 2014), from the spread of the trials' Sharpe ratios (per-period units)."""
    if trials < 2:
        return 0.0
    spread = float(np.std(trial_sharpes, ddof=1)) if len(trial_sharpes) > 1 else 0.0
    first = (1 - EULER_GAMMA) * norm.ppf(1 - 1 / trials)
    second = EULER_GAMMA * norm.ppf(1 - 1 / (trials * math.e))
    return float(spread * (first + second))


def deflated_sharpe_ratio(
    returns: np.ndarray, trial_sharpes: Sequence[float], trials: int
) -> float:
    """Probability that the chosen strategy's true Sharpe ratio beats the best of ``trials``
    unskilled ones, given its per-period ``returns`` (skew and kurtosis included)."""
    returns = np.asarray(returns, dtype=float)
    count = len(returns)
    deviation = returns.std(ddof=1)
    if count < 3 or deviation == 0:
        return float("nan")
    sharpe = returns.mean() / deviation
    benchmark = expected_max_sharpe(trial_sharpes, trials)
    skewness = skew(returns)
    excess_kurtosis = kurtosis(returns)  # Fisher: 0 for a normal distribution
    denominator = math.sqrt(
        max(1 - skewness * sharpe + (excess_kurtosis + 2) / 4 * sharpe**2, 1e-12)
    )
    return float(norm.cdf((sharpe - benchmark) * math.sqrt(count - 1) / denominator))

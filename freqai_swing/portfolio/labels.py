"""The portfolio model's features and its two labels, from the pair's 1h candles.

Labels look forward only here, through FreqAI's target columns, and are NaN wherever their
horizon runs past the data or across a gap in the candles.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from freqai_swing.portfolio.signals import DAYS_PER_YEAR, HOURS_PER_DAY


def _log_returns(candles: pd.DataFrame) -> pd.Series:
    return np.log(candles["close"]).diff()


def _complete_ahead(dates: pd.Series, hours: int) -> pd.Series:
    """True where the next ``hours`` 1h candles exist without a gap."""
    ahead = dates.shift(-hours) - dates
    return ahead == pd.Timedelta(hours=hours)


def forward_log_volatility(candles: pd.DataFrame, hours: int = HOURS_PER_DAY) -> pd.Series:
    """Log of the annualised realised volatility of the next ``hours`` 1h returns."""
    squared = _log_returns(candles) ** 2
    ahead = squared[::-1].rolling(hours, min_periods=hours).sum()[::-1].shift(-1)
    annual = np.sqrt(ahead * HOURS_PER_DAY * DAYS_PER_YEAR / hours)
    label = np.log(annual.where(annual > 0))
    return label.where(_complete_ahead(candles["date"], hours))


def meta_labels(candles: pd.DataFrame, hours: int, round_trip_cost: float) -> pd.Series:
    """1.0 where holding for the next ``hours`` candles beats the round-trip cost, else 0.0."""
    close = candles["close"]
    gain = close.shift(-hours) / close - 1.0
    label = (gain > round_trip_cost).astype(float)
    return label.where(gain.notna() & _complete_ahead(candles["date"], hours))


def label_uniqueness(valid: np.ndarray, horizon: int) -> np.ndarray:
    """Average uniqueness of each label (López de Prado): overlapping horizons share weight.

    ``valid`` marks the rows that carry a label; each spans the ``horizon`` rows after it. A
    row's weight is the mean over its span of 1 / (labels spanning that row).
    """
    count = len(valid)
    starts = np.flatnonzero(valid)
    cover = np.zeros(count + horizon + 1)
    np.add.at(cover, starts + 1, 1.0)
    np.add.at(cover, starts + horizon + 1, -1.0)
    concurrency = np.cumsum(cover)[: count + horizon]
    inverse = np.where(concurrency > 0, 1.0 / np.maximum(concurrency, 1.0), 0.0)
    cumulative = np.concatenate([[0.0], np.cumsum(inverse)])
    weights = np.zeros(count)
    weights[starts] = (cumulative[starts + horizon + 1] - cumulative[starts + 1]) / horizon
    return weights


def volatility_features(candles: pd.DataFrame) -> pd.DataFrame:
    """Multi-scale realised volatility, range, volume and returns, from the past only."""
    returns = _log_returns(candles)
    squared = returns**2
    features = {}
    for name, hours in (("1d", 24), ("1w", 168), ("1m", 720)):
        mean = squared.rolling(hours, min_periods=hours // 2).mean()
        features[f"log_rv_{name}"] = np.log(np.sqrt(mean * HOURS_PER_DAY * DAYS_PER_YEAR) + 1e-8)
        features[f"return_{name}"] = np.log(candles["close"]).diff(hours)
    log_range = np.log(candles["high"] / candles["low"])
    features["log_range_1d"] = np.log(log_range.rolling(24, min_periods=12).mean() + 1e-8)
    volume = candles["volume"].replace(0, np.nan)
    features["volume_ratio"] = np.log(
        volume.rolling(24, min_periods=12).mean() / volume.rolling(720, min_periods=360).mean()
    )
    return pd.DataFrame(features, index=candles.index)


#: The HAR model's regressors among :func:`volatility_features` (day, week, month).
HAR_FEATURES = ("log_rv_1d", "log_rv_1w", "log_rv_1m")

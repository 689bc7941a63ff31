"""The book: every pair's target weight for each day, from the whole universe's daily bars.

Computed the same way wherever it runs (each pair's ``populate_indicators``, the research
simulation, the tests), from daily bars indexed by the day they summarise, so a pair's target
never depends on the order in which a backtest visits the pairs, nor on another pair's
analysed frame.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from freqai_swing.portfolio.settings import PortfolioSettings
from freqai_swing.portfolio.signals import (
    above_average,
    daily_bars,
    trailing_volatility,
    trend_score,
)
from freqai_swing.portfolio.weights import book_scale, raw_weight


def pair_inputs(candles: pd.DataFrame, settings: PortfolioSettings) -> pd.DataFrame:
    """One row per day: close, trend score and trailing volatility of a pair's 1h candles."""
    bars = daily_bars(candles)
    bars["score"] = trend_score(bars["close"], settings.lookback_days)
    bars["volatility"] = trailing_volatility(bars["realized_variance"], settings.volatility_days)
    return bars


def regime_gate(market: pd.DataFrame, settings: PortfolioSettings) -> pd.Series:
    """Per day: may the book be long (the market pair above its moving average)?"""
    close = daily_bars(market)["close"]
    if not settings.regime_enabled:
        return pd.Series(True, index=close.index)
    return above_average(close, settings.regime_days)


@dataclass(frozen=True)
class Book:
    """Per day (index) and pair (columns): ``raw`` weights (each pair alone), ``scale`` (the
    book's multiplier for the volatility target and the exposure cap), ``targets``, and the
    regime ``gate``."""

    gate: pd.Series
    raw: pd.DataFrame
    scale: pd.Series
    targets: pd.DataFrame


def pair_share(raw: pd.Series | pd.DataFrame, pairs: int, max_position: float) -> Any:
    """A pair's share of the book before the book's scaling: raw / sqrt(n), capped."""
    return (raw / math.sqrt(max(pairs, 1))).clip(upper=max_position)


def book_targets(
    inputs: Mapping[str, pd.DataFrame],
    regime_on: pd.Series,
    settings: PortfolioSettings,
    max_position: float,
    max_exposure: float,
) -> Book:
    """Targets for every day that any pair has, from the pairs' :func:`pair_inputs`."""
    closes = pd.DataFrame({pair: frame["close"] for pair, frame in inputs.items()})
    days = pd.date_range(closes.index.min(), closes.index.max(), freq="D")
    closes = closes.reindex(days).ffill()
    gate = regime_on.reindex(days).ffill().fillna(False).astype(bool)
    raw = pd.DataFrame(
        {
            pair: raw_weight(
                frame["score"].reindex(days),
                frame["volatility"].reindex(days),
                gate,
                1,
                settings,
            )
            for pair, frame in inputs.items()
        },
        index=days,
    )
    shares = pair_share(raw, len(inputs), max_position)
    returns = np.log(closes).diff().to_numpy()
    share_values = shares.to_numpy()
    window = settings.covariance_days
    scale = np.ones(len(days))
    for day in range(len(days)):
        held = share_values[day] > 0
        if not held.any():
            continue
        recent = returns[max(0, day - window + 1) : day + 1][:, held]
        covariance = _annual_covariance(recent, max(10, window // 3))
        scale[day] = book_scale(share_values[day][held], covariance, settings, max_exposure)
    scale_series = pd.Series(scale, index=days, name="book_scale")
    return Book(
        gate=gate.rename("regime_on"),
        raw=raw,
        scale=scale_series,
        targets=shares.mul(scale_series, axis=0),
    )


def _annual_covariance(returns: np.ndarray, min_rows: int) -> np.ndarray | None:
    complete = returns[~np.isnan(returns).any(axis=1)]
    if len(complete) < min_rows:
        return None
    return np.atleast_2d(np.cov(complete, rowvar=False)) * 365

"""Market regime gate: long entries only while the pair and the market trade above their
daily 200-day average.

On the development period (2022-01 to 2024-06, 10 pairs) the classifiers' probabilities carried
no tradable edge in falling markets, and every model-driven variant lost most in 2022; the gate
removed those entries (see the README's results). It is the textbook trend filter, not a tuned
threshold: one period, on completed daily candles only.
"""

from __future__ import annotations

import pandas as pd
from freqtrade.strategy import merge_informative_pair

DAILY = "1d"


def above_daily_average(
    candles: pd.DataFrame, daily: pd.DataFrame, timeframe: str, period: int = 200
) -> pd.Series:
    """True on each candle whose last *completed* daily close is above its ``period``-day SMA.

    ``merge_informative_pair`` shifts the daily candle to the moment it closes, so a 1h candle
    never sees the close of the day it belongs to. Missing daily history gives False (no entry).
    """
    if daily.empty:
        return pd.Series(False, index=candles.index)
    trend = daily[["date", "close"]].copy()
    trend["above"] = trend["close"] > trend["close"].rolling(period, min_periods=period).mean()
    trend["above"] = trend["above"].astype(float)
    merged = merge_informative_pair(
        candles[["date"]].copy(), trend[["date", "above"]], timeframe, DAILY, ffill=True
    )
    return (merged[f"above_{DAILY}"] == 1.0).set_axis(candles.index)

"""Per-pair inputs of the portfolio, from closed candles only.

Every series here is indexed by the UTC day whose candles it summarises and is known once that
day's last 1h candle has closed; :func:`on_hourly_rows` puts it on the 1h rows through
Freqtrade's own ``merge_informative_pair``, which shifts a daily value to the moment its day
closes, so no 1h row ever sees its own day's close before the day ends.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from freqtrade.strategy import merge_informative_pair

HOURS_PER_DAY = 24
DAYS_PER_YEAR = 365
DAILY = "1d"


def daily_bars(hourly: pd.DataFrame) -> pd.DataFrame:
    """One row per UTC day: the day's last close and its realised variance from 1h returns.

    ``realized_variance`` is the sum of the day's squared 1h log returns (the return into the
    first candle of a day uses the previous day's last close); ``candles`` counts the 1h
    candles the day has (exchange outages leave fewer).
    """
    frame = hourly[["date", "close"]].dropna(subset=["close"])
    log_return = np.log(frame["close"]).diff()
    day = frame["date"].dt.floor("D")
    grouped = pd.DataFrame(
        {"close": frame["close"].to_numpy(), "squared": (log_return**2).to_numpy()},
        index=day.to_numpy(),
    ).groupby(level=0)
    bars = pd.DataFrame(
        {
            "close": grouped["close"].last(),
            "realized_variance": grouped["squared"].sum(min_count=1),
            "candles": grouped["close"].count(),
        }
    )
    bars.index = pd.DatetimeIndex(bars.index, name="date")
    if bars.index.tz is None:
        bars.index = bars.index.tz_localize("UTC")
    return bars


def trend_score(close: pd.Series, lookback_days: Sequence[int]) -> pd.Series:
    """Share of the lookbacks over which the daily close rose: 0, 1/n, …, 1.

    NaN until the longest lookback has history, so a young pair gets no weight. The calendar
    index is reindexed daily first, so a missing day never stretches a lookback.
    """
    daily = close.asfreq("D")
    votes = []
    for days in lookback_days:
        past = daily.shift(days)
        votes.append((daily > past).astype(float).where(past.notna() & daily.notna()))
    return pd.concat(votes, axis=1).mean(axis=1, skipna=False).reindex(close.index)


def trailing_volatility(realized_variance: pd.Series, days: int) -> pd.Series:
    """Annualised volatility from the mean daily realised variance of the last ``days`` days."""
    daily = realized_variance.asfreq("D")
    mean = daily.rolling(days, min_periods=max(2, int(0.8 * days))).mean()
    return np.sqrt(mean * DAYS_PER_YEAR).reindex(realized_variance.index)


def above_average(close: pd.Series, days: int) -> pd.Series:
    """True where the daily close is above its ``days``-day simple average (False before)."""
    daily = close.asfreq("D").ffill()
    average = daily.rolling(days, min_periods=days).mean()
    return (daily > average).reindex(close.index).fillna(False).astype(bool)


def on_hourly_rows(hourly: pd.DataFrame, daily: pd.DataFrame, timeframe: str) -> pd.DataFrame:
    """The daily columns on each 1h row, as known at that row's close (forward-filled)."""
    informative = daily.rename_axis("date").reset_index()
    merged = merge_informative_pair(
        hourly[["date"]].copy(), informative, timeframe, DAILY, ffill=True
    )
    columns = {f"{name}_{DAILY}": name for name in daily.columns}
    return merged[list(columns)].rename(columns=columns).set_axis(hourly.index)


def is_decision_row(dates: pd.Series, decision_hours: int, timeframe_hours: int = 1) -> pd.Series:
    """True on the 1h rows whose close ends a decision period (23:00 for daily decisions)."""
    closes_at = dates + pd.Timedelta(hours=timeframe_hours)
    return (closes_at.dt.hour % decision_hours == 0).set_axis(dates.index)

"""Triple-barrier labels: which barrier the price touches first within the next N candles.

The label of a candle is ``up`` when the high of a later candle reaches ``close * (1 + x)``
before any low reaches ``close * (1 - x)``, ``down`` in the opposite case, and ``flat`` when
neither barrier is touched within the horizon. A candle whose horizon runs past the end of the
data, or across a missing candle, gets NaN: an incomplete future is never a default class.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

# the label's settings are declared with the others; imported from here as before
from freqai_swing.settings.labels import BarrierMode as BarrierMode
from freqai_swing.settings.labels import LabelConfig as LabelConfig

UP: Final = "up"
DOWN: Final = "down"
FLAT: Final = "flat"
#: Fixed class order shared by the labels, the models' probability columns and the strategies.
CLASS_ORDER: Final[tuple[str, str, str]] = (DOWN, FLAT, UP)


def barrier_widths(candles: pd.DataFrame, config: LabelConfig) -> npt.NDArray[np.float64]:
    """Per-candle barrier x, computed from the candle itself and the past only."""
    if config.barrier_mode == "fixed":
        return np.full(len(candles), config.barrier_pct, dtype=np.float64)
    log_returns = np.log(candles["close"]).diff()
    volatility = log_returns.rolling(config.volatility_window).std()
    scaled = config.volatility_multiplier * volatility * np.sqrt(config.horizon_candles)
    barriers: npt.NDArray[np.float64] = scaled.clip(
        config.min_barrier_pct, config.max_barrier_pct
    ).to_numpy(dtype=np.float64)
    return barriers


def _regular_grid(candles: pd.DataFrame, timeframe: str | None) -> pd.DataFrame:
    """Reindex to one row per candle period so a gap becomes NaN rows, not a shorter horizon."""
    if timeframe is None or "date" not in candles.columns or candles.empty:
        return candles
    step = pd.Timedelta(timeframe)
    dates = pd.DatetimeIndex(candles["date"])
    grid = pd.date_range(dates[0], dates[-1], freq=step)
    if len(grid) == len(dates):
        return candles
    return candles.set_index("date").reindex(grid).rename_axis("date").reset_index()


def missing_candles(candles: pd.DataFrame) -> npt.NDArray[np.bool_]:
    """Rows that stand for no real trading: NaN prices, or a candle without any range.

    Freqtrade fills an exchange outage with flat zero-volume candles, and a candle whose prices
    are NaN with the previous close (keeping its volume); a liquid pair never trades an hour at
    one single price. A label that read such rows would learn from prices nobody could trade.
    """
    prices = candles[["high", "low", "close"]].to_numpy(dtype=np.float64)
    invalid: npt.NDArray[np.bool_] = np.isnan(prices).any(axis=1) | (prices[:, 0] == prices[:, 1])
    return invalid


def triple_barrier_labels(
    candles: pd.DataFrame, config: LabelConfig, timeframe: str | None = "1h"
) -> pd.Series:
    """Label each candle ``up`` / ``down`` / ``flat`` by the first barrier touched.

    Args:
        candles: OHLC candles in time order (``date``, ``high``, ``low``, ``close``).
        config: barrier settings.
        timeframe: candle period (e.g. ``"1h"``) used to detect missing candles from ``date``;
            ``None`` trusts the rows to be contiguous. Candles Freqtrade filled in for an
            outage (see :func:`missing_candles`) count as missing too.

    Returns:
        A string Series aligned with ``candles`` (object dtype, NaN where unknown). When a single
        candle touches both barriers, the order inside the candle is unknown and the label is
        ``down``: a long-only strategy must not learn an optimistic guess.
    """
    horizon = config.horizon_candles
    grid = _regular_grid(candles, timeframe)
    hole = missing_candles(grid)
    high = np.where(hole, np.nan, grid["high"].to_numpy(dtype=np.float64))
    low = np.where(hole, np.nan, grid["low"].to_numpy(dtype=np.float64))
    close = np.where(hole, np.nan, grid["close"].to_numpy(dtype=np.float64))
    width = barrier_widths(grid, config)
    rows = len(grid)
    labels = np.full(rows, np.nan, dtype=object)
    if rows <= horizon:
        return _back_to_rows(labels, grid, candles)

    # future_*[t, k] is the candle t + 1 + k, for t whose whole horizon lies inside the data.
    future_high = np.lib.stride_tricks.sliding_window_view(high[1:], horizon)[: rows - horizon]
    future_low = np.lib.stride_tricks.sliding_window_view(low[1:], horizon)[: rows - horizon]
    base = close[: rows - horizon, None]
    x = width[: rows - horizon, None]
    up_hit = future_high >= base * (1 + x)
    down_hit = future_low <= base * (1 - x)
    missing = np.isnan(future_high) | np.isnan(future_low)

    never = horizon + 1
    first_up = np.where(up_hit.any(axis=1), up_hit.argmax(axis=1), never)
    first_down = np.where(down_hit.any(axis=1), down_hit.argmax(axis=1), never)
    first_touch = np.minimum(first_up, first_down)

    decided = np.full(rows - horizon, np.nan, dtype=object)
    decided[first_touch < never] = DOWN
    decided[(first_up < first_down)] = UP
    decided[(first_up == never) & (first_down == never)] = FLAT
    # an incomplete horizon is unknown, even when a barrier was touched before the hole
    unknown = missing.any(axis=1) | np.isnan(base[:, 0]) | np.isnan(x[:, 0])
    decided[unknown] = np.nan
    labels[: rows - horizon] = decided
    return _back_to_rows(labels, grid, candles)


def _back_to_rows(
    labels: npt.NDArray[np.object_], grid: pd.DataFrame, candles: pd.DataFrame
) -> pd.Series:
    """Map labels computed on the regular grid back onto the caller's rows."""
    if grid is candles:
        return pd.Series(labels, index=candles.index, dtype=object)
    by_date = pd.Series(labels, index=pd.DatetimeIndex(grid["date"]), dtype=object)
    aligned = by_date.reindex(pd.DatetimeIndex(candles["date"])).to_numpy(dtype=object)
    return pd.Series(aligned, index=candles.index, dtype=object)

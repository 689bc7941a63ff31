"""Scale-free technical features, one function per family, all computed with TA-Lib.

Every feature is a ratio, a distance, a return or a bounded oscillator, never a raw price: a
model trained on BTC at 30k must read BTC at 60k, and SOL, the same way. Every value uses only
the candle itself and earlier candles (rolling windows, TA-Lib's recursive filters), which is
what ``freqtrade lookahead-analysis`` and ``recursive-analysis`` check.

The strategy prefixes the names with FreqAI's ``%-``; the families are expanded over the 1h, 4h
and 1d timeframes and over BTC as a correlated pair by FreqAI itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
import talib
from talib._ta_lib import MA_Type

FloatArray = npt.NDArray[np.float64]
FeatureFamily = Callable[[pd.DataFrame], dict[str, FloatArray]]


def _ohlcv(
    candles: pd.DataFrame,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    return tuple(
        candles[column].to_numpy(dtype=np.float64)
        for column in ("open", "high", "low", "close", "volume")
    )


def _safe_divide(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    """Division that yields NaN (a missing feature FreqAI masks) instead of inf on a zero."""
    with np.errstate(divide="ignore", invalid="ignore"):
        result = numerator / denominator
    result[~np.isfinite(result)] = np.nan
    return result


def _rolling(values: FloatArray, window: int) -> pd.core.window.Rolling:
    return pd.Series(values).rolling(window, min_periods=window)


def trend_features(candles: pd.DataFrame) -> dict[str, FloatArray]:
    """Where price sits against its averages and how strong the trend is."""
    _, high, low, close, _ = _ohlcv(candles)
    features: dict[str, FloatArray] = {}
    for period in (20, 50, 200):
        features[f"sma{period}-dist"] = _safe_divide(close, talib.SMA(close, period)) - 1
        features[f"ema{period}-dist"] = _safe_divide(close, windowed_ema(close, period)) - 1
    macd, signal, hist = talib.MACD(close, 12, 26, 9)
    features["macd"] = _safe_divide(macd, close)
    features["macd-signal"] = _safe_divide(signal, close)
    features["macd-hist"] = _safe_divide(hist, close)
    # ADX with a plain 14-candle mean of DX: Wilder's second smoothing would remember the first
    # candle loaded for longer than the startup candles on 4h
    features["adx"] = talib.SMA(talib.DX(high, low, close, 14), 14) / 100
    features["plus-di"] = talib.PLUS_DI(high, low, close, 14) / 100
    features["minus-di"] = talib.MINUS_DI(high, low, close, 14) / 100
    aroon_down, aroon_up = talib.AROON(high, low, 25)
    features["aroon-up"] = aroon_up / 100
    features["aroon-down"] = aroon_down / 100
    features["aroon-osc"] = (aroon_up - aroon_down) / 100
    direction, distance = supertrend(high, low, close)
    features["supertrend-dir"] = direction
    features["supertrend-dist"] = distance
    return features


def windowed_ema(values: FloatArray, period: int) -> FloatArray:
    """Exponentially weighted mean over exactly the last ``period`` candles.

    TA-Lib's EMA is recursive and never forgets the first candle it was seeded with: on 4h and
    1d a 50- or 200-candle EMA still depends on where the loaded history starts after the
    strategy's startup candles, which ``freqtrade recursive-analysis`` flags. The same weights,
    ``alpha = 2 / (period + 1)``, cut at ``period`` candles and normalised, give a value that
    depends on those candles alone.
    """
    alpha = 2.0 / (period + 1)
    weights = (1 - alpha) ** np.arange(period)  # weights[0] for the newest candle
    weights /= weights.sum()
    result = np.full(len(values), np.nan)
    if len(values) >= period:
        windows = np.lib.stride_tricks.sliding_window_view(values, period)
        result[period - 1 :] = windows @ weights[::-1]
    return result


def supertrend(
    high: FloatArray, low: FloatArray, close: FloatArray, period: int = 10, multiplier: float = 3.0
) -> tuple[FloatArray, FloatArray]:
    """Supertrend direction (+1 up, -1 down) and the close's distance to the active band.

    The bands ratchet on their own previous value, so this one indicator needs a loop; it runs
    once per candle and only looks back.
    """
    atr = talib.ATR(high, low, close, period)
    mid = (high + low) / 2
    basic_upper = mid + multiplier * atr
    basic_lower = mid - multiplier * atr
    rows = len(close)
    upper = np.full(rows, np.nan)
    lower = np.full(rows, np.nan)
    direction = np.full(rows, np.nan)
    band = np.full(rows, np.nan)
    started = False
    for i in range(rows):
        if np.isnan(atr[i]) or np.isnan(close[i]):
            started = False
            continue
        if not started:
            upper[i], lower[i], direction[i] = basic_upper[i], basic_lower[i], 1.0
            started = True
        else:
            upper[i] = (
                basic_upper[i]
                if basic_upper[i] < upper[i - 1] or close[i - 1] > upper[i - 1]
                else upper[i - 1]
            )
            lower[i] = (
                basic_lower[i]
                if basic_lower[i] > lower[i - 1] or close[i - 1] < lower[i - 1]
                else lower[i - 1]
            )
            if direction[i - 1] > 0:
                direction[i] = -1.0 if close[i] < lower[i] else 1.0
            else:
                direction[i] = 1.0 if close[i] > upper[i] else -1.0
        band[i] = lower[i] if direction[i] > 0 else upper[i]
    return direction, _safe_divide(close, band) - 1


def momentum_features(candles: pd.DataFrame) -> dict[str, FloatArray]:
    """Oscillators, rescaled to comparable ranges."""
    _, high, low, close, volume = _ohlcv(candles)
    slow_k, slow_d = talib.STOCH(high, low, close, 14, 3, MA_Type.SMA, 3, MA_Type.SMA)
    return {
        "rsi7": talib.RSI(close, 7) / 100,
        "rsi14": talib.RSI(close, 14) / 100,
        "stoch-k": slow_k / 100,
        "stoch-d": slow_d / 100,
        "willr": talib.WILLR(high, low, close, 14) / 100,
        "cci": talib.CCI(high, low, close, 20) / 100,
        "mfi": talib.MFI(high, low, close, volume, 14) / 100,
        "roc12": talib.ROC(close, 12) / 100,
    }


def volatility_features(candles: pd.DataFrame) -> dict[str, FloatArray]:
    """Range and band measures relative to price."""
    _, high, low, close, _ = _ohlcv(candles)
    bb_upper, bb_mid, bb_lower = talib.BBANDS(close, 20, 2.0, 2.0, MA_Type.SMA)
    atr7 = talib.ATR(high, low, close, 7)
    atr14 = talib.ATR(high, low, close, 14)
    kc_mid = talib.EMA(close, 20)
    kc_atr = talib.SMA(talib.TRANGE(high, low, close), 20)  # fixed window, unlike Wilder's ATR
    donchian_high = _rolling(high, 20).max().to_numpy()
    donchian_low = _rolling(low, 20).min().to_numpy()
    return {
        "bb-width": _safe_divide(bb_upper - bb_lower, bb_mid),
        "bb-pct": _safe_divide(close - bb_lower, bb_upper - bb_lower),
        "atr7-pct": _safe_divide(atr7, close),
        "atr14-pct": _safe_divide(atr14, close),
        "atr-ratio": _safe_divide(atr7, atr14),
        "keltner-pos": _safe_divide(close - kc_mid, 2 * kc_atr),
        "keltner-width": _safe_divide(4 * kc_atr, kc_mid),
        "donchian-pos": _safe_divide(close - donchian_low, donchian_high - donchian_low),
        "donchian-width": _safe_divide(donchian_high - donchian_low, close),
    }


def volume_features(candles: pd.DataFrame) -> dict[str, FloatArray]:
    """Participation: is volume confirming the move."""
    _, high, low, close, volume = _ohlcv(candles)
    volume_sum = _rolling(volume, 14).sum().to_numpy()
    obv = talib.OBV(close, volume)
    ad = talib.AD(high, low, close, volume)
    typical = (high + low + close) / 3
    vwap = _safe_divide(
        _rolling(typical * volume, 24).sum().to_numpy(), _rolling(volume, 24).sum().to_numpy()
    )
    return {
        "obv-slope": _safe_divide(obv - np.roll(obv, 14), volume_sum) * _valid_after(len(obv), 14),
        "ad-slope": _safe_divide(ad - np.roll(ad, 14), volume_sum) * _valid_after(len(ad), 14),
        "vwap-dist": _safe_divide(close, vwap) - 1,
        "volume-ratio": _safe_divide(volume, _rolling(volume, 20).mean().to_numpy()),
    }


def _valid_after(rows: int, lag: int) -> FloatArray:
    """1 where a lag-``lag`` difference exists, NaN before (``np.roll`` wraps around)."""
    mask = np.ones(rows)
    mask[: min(lag, rows)] = np.nan
    return mask


def price_action_features(candles: pd.DataFrame) -> dict[str, FloatArray]:
    """Candle shape, swing structure and distance to recent support and resistance."""
    open_, high, low, close, _ = _ohlcv(candles)
    # a candle without range (an outage filled by freqtrade) has no wick rather than NaN
    candle_range = np.where(high > low, high - low, np.inf)
    previous_high = np.concatenate(([np.nan], high[:-1]))
    previous_low = np.concatenate(([np.nan], low[:-1]))
    window_high = _rolling(high, 24).max().to_numpy()
    window_low = _rolling(low, 24).min().to_numpy()
    window_close = close
    pivot = (window_high + window_low + window_close) / 3
    resistance = _rolling(high, 48).max().to_numpy()
    support = _rolling(low, 48).min().to_numpy()
    return {
        "body-pct": _safe_divide(close - open_, open_),
        "upper-wick-ratio": _safe_divide(high - np.maximum(open_, close), candle_range),
        "lower-wick-ratio": _safe_divide(np.minimum(open_, close) - low, candle_range),
        "higher-high": np.where(np.isnan(previous_high), np.nan, (high > previous_high) * 1.0),
        "lower-low": np.where(np.isnan(previous_low), np.nan, (low < previous_low) * 1.0),
        "pivot-dist": _safe_divide(close, pivot) - 1,
        "r1-dist": _safe_divide(close, 2 * pivot - window_low) - 1,
        "s1-dist": _safe_divide(close, 2 * pivot - window_high) - 1,
        "resistance-dist": _safe_divide(close, resistance) - 1,
        "support-dist": _safe_divide(close, support) - 1,
    }


def return_features(candles: pd.DataFrame) -> dict[str, FloatArray]:
    """Log returns over several horizons: the market context when expanded over BTC."""
    close = candles["close"].to_numpy(dtype=np.float64)
    log_close = np.log(close)
    features: dict[str, FloatArray] = {}
    for lag in (1, 4, 24):
        shifted = np.concatenate((np.full(min(lag, len(close)), np.nan), log_close[:-lag]))
        features[f"logret{lag}"] = log_close - shifted[: len(close)]
    return features


FEATURE_FAMILIES: dict[str, FeatureFamily] = {
    "trend": trend_features,
    "momentum": momentum_features,
    "volatility": volatility_features,
    "volume": volume_features,
    "price-action": price_action_features,
    "returns": return_features,
}


def basic_features(
    candles: pd.DataFrame, families: Sequence[str] = tuple(FEATURE_FAMILIES)
) -> pd.DataFrame:
    """All features of the chosen families for one pair and timeframe, indexed like ``candles``."""
    unknown = set(families) - set(FEATURE_FAMILIES)
    if unknown:
        raise ValueError(
            f"Unknown feature families {sorted(unknown)}; known: {sorted(FEATURE_FAMILIES)}"
        )
    columns: dict[str, FloatArray] = {}
    for family in families:
        columns.update(FEATURE_FAMILIES[family](candles))
    return pd.DataFrame(columns, index=candles.index)


def period_features(candles: pd.DataFrame, period: int) -> pd.DataFrame:
    """Features with a free lookback, expanded by FreqAI over ``indicator_periods_candles``."""
    close = candles["close"].to_numpy(dtype=np.float64)
    log_returns = np.diff(np.log(close), prepend=np.nan)
    mean = talib.SMA(close, period)
    std = talib.STDDEV(close, period, 1.0)
    return pd.DataFrame(
        {
            f"roc-period_{period}": talib.ROC(close, period) / 100,
            f"zscore-period_{period}": _safe_divide(close - mean, std),
            f"realized-vol-period_{period}": _rolling(log_returns, period).std().to_numpy(),
        },
        index=candles.index,
    )


def time_features(dates: pd.Series) -> pd.DataFrame:
    """Hour of day and day of week as cyclical pairs (crypto trades round the clock)."""
    hours = dates.dt.hour.to_numpy(dtype=np.float64)
    weekday = dates.dt.dayofweek.to_numpy(dtype=np.float64)
    return pd.DataFrame(
        {
            "hour-sin": np.sin(2 * np.pi * hours / 24),
            "hour-cos": np.cos(2 * np.pi * hours / 24),
            "weekday-sin": np.sin(2 * np.pi * weekday / 7),
            "weekday-cos": np.cos(2 * np.pi * weekday / 7),
        },
        index=dates.index,
    )


def market_context_features(
    candles: pd.DataFrame, market: pd.DataFrame, windows: Sequence[int] = (72, 168)
) -> pd.DataFrame:
    """Rolling correlation and beta of the pair's returns to the market pair (BTC).

    ``market`` is aligned on ``date`` (left join): a market candle that is missing leaves NaN,
    which FreqAI masks, rather than a value borrowed from another hour.
    """
    aligned = candles[["date"]].merge(market[["date", "close"]], on="date", how="left")
    pair_returns = pd.Series(np.log(candles["close"].to_numpy(dtype=np.float64))).diff()
    market_returns = pd.Series(np.log(aligned["close"].to_numpy(dtype=np.float64))).diff()
    features: dict[str, FloatArray] = {}
    for window in windows:
        correlation = pair_returns.rolling(window, min_periods=window).corr(market_returns)
        covariance = pair_returns.rolling(window, min_periods=window).cov(market_returns)
        variance = market_returns.rolling(window, min_periods=window).var()
        features[f"market-corr{window}"] = correlation.to_numpy()
        features[f"market-beta{window}"] = _safe_divide(covariance.to_numpy(), variance.to_numpy())
    relative = pair_returns.rolling(24).sum() - market_returns.rolling(24).sum()
    features["market-relative-ret24"] = relative.to_numpy()
    return pd.DataFrame(features, index=candles.index)

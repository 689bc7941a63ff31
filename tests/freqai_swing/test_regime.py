"""The daily trend gate on real candles: completed days only, no look-ahead."""

from __future__ import annotations

import pandas as pd

from freqai_swing.regime import above_daily_average
from tests.conftest import load_candles


def test_gate_reads_the_last_completed_daily_close() -> None:
    hourly = load_candles("BTC/USDT", "1h")
    daily = load_candles("BTC/USDT", "1d")
    gate = above_daily_average(hourly, daily, "1h", period=50)
    sma = daily["close"].rolling(50).mean()
    above = dict(zip(daily["date"], daily["close"] > sma, strict=True))
    for row in (3000, 7000, 11000):
        moment = hourly["date"].iloc[row]
        completed_day = moment.normalize() - pd.Timedelta(days=1)
        if moment.hour == 23:  # the day closes with this candle
            completed_day += pd.Timedelta(days=1)
        assert bool(gate.iloc[row]) == bool(above[completed_day])
    assert 0.2 < gate.mean() < 0.95, "BTC spent both sides of its 50-day average in 2023-24"


def test_gate_does_not_look_ahead() -> None:
    hourly = load_candles("ETH/USDT", "1h")
    daily = load_candles("ETH/USDT", "1d")
    full = above_daily_average(hourly, daily, "1h", period=200)
    cut_at = pd.Timestamp("2024-02-10 13:00", tz="UTC")
    cut = above_daily_average(
        hourly[hourly["date"] <= cut_at], daily[daily["date"] <= cut_at], "1h", period=200
    )
    pd.testing.assert_series_equal(full.iloc[: len(cut)], cut)


def test_without_daily_history_nothing_is_allowed() -> None:
    hourly = load_candles("ETH/USDT", "1h").iloc[:100]
    assert not above_daily_average(hourly, pd.DataFrame(), "1h").any()
    short_daily = load_candles("ETH/USDT", "1d").iloc[:20]
    assert not above_daily_average(hourly, short_daily, "1h", period=200).any()

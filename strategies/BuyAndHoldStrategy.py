"""Baseline: buy every pair of the whitelist on the first candle and hold to the end (the
backtest closes the positions on its last candle, paying the exit fee)."""

from typing import Any

import pandas as pd
from freqtrade.strategy import IStrategy


class BuyAndHoldStrategy(IStrategy):
    """Equal weight across the whitelist (set ``max_open_trades`` to its length)."""

    INTERFACE_VERSION = 3
    timeframe = "1h"
    can_short = False
    minimal_roi: dict[str, float] = {}
    stoploss = -0.99
    use_exit_signal = False
    startup_candle_count = 0

    def populate_indicators(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any]
    ) -> pd.DataFrame:
        return dataframe

    def populate_entry_trend(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any]
    ) -> pd.DataFrame:
        dataframe["enter_long"] = 1
        return dataframe

    def populate_exit_trend(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any]
    ) -> pd.DataFrame:
        return dataframe

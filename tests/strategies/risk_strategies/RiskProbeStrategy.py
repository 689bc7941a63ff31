"""A deliberately trade-happy strategy that inherits the bundle's risk layer unchanged.

No model: it wants to buy every pair after every rising candle, so that the risk rules, not the
signal, decide which entries happen. Only the tests load it (``--strategy-path``).
"""

from typing import Any

import pandas as pd

from freqai_swing.strategy_base import SwingFreqaiStrategyBase


class RiskProbeStrategy(SwingFreqaiStrategyBase):
    use_exit_signal = False
    # the normal-volatility window (720 candles) has full history from the first candle
    startup_candle_count = 720

    def populate_indicators(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any]
    ) -> pd.DataFrame:
        return dataframe

    def populate_entry_trend(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any]
    ) -> pd.DataFrame:
        rising = dataframe["close"] > dataframe["close"].shift(1)
        dataframe.loc[rising & (dataframe["volume"] > 0), ["enter_long", "enter_tag"]] = (
            1,
            "probe",
        )
        return dataframe

    def populate_exit_trend(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any]
    ) -> pd.DataFrame:
        return dataframe

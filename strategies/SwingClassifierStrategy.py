"""Swing trading on FreqAI classifiers: enter long where the expected edge beats costs.

Run with ``--freqaimodel SwingXGBoostClassifier`` or ``SwingLightGBMClassifier``. Features,
labels and the identifier come from :class:`freqai_swing.strategy_base.SwingFreqaiStrategyBase`;
this file holds the entry and exit rules a user tunes (hyperoptable thresholds); stop, ROI,
trailing and the risk rules are the base's.
"""

from typing import Any

import pandas as pd
from freqtrade.strategy import DecimalParameter

from freqai_swing.signals import SignalThresholds, entry_signal, exit_signal, expected_edge
from freqai_swing.strategy_base import SwingFreqaiStrategyBase


class SwingClassifierStrategy(SwingFreqaiStrategyBase):
    """Long-only spot swing strategy on the ``up`` / ``down`` / ``flat`` probabilities."""

    buy_min_edge = DecimalParameter(0.0, 0.02, default=0.004, decimals=3, space="buy")
    buy_min_up_probability = DecimalParameter(0.34, 0.75, default=0.45, decimals=2, space="buy")
    sell_down_probability = DecimalParameter(0.34, 0.8, default=0.5, decimals=2, space="sell")

    plot_config = {
        "main_plot": {},
        "subplots": {
            "Probabilities": {
                "up": {"color": "#2ca02c"},
                "down": {"color": "#d62728"},
                "flat": {"color": "#7f7f7f"},
            },
            "Edge": {"expected_edge": {"color": "#1f77b4"}},
            "FreqAI": {
                "do_predict": {"color": "#9467bd"},
                "regime_long_ok": {"color": "#ff7f0e"},
            },
        },
    }

    def thresholds(self) -> SignalThresholds:
        return SignalThresholds(
            min_edge=float(self.buy_min_edge.value),
            min_up_probability=float(self.buy_min_up_probability.value),
            exit_down_probability=float(self.sell_down_probability.value),
        )

    def populate_indicators(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any]
    ) -> pd.DataFrame:
        dataframe = self.freqai.start(dataframe, metadata, self)
        for column in self.class_columns():
            if column not in dataframe.columns:
                dataframe[column] = 0.0
        dataframe["expected_edge"] = expected_edge(
            dataframe["up"], dataframe["down"], self.barrier(dataframe), self.round_trip_cost()
        )
        dataframe["regime_long_ok"] = self.regime_allows_longs(dataframe, metadata["pair"])
        return dataframe

    def populate_entry_trend(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any]
    ) -> pd.DataFrame:
        enter = (
            entry_signal(dataframe, self.thresholds(), dataframe["expected_edge"])
            & dataframe["regime_long_ok"]
        )
        dataframe.loc[enter, ["enter_long", "enter_tag"]] = (1, "swing_up")
        return dataframe

    def populate_exit_trend(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any]
    ) -> pd.DataFrame:
        dataframe.loc[exit_signal(dataframe, self.thresholds()), ["exit_long", "exit_tag"]] = (
            1,
            "swing_down",
        )
        return dataframe

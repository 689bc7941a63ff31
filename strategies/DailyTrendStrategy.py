"""No-ML baseline: long while the pair's last completed daily close is above its 200-day
average, flat otherwise. The bar every ML strategy of the bundle has to beat."""

from typing import Any

import pandas as pd
from freqtrade.strategy import IStrategy

from freqai_swing.regime import DAILY, above_daily_average


class DailyTrendStrategy(IStrategy):
    """Equal weight across the whitelist (set ``max_open_trades`` to its length)."""

    INTERFACE_VERSION = 3
    timeframe = "1h"
    can_short = False
    minimal_roi: dict[str, float] = {}
    stoploss = -0.99
    use_exit_signal = True
    process_only_new_candles = True
    startup_candle_count = 24 * 201  # 200 completed daily candles on the 1h base
    period_days = 200

    def informative_pairs(self) -> list[tuple[str, str]]:
        return [(pair, DAILY) for pair in self.dp.current_whitelist()]

    def populate_indicators(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any]
    ) -> pd.DataFrame:
        daily = self.dp.get_pair_dataframe(pair=metadata["pair"], timeframe=DAILY)
        dataframe["above_daily_average"] = above_daily_average(
            dataframe, daily, self.timeframe, self.period_days
        )
        return dataframe

    def populate_entry_trend(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any]
    ) -> pd.DataFrame:
        dataframe.loc[dataframe["above_daily_average"], ["enter_long", "enter_tag"]] = (1, "trend")
        return dataframe

    def populate_exit_trend(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any]
    ) -> pd.DataFrame:
        dataframe.loc[~dataframe["above_daily_average"], ["exit_long", "exit_tag"]] = (1, "trend")
        return dataframe

"""Trading the PPO agent's actions with Freqtrade orders (``strategies/SwingRLStrategy.py``).

Each pair has one capital slot: the total stake divided by ``max_open_trades``. The agent's
action on the last closed candle becomes:

* ``buy_small`` / ``buy_medium`` / ``buy_large`` while flat: a new trade whose first order is 25 /
  50 / 75 % of the slot (:meth:`custom_stake_amount`);
* the same while in a trade: an extra entry order of that share, capped so that the position
  never exceeds the slot (:meth:`adjust_trade_position`, positive stake);
* ``sell_small`` / ``sell_medium``: a partial exit of 25 / 50 % of the position (negative
  stake);
* ``sell_all``: the exit signal.

The strategy's stop loss and ROI still apply on top, entries and increases need the daily trend
gate (``swing.regime_filter``) and a valid prediction (``do_predict`` 1).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import pandas as pd
from freqtrade.exceptions import OperationalException
from freqtrade.exchange import timeframe_to_next_date
from freqtrade.persistence import Trade

from freqai_swing.models.ppo.environment import BUY_FRACTIONS, SELL_FRACTIONS, SwingActions
from freqai_swing.models.ppo.freqai_model import ACTION_COLUMN
from freqai_swing.models.ppo.settings import load_rl_settings
from freqai_swing.settings import SwingConfigError
from freqai_swing.strategy_base import SwingFreqaiStrategyBase, _replace_columns

logger = logging.getLogger(__name__)

#: Increases smaller than this share of the slot are skipped (fee-eating dust orders).
MIN_ORDER_SHARE = 0.05
_ACTION_NAMES = {action.value: action.name for action in SwingActions}
_NAME_TO_FRACTION = {_ACTION_NAMES[index]: share for index, share in BUY_FRACTIONS.items()}


class SwingRLStrategyBase(SwingFreqaiStrategyBase):
    """Long-only spot trading of the 7-action agent with partial entries and exits."""

    position_adjustment_enable = True
    minimal_roi = {"0": 0.2}
    stoploss = -0.08
    trailing_stop = False

    plot_config = {
        "main_plot": {},
        "subplots": {
            "Agent": {ACTION_COLUMN: {"color": "#1f77b4", "type": "bar"}},
            "FreqAI": {
                "do_predict": {"color": "#9467bd"},
                "regime_long_ok": {"color": "#ff7f0e"},
            },
        },
    }

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        # Refuse a bad rl_config at start-up, before candles load and FreqAI starts the model.
        try:
            load_rl_settings(config.get("freqai", {}).get("rl_config"))
        except SwingConfigError as error:
            raise OperationalException(f"SwingRLStrategy: {error}") from None

    # --- FreqAI hooks -----------------------------------------------------------------------
    def feature_engineering_standard(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any], **kwargs: Any
    ) -> pd.DataFrame:
        """The base features plus the raw prices FreqAI's RL framework builds its env from."""
        dataframe = super().feature_engineering_standard(dataframe, metadata, **kwargs)
        raw = dataframe[["open", "high", "low", "close"]].add_prefix("%-raw_")
        return _replace_columns(dataframe, raw)

    def set_freqai_targets(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any], **kwargs: Any
    ) -> pd.DataFrame:
        """RL has no label; FreqAI still needs its action column as the target."""
        return _replace_columns(dataframe, pd.DataFrame({ACTION_COLUMN: 0}, index=dataframe.index))

    # --- signals --------------------------------------------------------------------------
    def populate_indicators(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any]
    ) -> pd.DataFrame:
        dataframe = self.freqai.start(dataframe, metadata, self)
        if ACTION_COLUMN not in dataframe.columns:
            dataframe[ACTION_COLUMN] = 0.0
        dataframe["regime_long_ok"] = self.regime_allows_longs(dataframe, metadata["pair"])
        return dataframe

    @staticmethod
    def _valid(dataframe: pd.DataFrame) -> pd.Series:
        return dataframe["do_predict"] == 1 if "do_predict" in dataframe else dataframe.index >= 0

    def populate_entry_trend(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any]
    ) -> pd.DataFrame:
        action = dataframe[ACTION_COLUMN].round()
        allowed = self._valid(dataframe) & dataframe["regime_long_ok"]
        for index, name in _ACTION_NAMES.items():
            if index in BUY_FRACTIONS:
                dataframe.loc[allowed & (action == index), ["enter_long", "enter_tag"]] = (1, name)
        return dataframe

    def populate_exit_trend(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any]
    ) -> pd.DataFrame:
        sell_all = self._valid(dataframe) & (
            dataframe[ACTION_COLUMN].round() == SwingActions.sell_all.value
        )
        dataframe.loc[sell_all, ["exit_long", "exit_tag"]] = (1, SwingActions.sell_all.name)
        return dataframe

    # --- position sizing ------------------------------------------------------------------
    def slot_capital(self, fallback: float) -> float:
        """The capital one pair may use: total stake / ``max_open_trades``."""
        slots = self.config.get("max_open_trades", -1)
        if self.wallets is None or not isinstance(slots, int | float) or slots <= 0:
            return fallback
        return float(self.wallets.get_total_stake_amount()) / float(slots)

    def custom_stake_amount(
        self,
        pair: str,
        current_time: datetime,
        current_rate: float,
        proposed_stake: float,
        min_stake: float | None,
        max_stake: float,
        leverage: float,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> float:
        """First order: the buy's share of the pair's slot, within the risk layer's stake (Kelly
        sizing, stake and exposure caps, volatility halving; 0 skips the entry)."""
        share = _NAME_TO_FRACTION.get(entry_tag or "", 1.0)
        desired = min(share * self.slot_capital(proposed_stake), max_stake)
        allowed = super().custom_stake_amount(
            pair,
            current_time,
            current_rate,
            desired,
            min_stake,
            max_stake,
            leverage,
            entry_tag,
            side,
            **kwargs,
        )
        return min(desired, allowed)

    def _last_candle(self, pair: str) -> pd.Series | None:
        dataframe, _ = self.dp.get_analyzed_dataframe(pair, self.timeframe)
        if dataframe is None or dataframe.empty:
            return None
        return dataframe.iloc[-1]

    def adjust_trade_position(
        self,
        trade: Trade,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        min_stake: float | None,
        max_stake: float,
        current_entry_rate: float,
        current_exit_rate: float,
        current_entry_profit: float,
        current_exit_profit: float,
        **kwargs: Any,
    ) -> float | tuple[float | None, str | None] | None:
        """Increase on a buy, partly exit on ``sell_small`` / ``sell_medium``, once per candle."""
        candle = self._last_candle(trade.pair)
        if candle is None or (("do_predict" in candle) and candle["do_predict"] != 1):
            return None
        candle_close = timeframe_to_next_date(self.timeframe, candle["date"])
        if trade.orders and max(order.order_date_utc for order in trade.orders) >= candle_close:
            return None  # this candle's action was already traded (e.g. it opened the trade)
        action = round(float(candle[ACTION_COLUMN]))
        name = _ACTION_NAMES.get(action, "")
        if action in BUY_FRACTIONS and bool(candle.get("regime_long_ok", True)):
            slot = self.slot_capital(max_stake)
            # As in the environment, "fully invested" means the slot's cash is spent: the room
            # is what the position cost so far, not its marked value (no top-ups after a dip).
            room = slot - trade.stake_amount
            stake = min(BUY_FRACTIONS[action] * slot, room, max_stake)
            risk_room = self.position_increase_room(trade, current_time)
            if risk_room is not None:
                stake = min(stake, risk_room)
            if stake < MIN_ORDER_SHARE * slot or (min_stake is not None and stake < min_stake):
                return None
            return stake, name
        if action in SELL_FRACTIONS and action != SwingActions.sell_all.value:
            # Freqtrade sells amount x |stake| / trade.stake_amount: this share of the coins.
            return -SELL_FRACTIONS[action] * trade.stake_amount, name
        return None

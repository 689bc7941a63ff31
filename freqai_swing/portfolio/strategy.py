"""The portfolio strategy's Freqtrade side: columns, entries and exits, sizing, rebalancing.

Every 1h row gets the pair's trend score, its sizing volatility, the regime gate and its raw
weight (:mod:`.signals`, :mod:`.weights`), all from closed candles. Orders happen only after a
decision row (the 23:00 candle for daily decisions):

* a pair whose raw weight turns positive is entered (``populate_entry_trend``) with the
  portfolio's target stake (``custom_stake_amount``);
* an open position is traded back to its target when it has drifted outside the rebalancing
  band (``adjust_trade_position``: additions, and partial exits with a negative stake);
* a pair whose weight drops to 0 is exited (``populate_exit_trend``).

The book step (position cap, volatility target from the covariance of the held pairs,
exposure cap) is computed in ``populate_indicators`` from the daily bars of the whole universe
(:mod:`.book`), merged onto the 1h rows by date: each pair's ``target_weight`` column is
final, and no order reads another pair's analysed frame.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from freqtrade.persistence import PairLocks, Trade

from freqai_swing.portfolio.book import Book, book_targets, pair_inputs, pair_share, regime_gate
from freqai_swing.portfolio.labels import (
    forward_log_volatility,
    meta_labels,
    volatility_features,
)
from freqai_swing.portfolio.rebalance import partial_exit_stake, rebalance_stake
from freqai_swing.portfolio.settings import PortfolioSettings
from freqai_swing.portfolio.signals import is_decision_row, on_hourly_rows
from freqai_swing.portfolio.weights import raw_weight
from freqai_swing.risk import exposure_room
from freqai_swing.risk_strategy import fired
from freqai_swing.strategy_base import (
    SwingFreqaiStrategyBase,
    _replace_columns,
    _with_features,
)

logger = logging.getLogger(__name__)

#: FreqAI's columns for the model's two outputs (``SwingPortfolioModel``).
VOLATILITY_TARGET = "&-log_volatility"
META_TARGET = "&-meta_label"


class PortfolioStrategyBase(SwingFreqaiStrategyBase):
    """Long-only, volatility-targeted trend portfolio over the whole whitelist."""

    position_adjustment_enable = True
    max_entry_position_adjustment = -1
    minimal_roi: dict[str, float] = {}  # noqa: RUF012 - Freqtrade reads the class attribute
    stoploss = -0.99  # the portfolio sizes risk by volatility, not with a stop
    trailing_stop = False
    use_exit_signal = True
    exit_profit_only = False

    plot_config = {  # noqa: RUF012
        "main_plot": {},
        "subplots": {
            "Weight": {
                "target_weight": {"color": "#1f77b4"},
                "raw_weight": {"color": "#aec7e8"},
            },
            "Volatility": {
                "trailing_volatility": {"color": "#7f7f7f"},
                "forecast_volatility": {"color": "#d62728"},
            },
            "Signals": {
                "trend_score": {"color": "#2ca02c"},
                "regime_on": {"color": "#ff7f0e"},
                "meta_probability": {"color": "#9467bd"},
                "do_predict": {"color": "#8c564b"},
            },
        },
    }

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.portfolio: PortfolioSettings = self.swing.portfolio
        self.startup_candle_count = 24 * (self.portfolio.history_days + 1)
        self._book: tuple[tuple[Any, ...], Book | None] = ((), None)
        self.plot_config = self._written_plot_config()

    @property
    def universe(self) -> list[str]:
        """The pairs the book is made of: ``swing.portfolio.universe``, else the whitelist."""
        listed = self.portfolio.universe or self.config["exchange"]["pair_whitelist"]
        return list(dict.fromkeys(listed))

    @property
    def models_decide(self) -> bool:
        """FreqAI runs only when an ML part takes part in the decision."""
        return bool(self.config.get("freqai", {}).get("enabled")) and self.portfolio.uses_model

    def _written_plot_config(self) -> dict[str, Any]:
        """The class's ``plot_config`` less the columns of ML parts that are off: those are
        never written, and FreqUI would draw their lines (or a whole subplot) empty."""
        decide = self.models_decide
        unwritten = {
            column
            for column, written in (
                ("forecast_volatility", decide and self.portfolio.volatility_forecast),
                ("meta_probability", decide and self.portfolio.meta_filter),
                ("do_predict", decide),
            )
            if not written
        }
        subplots = {
            name: {column: style for column, style in lines.items() if column not in unwritten}
            for name, lines in self.plot_config["subplots"].items()
        }
        return {
            "main_plot": dict(self.plot_config["main_plot"]),
            "subplots": {name: lines for name, lines in subplots.items() if lines},
        }

    def informative_pairs(self) -> list[tuple[str, str]]:
        pairs = dict.fromkeys([*self.universe, self.portfolio.regime_pair])
        return [(pair, self.timeframe) for pair in pairs]

    # --- FreqAI hooks: the model's features and labels ---------------------------------
    def feature_engineering_expand_all(
        self, dataframe: pd.DataFrame, period: int, metadata: dict[str, Any], **kwargs: Any
    ) -> pd.DataFrame:
        return dataframe

    def feature_engineering_expand_basic(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any], **kwargs: Any
    ) -> pd.DataFrame:
        """Realised volatility at three scales, range, volume, returns (and BTC's, through
        FreqAI's ``include_corr_pairlist``)."""
        return _with_features(dataframe, volatility_features(dataframe))

    def feature_engineering_standard(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any], **kwargs: Any
    ) -> pd.DataFrame:
        return dataframe

    def set_freqai_targets(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any], **kwargs: Any
    ) -> pd.DataFrame:
        """Next day's log volatility and the meta-label; NaN past the data and across gaps."""
        hours = self.portfolio.meta_horizon_days * 24
        labels = pd.DataFrame(
            {
                VOLATILITY_TARGET: forward_log_volatility(dataframe),
                META_TARGET: meta_labels(dataframe, hours, self.round_trip_cost()),
            },
            index=dataframe.index,
        )
        return _replace_columns(dataframe, labels)

    # --- columns --------------------------------------------------------------------------
    def book(self) -> Book:
        """The universe's book from the candles the data provider holds (cached until they
        change: a backtest computes it once for all pairs, a live bot once per new candle)."""
        frames = {
            pair: self.dp.get_pair_dataframe(pair=pair, timeframe=self.timeframe)
            for pair in dict.fromkeys([*self.universe, self.portfolio.regime_pair])
        }
        key = tuple(
            (pair, len(frame), frame["date"].iloc[-1] if len(frame) else None)
            for pair, frame in frames.items()
        )
        if self._book[0] != key or self._book[1] is None:
            settings = self.portfolio
            inputs = {
                pair: pair_inputs(frames[pair], settings)
                for pair in self.universe
                if not frames[pair].empty
            }
            market = frames[settings.regime_pair]
            gate = (
                regime_gate(market, settings)
                if not market.empty
                else pd.Series(False, index=pd.DatetimeIndex([], tz="UTC"))
            )
            book = book_targets(
                inputs,
                gate,
                settings,
                max_position=float(self.risk_max_stake_fraction.value),
                max_exposure=self.risk.max_exposure,
            )
            self._book = (key, book)
        assert self._book[1] is not None
        return self._book[1]

    def populate_indicators(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any]
    ) -> pd.DataFrame:
        settings = self.portfolio
        pair = metadata["pair"]
        own = pair_inputs(dataframe, settings)
        book = self.book()
        daily = pd.DataFrame(
            {"trend_score": own["score"], "trailing_volatility": own["volatility"]}
        )
        dataframe[list(daily.columns)] = on_hourly_rows(dataframe, daily, self.timeframe)
        context = pd.DataFrame({"regime_on": book.gate.astype(float), "book_scale": book.scale})
        dataframe[list(context.columns)] = on_hourly_rows(dataframe, context, self.timeframe)
        volatility = dataframe["trailing_volatility"]
        meta = None
        if self.models_decide:
            dataframe = self.freqai.start(dataframe, metadata, self)
            fresh = dataframe["do_predict"].eq(1)
            if settings.volatility_forecast:
                forecast = np.exp(dataframe[VOLATILITY_TARGET])
                dataframe["forecast_volatility"] = forecast.where(fresh)
                volatility = dataframe["forecast_volatility"]
            if settings.meta_filter:
                dataframe["meta_probability"] = dataframe[META_TARGET].clip(0, 1).where(fresh)
                meta = dataframe["meta_probability"]
        # the pair alone; the book's share (1/sqrt(n), cap) and scale turn it into the target
        dataframe["raw_weight"] = raw_weight(
            dataframe["trend_score"], volatility, dataframe["regime_on"].eq(1.0), 1, settings, meta
        )
        share = pair_share(
            dataframe["raw_weight"], len(self.universe), float(self.risk_max_stake_fraction.value)
        )
        dataframe["target_weight"] = (share * dataframe["book_scale"]).fillna(0.0)
        if pair not in self.universe:
            dataframe["target_weight"] = 0.0
        dataframe["decision"] = is_decision_row(dataframe["date"], settings.decision_hours)
        return dataframe

    def populate_entry_trend(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any]
    ) -> pd.DataFrame:
        enter = dataframe["decision"] & (dataframe["target_weight"] > 0)
        dataframe.loc[enter, ["enter_long", "enter_tag"]] = (1, "trend")
        return dataframe

    def populate_exit_trend(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any]
    ) -> pd.DataFrame:
        leave = dataframe["decision"] & (dataframe["target_weight"] <= 0)
        dataframe.loc[leave, ["exit_long", "exit_tag"]] = (1, "trend_off")
        return dataframe

    # --- orders ---------------------------------------------------------------------------
    def current_target(self, pair: str, current_time: datetime) -> float | None:
        """The pair's target share of equity from its last closed candle; ``None`` when that
        candle is missing or stale (no order then)."""
        frame, _ = self.dp.get_analyzed_dataframe(pair, self.timeframe)
        if frame.empty or "target_weight" not in frame.columns:
            return None
        last = frame.iloc[-1]
        if current_time - last["date"].to_pydatetime() > timedelta(hours=2):
            return None
        return float(last["target_weight"])

    def portfolio_equity(self) -> float:
        """Free stake currency plus every open position at its latest close."""
        equity = float(self.wallets.get_free(self.config["stake_currency"]))
        for trade in Trade.get_trades_proxy(is_open=True):
            frame, _ = self.dp.get_analyzed_dataframe(trade.pair, self.timeframe)
            price = float(frame["close"].iloc[-1]) if not frame.empty else trade.open_rate
            equity += float(trade.amount) * price
        return equity

    # --- Freqtrade callbacks --------------------------------------------------------------
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
        target = self.current_target(pair, current_time) or 0.0
        equity = self.portfolio_equity()
        stake = target * equity
        if self.risk.enabled:
            room = self._exposure_room(equity)
            if stake > room:
                fired("exposure", current_time, "%s stake %.2f cut to %.2f", pair, stake, room)
                stake = room
        stake = min(stake, max_stake)
        if stake < self.portfolio.min_order_fraction * equity or (
            min_stake is not None and stake < min_stake
        ):
            return 0.0
        return stake

    def _exposure_room(self, equity: float) -> float:
        return exposure_room(equity, float(Trade.total_open_trades_stakes()), self.risk)

    def _uncorrelated_with_open_trades(self, pair: str, current_time: datetime) -> bool:
        """The portfolio's covariance-based volatility target replaces the 0.7 correlation
        rule (docs/risk.md): co-moving pairs share one risk budget there."""
        return True

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
    ) -> float | None | tuple[float | None, str | None]:
        if current_time.hour % self.portfolio.decision_hours != 0 or trade.has_open_orders:
            return None  # only in the hour after a decision row closed
        frame, _ = self.dp.get_analyzed_dataframe(trade.pair, self.timeframe)
        if frame.empty or not bool(frame["decision"].iloc[-1]):
            return None
        target = self.current_target(trade.pair, current_time)
        if target is None or target <= 0:
            return None  # the exit signal closes the whole position
        equity = self.portfolio_equity()
        value = float(trade.amount) * current_rate
        stake = rebalance_stake(
            value,
            target * equity,
            equity,
            self.portfolio.rebalance_band,
            self.portfolio.min_order_fraction,
        )
        if stake > 0:
            return self._addition(trade, stake, equity, current_time, min_stake, max_stake)
        if stake < 0:
            sold = min(-stake, value)
            if min_stake is not None and (sold < min_stake or value - sold < min_stake):
                return None
            return (
                partial_exit_stake(sold, value, float(trade.stake_amount)),
                "rebalance_down",
            )
        return None

    def _addition(
        self,
        trade: Trade,
        stake: float,
        equity: float,
        current_time: datetime,
        min_stake: float | None,
        max_stake: float,
    ) -> tuple[float, str] | None:
        if self.risk.enabled:
            if PairLocks.is_pair_locked(trade.pair, current_time, "long"):
                return None  # a pause stops additions as it stops entries
            stake = min(stake, self._exposure_room(equity))
        stake = min(stake, max_stake)
        if stake <= 0 or (min_stake is not None and stake < min_stake):
            return None
        return stake, "rebalance_up"

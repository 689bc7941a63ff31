"""FreqAI plumbing shared by the bundle's strategies: features, targets, identifier.

Each hook hands the dataframe to a pure function of :mod:`freqai_swing.features` or
:mod:`freqai_swing.labels`, so the strategy, the tests and the tools compute the same numbers.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Any

import pandas as pd
from freqtrade.enums import RunMode
from freqtrade.exceptions import OperationalException

from freqai_swing.features import (
    basic_features,
    market_context_features,
    period_features,
    time_features,
)
from freqai_swing.labels import CLASS_ORDER, barrier_widths, triple_barrier_labels
from freqai_swing.notifications import OperationsNotifier, send_operations_messages
from freqai_swing.regime import DAILY, above_daily_average
from freqai_swing.risk_strategy import RiskManagedStrategy
from freqai_swing.settings import (
    SwingConfigError,
    candle_fingerprint,
    load_swing_settings,
    settings_fingerprint,
)

logger = logging.getLogger(__name__)

#: FreqAI target column: the triple-barrier class of each candle.
TARGET_COLUMN = "&-swing_class"
DEFAULT_ROUND_TRIP_COST = 2 * 0.0015


def _replace_columns(dataframe: pd.DataFrame, columns: pd.DataFrame) -> pd.DataFrame:
    """``dataframe`` with ``columns`` set like an assignment, in one concat.

    FreqAI hands the hooks a frame fragmented by hundreds of columns (column inserts warn and
    slow down), and sometimes one that already holds these columns (when a backtest mixes
    reused and fresh windows); a plain concat would then duplicate them and FreqAI would refuse
    the run for a changed feature list.
    """
    return pd.concat([dataframe.drop(columns=columns.columns, errors="ignore"), columns], axis=1)


def _with_features(dataframe: pd.DataFrame, *families: pd.DataFrame) -> pd.DataFrame:
    """Add the families to ``dataframe`` as FreqAI ``%-`` features."""
    return _replace_columns(dataframe, pd.concat([f.add_prefix("%-") for f in families], axis=1))


def apply_identifier(config: dict[str, Any]) -> str:
    """Suffix ``freqai.identifier`` with the settings' fingerprint, once.

    FreqAI reuses saved models and backtest predictions whenever the identifier matches and
    only compares the feature list; deriving the identifier from every setting that shapes a
    model (and, in backtests, from the candle files) makes a changed label, parameter, code
    version or candle file start a fresh model folder.
    """
    freqai = config.get("freqai", {})
    if not freqai.get("enabled", False):
        return ""
    if config.get("runmode") == RunMode.UTIL_NO_EXCHANGE:
        # lookahead- and recursive-analysis (the only FreqAI runs in this mode) delete
        # models/<identifier> before each of their backtests so that none reuses another's
        # predictions; a suffixed identifier would escape that purge.
        return str(freqai.get("identifier", ""))
    fingerprint = settings_fingerprint(config)
    if config.get("runmode") in (RunMode.BACKTEST, RunMode.HYPEROPT):
        # A backtest's predictions also depend on its candles (live runs read the exchange's
        # and retrain on their own schedule, so their identifier stays put).
        candles = candle_fingerprint(config)
        fingerprint = hashlib.sha256(f"{fingerprint}-{candles}".encode()).hexdigest()[:8]
    identifier = str(freqai.get("identifier", "swing"))
    if not identifier.endswith(f"-{fingerprint}"):
        identifier = f"{identifier}-{fingerprint}"
        freqai["identifier"] = identifier
        logger.info("FreqAI identifier derived from the settings: %s", identifier)
    return identifier


class SwingFreqaiStrategyBase(RiskManagedStrategy):
    """Base for the bundle's FreqAI strategies (spot, long only, 1h with 4h/1d context).

    Risk rules (``swing.risk``, docs/risk.md) come from :class:`RiskManagedStrategy`; the
    seed's exits are Freqtrade's own: 3 % stop, 6 % ROI, 2 % trailing once 3 % up.
    """

    INTERFACE_VERSION = 3
    timeframe = "1h"
    can_short = False
    process_only_new_candles = True
    use_exit_signal = True
    # The longest lookback of any feature (SMA/EMA 200) on any included timeframe.
    startup_candle_count = 200

    minimal_roi = {"0": 0.06}
    stoploss = -0.03
    trailing_stop = True
    trailing_stop_positive = 0.02
    trailing_stop_positive_offset = 0.03
    trailing_only_offset_is_reached = True

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        try:
            self.swing = load_swing_settings(config)
        except SwingConfigError as error:
            raise OperationalException(str(error)) from None
        self.init_risk(self.swing.risk)
        apply_identifier(config)

    def bot_loop_start(self, current_time: datetime, **kwargs: Any) -> None:
        """The risk layer's pauses, then (dry and live runs) the bundle's operator messages."""
        super().bot_loop_start(current_time, **kwargs)
        if self.dp is None or self.dp.runmode not in (RunMode.DRY_RUN, RunMode.LIVE):
            return
        if not hasattr(self, "_notifier"):
            self._notifier = OperationsNotifier()
        try:
            send_operations_messages(self, self._notifier, current_time)
        except Exception:  # a message must never stop trading
            logger.exception("freqai-swing: operator messages failed")

    # --- FreqAI feature hooks -------------------------------------------------------------
    def feature_engineering_expand_all(
        self, dataframe: pd.DataFrame, period: int, metadata: dict[str, Any], **kwargs: Any
    ) -> pd.DataFrame:
        """Lookback-parametrised features, expanded over ``indicator_periods_candles``."""
        return _with_features(dataframe, period_features(dataframe, period))

    def feature_engineering_expand_basic(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any], **kwargs: Any
    ) -> pd.DataFrame:
        """The six families, expanded by FreqAI over timeframes and the market pair."""
        return _with_features(dataframe, basic_features(dataframe, self.swing.feature_families))

    def feature_engineering_standard(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any], **kwargs: Any
    ) -> pd.DataFrame:
        """Calendar features and the pair's correlation and beta to the market pair."""
        parts = [time_features(dataframe["date"])]
        market_pair = self.swing.market_pair
        if metadata.get("pair") != market_pair:
            market = self.dp.get_pair_dataframe(pair=market_pair, timeframe=self.timeframe)
            if market.empty:
                raise OperationalException(
                    f"No {self.timeframe} candles for the market pair {market_pair}: "
                    f"download them (freqtrade download-data --pairs {market_pair})."
                )
            parts.append(market_context_features(dataframe, market))
        return _with_features(dataframe, *parts)

    def set_freqai_targets(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any], **kwargs: Any
    ) -> pd.DataFrame:
        """Triple-barrier class; NaN where the horizon is incomplete or crosses a gap."""
        labels = triple_barrier_labels(dataframe, self.swing.labels, timeframe=self.timeframe)
        return _replace_columns(dataframe, labels.rename(TARGET_COLUMN).to_frame())

    # --- helpers for the strategies -------------------------------------------------------
    def round_trip_cost(self) -> float:
        """Fee and slippage paid on entry and exit, from the config's ``fee`` when set."""
        fee = self.config.get("fee")
        return 2 * float(fee) if fee is not None else DEFAULT_ROUND_TRIP_COST

    def barrier(self, dataframe: pd.DataFrame) -> pd.Series:
        """Per-candle barrier x of the label, from the candle and the past only."""
        return pd.Series(barrier_widths(dataframe, self.swing.labels), index=dataframe.index)

    def regime_allows_longs(self, dataframe: pd.DataFrame, pair: str) -> pd.Series:
        """The daily trend gate of ``swing.regime_filter`` (all True when disabled)."""
        regime = self.swing.regime_filter
        if not regime.enabled:
            return pd.Series(True, index=dataframe.index)
        pairs = [pair, self.swing.market_pair] if regime.require_market else [pair]
        allowed = pd.Series(True, index=dataframe.index)
        for gate_pair in dict.fromkeys(pairs):
            daily = self.dp.get_pair_dataframe(pair=gate_pair, timeframe=DAILY)
            allowed &= above_daily_average(dataframe, daily, self.timeframe, regime.period_days)
        return allowed

    @staticmethod
    def class_columns() -> tuple[str, ...]:
        return CLASS_ORDER

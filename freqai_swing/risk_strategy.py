"""The risk rules of :mod:`freqai_swing.risk`, wired into Freqtrade's strategy callbacks.

Freqtrade enforces the outcome the same way in backtesting, dry-run and live:

* ``custom_stake_amount`` sizes each entry (Kelly, volatility, cap, exposure, exchange minimum;
  0 skips the entry);
* ``confirm_trade_entry`` refuses an entry (trades per day, correlation, spread);
* pauses (daily loss, losing streak, drawdown) are Freqtrade pair locks on ``"*"``, the store
  its own protections write to: Freqtrade checks them before any entry, shows them in
  ``/locks`` and FreqUI, keeps them across restarts (database) and lists them in a backtest's
  results.

Each firing logs one line starting with ``Risk rule <name>`` so a run's log can be counted.
Strategies that override ``bot_loop_start``, ``custom_stake_amount`` or
``confirm_trade_entry`` must call ``super()``.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime, timedelta
from typing import Any

from freqtrade.enums import RunMode
from freqtrade.persistence import PairLocks, Trade
from freqtrade.strategy import DecimalParameter, IStrategy

from freqai_swing.risk import (
    RiskSettings,
    daily_loss_ratio,
    exposure_room,
    losing_streak,
    realized_drawdown,
    recent_profit_ratios,
    return_correlation,
    spread_ratio,
    stake_fraction,
    utc_day_start,
    volatility_state,
)
from freqai_swing.trades import ClosedTrade, database_closed_trades

logger = logging.getLogger(__name__)

LOCK_DAILY_LOSS = "risk:daily-loss"
LOCK_TRADES_PER_DAY = "risk:trades-per-day"
LOCK_CONSECUTIVE_LOSSES = "risk:consecutive-losses"
LOCK_DRAWDOWN = "risk:drawdown"


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _lock_until(moment: datetime) -> datetime:
    """The ``until`` that makes a Freqtrade lock end exactly at ``moment``.

    PairLocks rounds ``until`` up to the *next* candle even when it already is a candle
    boundary, so one second less ends the lock at ``moment`` itself (e.g. midnight UTC).
    """
    return moment - timedelta(seconds=1)


def fired(rule: str, current_time: datetime, message: str, *args: Any) -> None:
    """One countable log line per firing, stamped with the candle time (backtests log the
    wall clock)."""
    logger.info(f"Risk rule {rule} fired at {current_time:%Y-%m-%d %H:%M}: {message}", *args)


class RiskManagedStrategy(IStrategy):
    """Risk hooks for the bundle's strategies; settings come from ``swing.risk``.

    The subclass sets ``self.risk`` (a :class:`RiskSettings`) in its ``__init__`` and calls
    :meth:`init_risk`.
    """

    risk: RiskSettings = RiskSettings()

    # Hyperoptable in the "risk" space; the config block sets their values (``risk_params``).
    risk_kelly_fraction = DecimalParameter(0.05, 1.0, default=0.25, decimals=2, space="risk")
    risk_max_stake_fraction = DecimalParameter(0.05, 0.5, default=0.2, decimals=2, space="risk")

    def init_risk(self, settings: RiskSettings) -> None:
        self.risk = settings
        # Freqtrade's precedence: a strategy parameter file, then ``<space>_params``, then the
        # parameter's default; hyperopt replaces the value with its own samples.
        self.risk_params = {
            "risk_kelly_fraction": settings.kelly_fraction,
            "risk_max_stake_fraction": settings.max_stake_fraction,
        }
        self._risk_seen_closed: tuple[int, datetime | None] = (-1, None)

    # --- state read from Freqtrade --------------------------------------------------------
    @staticmethod
    def closed_trades() -> list[ClosedTrade]:
        return database_closed_trades()

    def equity(self) -> float | None:
        """Open stakes at cost plus the free stake currency (realized equity)."""
        if self.wallets is None:
            return None
        free = self.wallets.get_free(self.config["stake_currency"])
        return float(Trade.total_open_trades_stakes()) + float(free)

    @staticmethod
    def _last_lock_time(prefix: str) -> datetime | None:
        times = [
            _utc(lock.lock_time)
            for lock in PairLocks.get_all_locks()
            if lock.reason and lock.reason.startswith(prefix)
        ]
        return max(times, default=None)

    @staticmethod
    def _active(prefix: str, now: datetime) -> bool:
        return any(
            lock.reason and lock.reason.startswith(prefix)
            for lock in PairLocks.get_pair_locks("*", now)
        )

    def _lock_all(
        self, prefix: str, detail: str, until: datetime, since: datetime, now: datetime
    ) -> None:
        PairLocks.lock_pair("*", _lock_until(until), f"{prefix} {detail}", now=since)
        fired(prefix.split(":")[1], now, "%s; no entries until %s", detail, until)

    # --- pauses: pair locks on "*" --------------------------------------------------------
    def update_risk_locks(self, current_time: datetime) -> None:
        """Place the pauses a newly closed trade calls for (daily loss, streak, drawdown)."""
        closed = self.closed_trades()
        newest = max((trade.close_date for trade in closed), default=None)
        if (len(closed), newest) == self._risk_seen_closed or newest is None:
            return
        self._risk_seen_closed = (len(closed), newest)
        equity = self.equity()
        if equity is None:
            return
        settings = self.risk

        streak = losing_streak(closed, self._last_lock_time(LOCK_CONSECUTIVE_LOSSES))
        if len(streak) >= settings.max_consecutive_losses:
            last = streak[-1].close_date
            until = last + timedelta(hours=settings.consecutive_loss_pause_hours)
            if until > current_time:
                self._lock_all(
                    LOCK_CONSECUTIVE_LOSSES,
                    f"{len(streak)} losing trades in a row",
                    until,
                    last,
                    current_time,
                )

        drawdown = realized_drawdown(closed, equity, self._last_lock_time(LOCK_DRAWDOWN))
        if drawdown.ratio >= settings.max_drawdown:
            until = newest + timedelta(days=settings.drawdown_pause_days)
            if until > current_time:
                self._lock_all(
                    LOCK_DRAWDOWN,
                    f"drawdown {drawdown.ratio:.2%} from the equity peak {drawdown.peak:.2f}",
                    until,
                    newest,
                    current_time,
                )

        loss = daily_loss_ratio(closed, current_time, equity)
        if loss >= settings.daily_loss_limit and not self._active(LOCK_DAILY_LOSS, current_time):
            until = utc_day_start(current_time) + timedelta(days=1)
            detail = f"daily loss {loss:.2%} of equity"
            self._lock_all(LOCK_DAILY_LOSS, detail, until, newest, current_time)

    def bot_loop_start(self, current_time: datetime, **kwargs: Any) -> None:
        if self.risk.enabled:
            self.update_risk_locks(current_time)

    # --- sizing ---------------------------------------------------------------------------
    def position_increase_room(self, trade: Trade, current_time: datetime) -> float | None:
        """Stake currency an open position may still add under the stake cap and the exposure
        cap; ``None`` when the risk layer is off or the wallet is unknown."""
        equity = self.equity() if self.risk.enabled else None
        if equity is None:
            return None
        cap = float(self.risk_max_stake_fraction.value) * equity - float(trade.stake_amount)
        room = exposure_room(equity, float(Trade.total_open_trades_stakes()), self.risk)
        allowed = max(min(cap, room), 0.0)
        if allowed <= 0:
            fired("exposure", current_time, "%s: no room to add to the position", trade.pair)
        return allowed

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
        equity = self.equity() if self.risk.enabled else None
        if equity is None:
            return proposed_stake
        settings = self.risk
        ratios = recent_profit_ratios(self.closed_trades(), current_time, settings)
        candles = self.dp.get_pair_dataframe(pair=pair, timeframe=self.timeframe)
        close = candles["close"].iloc[-(settings.normal_volatility_window_candles + 1) :]
        volatility, volatility_ratio = volatility_state(close, settings)
        decision = stake_fraction(
            ratios,
            volatility,
            volatility_ratio,
            settings,
            kelly_fraction=float(self.risk_kelly_fraction.value),
            max_stake_fraction=float(self.risk_max_stake_fraction.value),
        )
        stake = decision.fraction * equity
        if decision.high_volatility:
            fired(
                "high-volatility",
                current_time,
                "%s volatility %.2f is %.1fx normal, stake multiplied by %s",
                pair,
                volatility,
                volatility_ratio,
                settings.high_volatility_stake_multiplier,
            )
        if decision.capped:
            fired(
                "stake-cap",
                current_time,
                "%s stake capped at %.0f%% of equity",
                pair,
                100 * float(self.risk_max_stake_fraction.value),
            )
        room = exposure_room(equity, float(Trade.total_open_trades_stakes()), settings)
        if stake > room:
            fired(
                "exposure",
                current_time,
                "%s stake %.2f cut to %.2f (%.0f%% of equity long)",
                pair,
                stake,
                room,
                100 * settings.max_exposure,
            )
            stake = room
        stake = min(stake, max_stake)
        if stake <= 0 or (min_stake is not None and stake < min_stake):
            fired(
                "skip-entry",
                current_time,
                "%s stake %.2f (%s) below the minimum %s",
                pair,
                stake,
                decision.basis,
                min_stake,
            )
            return 0.0
        return stake

    # --- entry gates ----------------------------------------------------------------------
    def confirm_trade_entry(
        self,
        pair: str,
        order_type: str,
        amount: float,
        rate: float,
        time_in_force: str,
        current_time: datetime,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> bool:
        if not self.risk.enabled:
            return True
        self.update_risk_locks(current_time)
        if PairLocks.is_pair_locked(pair, current_time, side):
            return False  # a pause placed just now, by the trade that closed this candle
        return (
            self._entries_today_allowed(current_time)
            and self._uncorrelated_with_open_trades(pair, current_time)
            and self._spread_allowed(pair, current_time)
        )

    def _entries_today_allowed(self, current_time: datetime) -> bool:
        day_start = utc_day_start(current_time)
        entries = sum(1 for trade in Trade.get_trades_proxy() if _utc(trade.open_date) >= day_start)
        if entries < self.risk.max_entries_per_day:
            return True
        self._lock_all(
            LOCK_TRADES_PER_DAY,
            f"{entries} entries today",
            day_start + timedelta(days=1),
            current_time,
            current_time,
        )
        return False

    def _uncorrelated_with_open_trades(self, pair: str, current_time: datetime) -> bool:
        open_pairs = {trade.pair for trade in Trade.get_trades_proxy(is_open=True)} - {pair}
        if not open_pairs:
            return True
        window = self.risk.correlation_window_candles
        candidate = self.dp.get_pair_dataframe(pair=pair, timeframe=self.timeframe)
        candidate = candidate.iloc[-(window + 1) :]
        for other in sorted(open_pairs):
            held = self.dp.get_pair_dataframe(pair=other, timeframe=self.timeframe)
            correlation = return_correlation(candidate, held.iloc[-(window + 1) :], window)
            if math.isfinite(correlation) and correlation > self.risk.max_correlation:
                fired(
                    "correlation",
                    current_time,
                    "%s refused, correlation %.2f with open %s",
                    pair,
                    correlation,
                    other,
                )
                return False
        return True

    def _spread_allowed(self, pair: str, current_time: datetime) -> bool:
        """Live quote check; backtests have no bid/ask spread (candles only)."""
        if self.config.get("runmode") not in (RunMode.DRY_RUN, RunMode.LIVE):
            return True
        ticker = self.dp.ticker(pair)
        spread = spread_ratio(ticker.get("bid"), ticker.get("ask"))
        if math.isfinite(spread) and spread > self.risk.max_spread_ratio:
            fired("spread", current_time, "%s refused, spread %.2f%%", pair, 100 * spread)
            return False
        return True

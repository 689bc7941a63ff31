"""The bundle's risk rules as pure functions over trades and candles.

Every rule is a small function of plain numbers and series, so that the strategy hooks
(:mod:`freqai_swing.risk_strategy`), the tests and the docs all use the same arithmetic. Nothing
here reads a clock, a wallet or a database: the hooks hand in what Freqtrade knows at that
moment (in a backtest: only candles and trades up to the current candle).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import numpy as np
import pandas as pd

from freqai_swing.drawdown import drawdown_curve
from freqai_swing.settings.risk import RiskSettings as RiskSettings
from freqai_swing.trades import ClosedTrade

#: Hours in a year, to state 1h volatility as an annual figure (crypto trades around the clock).
HOURS_PER_YEAR: Final[float] = 24 * 365


# --- stake sizing ---------------------------------------------------------------------------
def kelly_criterion(profit_ratios: Sequence[float]) -> float | None:
    """``(p·W − (1−p)·L) / W`` from closed trades' profit ratios; ``None`` without trades.

    p: share of winning trades (profit > 0), W: mean win, L: mean loss (as a positive number,
    break-even trades count as losses of 0). Without a winning trade W is 0 and there is no
    edge to size: -1 (stake nothing). All wins give p = 1, so 1.
    """
    ratios = [float(ratio) for ratio in profit_ratios if math.isfinite(float(ratio))]
    if not ratios:
        return None
    wins = [ratio for ratio in ratios if ratio > 0]
    losses = [-ratio for ratio in ratios if ratio <= 0]
    if not wins:
        return -1.0
    win_rate = len(wins) / len(ratios)
    mean_win = sum(wins) / len(wins)
    mean_loss = sum(losses) / len(losses) if losses else 0.0
    return (win_rate * mean_win - (1 - win_rate) * mean_loss) / mean_win


def recent_profit_ratios(
    trades: Sequence[ClosedTrade], now: datetime, settings: RiskSettings
) -> list[float]:
    """Profit ratios of the newest ``kelly_window_trades`` trades closed in the lookback."""
    since = now - timedelta(days=settings.kelly_lookback_days)
    recent = sorted((t for t in trades if since <= t.close_date <= now), key=_close_key)
    return [t.profit_ratio for t in recent[-settings.kelly_window_trades :]]


@dataclass(frozen=True)
class StakeDecision:
    """A stake as a share of equity, with how it came about (for logs and tests)."""

    fraction: float
    basis: str  # "fixed", "kelly", "no-edge" or "no-volatility"
    kelly: float | None
    high_volatility: bool
    capped: bool


def stake_fraction(
    profit_ratios: Sequence[float],
    volatility: float,
    volatility_ratio: float,
    settings: RiskSettings,
    kelly_fraction: float | None = None,
    max_stake_fraction: float | None = None,
) -> StakeDecision:
    """Share of equity to stake on the next entry.

    Fixed ``initial_stake_fraction`` below ``kelly_min_trades`` trades, else
    ``max(kelly, 0) × kelly_fraction / (1 + volatility)``; halved (by
    ``high_volatility_stake_multiplier``) when the pair's volatility is above
    ``high_volatility_ratio`` × its normal level; capped at ``max_stake_fraction``.
    A volatility that is not a finite non-negative number sizes nothing: without it neither the
    Kelly scaling nor the regime can be judged.
    """
    fraction_of_kelly = settings.kelly_fraction if kelly_fraction is None else kelly_fraction
    cap = settings.max_stake_fraction if max_stake_fraction is None else max_stake_fraction
    if not (math.isfinite(volatility) and volatility >= 0):
        return StakeDecision(0.0, "no-volatility", None, False, False)
    high = math.isfinite(volatility_ratio) and volatility_ratio > settings.high_volatility_ratio
    kelly = kelly_criterion(profit_ratios) if len(profit_ratios) else None
    if len(profit_ratios) < settings.kelly_min_trades:
        fraction, basis = settings.initial_stake_fraction, "fixed"
    elif kelly is None or kelly <= 0:
        return StakeDecision(0.0, "no-edge", kelly, high, False)
    else:
        fraction, basis = kelly * fraction_of_kelly / (1 + volatility), "kelly"
    if high:
        fraction *= settings.high_volatility_stake_multiplier
    capped = fraction > cap
    return StakeDecision(min(fraction, cap), basis, kelly, high, capped)


def exposure_room(equity: float, open_stakes: float, settings: RiskSettings) -> float:
    """Stake currency that may still be put into new positions under ``max_exposure``."""
    return max(settings.max_exposure * equity - open_stakes, 0.0)


# --- volatility -----------------------------------------------------------------------------
def log_returns(close: pd.Series) -> pd.Series:
    return np.log(close.astype(float)).diff()


def volatility_state(close: pd.Series, settings: RiskSettings) -> tuple[float, float]:
    """Annualised current volatility of 1h closes and its ratio to the normal level.

    Current: standard deviation of the last ``volatility_window_candles`` log returns; normal:
    over the last ``normal_volatility_window_candles`` (or what history there is, at least two
    current windows). NaN when the history is too short.
    """
    returns = log_returns(close).dropna()
    window = settings.volatility_window_candles
    if len(returns) < window:
        return math.nan, math.nan
    scale = math.sqrt(HOURS_PER_YEAR)
    current = float(returns.iloc[-window:].std(ddof=1)) * scale
    normal_returns = returns.iloc[-settings.normal_volatility_window_candles :]
    if len(normal_returns) < 2 * window:
        return current, math.nan
    normal = float(normal_returns.std(ddof=1)) * scale
    return current, (current / normal if normal > 0 else math.nan)


# --- correlation ----------------------------------------------------------------------------
def return_correlation(first: pd.DataFrame, second: pd.DataFrame, window: int) -> float:
    """Correlation of two pairs' log returns over their last ``window`` common candles.

    Both frames hold Freqtrade's ``date`` and ``close`` columns; returns are taken per pair
    before aligning so that a gap in one pair never creates a multi-candle return.
    """
    left = first.set_index("date")["close"].pipe(log_returns)
    right = second.set_index("date")["close"].pipe(log_returns)
    joined = pd.concat([left.rename("a"), right.rename("b")], axis=1, join="inner").dropna()
    joined = joined.iloc[-window:]
    if len(joined) < 3 or joined["a"].std() == 0 or joined["b"].std() == 0:
        return math.nan
    return float(joined["a"].corr(joined["b"]))


# --- pauses ---------------------------------------------------------------------------------
def _close_key(trade: ClosedTrade) -> datetime:
    return trade.close_date


def utc_day_start(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def daily_loss_ratio(trades: Sequence[ClosedTrade], now: datetime, equity: float) -> float:
    """Realized loss since midnight UTC as a share of the equity at midnight (loss > 0)."""
    realized_today = sum(t.profit_abs for t in trades if utc_day_start(now) <= t.close_date <= now)
    equity_at_day_start = equity - realized_today
    if equity_at_day_start <= 0:
        return math.inf
    return -realized_today / equity_at_day_start


def losing_streak(trades: Sequence[ClosedTrade], since: datetime | None) -> list[ClosedTrade]:
    """The run of losing trades (profit <= 0) that ends with the newest closed trade.

    Only trades closed after ``since`` (the previous pause) count.
    """
    streak: list[ClosedTrade] = []
    # Newest first; of trades closed at the same moment (one candle) the losses come first,
    # so that a win in that candle never hides its losses.
    newest_first = sorted(trades, key=lambda t: (t.close_date, t.profit_ratio <= 0), reverse=True)
    for trade in newest_first:
        if since is not None and trade.close_date <= since:
            break
        if trade.profit_ratio > 0:
            break
        streak.append(trade)
    return streak[::-1]


@dataclass(frozen=True)
class Drawdown:
    ratio: float
    peak: float
    equity: float


def realized_drawdown(
    trades: Sequence[ClosedTrade], equity: float, since: datetime | None
) -> Drawdown:
    """Drawdown of realized equity from its peak among the trades closed after ``since``.

    The curve is rebuilt backwards from today's equity (open stakes at cost plus free
    balance), so no starting balance is needed; its first point is the equity just before the
    first counted trade.
    """
    counted = sorted((t for t in trades if since is None or t.close_date > since), key=_close_key)
    profits = np.array([t.profit_abs for t in counted], dtype=float)
    start = equity - profits.sum()
    curve = drawdown_curve(np.concatenate([[start], start + np.cumsum(profits)]))
    peak = float(curve.peak[-1])
    if peak <= 0:
        return Drawdown(math.inf, peak, equity)
    return Drawdown(curve.current, peak, float(curve.equity[-1]))


def spread_ratio(bid: float | None, ask: float | None) -> float:
    """``(ask − bid) / ask``; NaN when the quote is incomplete."""
    if not bid or not ask or ask <= 0:
        return math.nan
    return (ask - bid) / ask

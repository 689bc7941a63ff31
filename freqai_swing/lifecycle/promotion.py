"""The lifecycle's decisions: retrain triggers, the promotion test and the rollback rule.

Promotion test: **Welch's t-test, one-sided**, on per-trade returns (``profit_ratio``, net of
fees) of the challenger against the champion over the same A/B period. Welch because the two
samples have different sizes and variances (the challenger trades less capital, and a changed
model trades at another rate); one-sided because only "the challenger is better" promotes.
Per-trade returns of a swing strategy are roughly independent (one position per pair, the
next only after the last closed), which is what the test assumes; their fat tails matter less
at ≥ 20 trades by the central limit theorem, and a bootstrap check of the same hypothesis is
reported beside it. The challenger is promoted only when it has at least
``min_challenger_trades`` closed trades, the p-value is below ``1 − confidence`` and its mean
return is positive.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from freqai_swing.drawdown import drawdown_curve
from freqai_swing.lifecycle.config import SelfTrainSettings


@dataclass(frozen=True)
class PromotionResult:
    """The promotion test's figures and verdict."""

    promote: bool
    reason: str
    challenger_trades: int
    champion_trades: int
    challenger_mean: float
    champion_mean: float
    t_statistic: float
    p_value: float
    bootstrap_p_value: float

    def figures(self) -> dict[str, Any]:
        return asdict(self)


def welch_one_sided(challenger: np.ndarray, champion: np.ndarray) -> tuple[float, float]:
    """t statistic and one-sided p-value of ``mean(challenger) > mean(champion)``."""
    from scipy import stats

    if len(challenger) < 2 or len(champion) < 2:
        return 0.0, 1.0
    if np.var(challenger) == 0 and np.var(champion) == 0:
        better = challenger.mean() > champion.mean()
        return (math.inf, 0.0) if better else (0.0, 1.0)
    result = stats.ttest_ind(challenger, champion, equal_var=False, alternative="greater")
    return float(result.statistic), float(result.pvalue)


def bootstrap_one_sided(
    challenger: np.ndarray, champion: np.ndarray, resamples: int = 5000, seed: int = 0
) -> float:
    """Share of bootstrap resamples where the challenger's mean is not above the champion's."""
    if len(challenger) < 2 or len(champion) < 2:
        return 1.0
    generator = np.random.default_rng(seed)
    a = generator.choice(challenger, (resamples, len(challenger))).mean(axis=1)
    b = generator.choice(champion, (resamples, len(champion))).mean(axis=1)
    return float(np.mean(a - b <= 0))


def promotion_test(
    challenger_returns: Sequence[float],
    champion_returns: Sequence[float],
    settings: SelfTrainSettings,
) -> PromotionResult:
    """Decide on a challenger from both bots' closed per-trade returns over the A/B period."""
    challenger = np.asarray(challenger_returns, dtype=float)
    champion = np.asarray(champion_returns, dtype=float)
    statistic, p_value = welch_one_sided(challenger, champion)
    boot = bootstrap_one_sided(challenger, champion)
    alpha = 1 - settings.confidence
    base: dict[str, Any] = {
        "challenger_trades": len(challenger),
        "champion_trades": len(champion),
        "challenger_mean": float(challenger.mean()) if len(challenger) else 0.0,
        "champion_mean": float(champion.mean()) if len(champion) else 0.0,
        "t_statistic": statistic,
        "p_value": p_value,
        "bootstrap_p_value": boot,
    }
    if len(challenger) < settings.min_challenger_trades:
        reason = f"{len(challenger)} challenger trades, fewer than {settings.min_challenger_trades}"
        return PromotionResult(False, reason, **base)
    if len(champion) < 2:
        # nothing to compare against: the challenger must at least make money significantly
        from scipy import stats

        result = stats.ttest_1samp(challenger, 0.0, alternative="greater")
        base["t_statistic"], base["p_value"] = float(result.statistic), float(result.pvalue)
        p_value = base["p_value"]
    if p_value < alpha and base["challenger_mean"] > 0:
        reason = (
            f"challenger better at {settings.confidence:.0%}: mean {base['challenger_mean']:+.4f}"
            f" vs {base['champion_mean']:+.4f} per trade, Welch p={p_value:.4f}"
        )
        return PromotionResult(True, reason, **base)
    reason = (
        f"not better at {settings.confidence:.0%}: mean {base['challenger_mean']:+.4f} vs "
        f"{base['champion_mean']:+.4f} per trade, Welch p={p_value:.4f}"
    )
    return PromotionResult(False, reason, **base)


def drawdown_since(equity: pd.Series, since: datetime | pd.Timestamp) -> float:
    """Largest peak-to-trough loss of ``equity`` from ``since`` on (0 when flat or rising)."""

    part = equity[equity.index >= pd.Timestamp(since)].astype(float)
    if part.empty:
        return 0.0
    return drawdown_curve(part.to_numpy()).largest


def should_roll_back(
    equity: pd.Series, promoted_at: datetime | pd.Timestamp, settings: SelfTrainSettings
) -> tuple[bool, float]:
    """Roll back when the production equity fell more than ``rollback_drawdown`` from its
    peak since the promotion; returns the verdict and that drawdown."""
    drawdown = drawdown_since(equity, promoted_at)
    return drawdown > settings.rollback_drawdown, drawdown


@dataclass(frozen=True)
class Performance:
    """Step 2's view of the production model over the last ``evaluation_days``."""

    trades: int
    sharpe: float
    max_drawdown: float
    win_rate: float
    total_return: float
    buy_and_hold_return: float

    def figures(self) -> dict[str, Any]:
        return asdict(self)


def regime_change(
    market_daily_close: pd.Series, now: datetime | pd.Timestamp, settings: SelfTrainSettings
) -> str | None:
    """A volatility or trend-state shift of the market pair up to ``now``, or ``None``.

    Volatility: the last 30 days' daily-return deviation against the 180 days before, off by
    ``regime_volatility_ratio`` either way. Trend state: the close crossed its
    ``regime_trend_days`` daily average within the last week.
    """
    closes = market_daily_close[market_daily_close.index <= pd.Timestamp(now)].astype(float)
    returns = closes.pct_change().dropna()
    if len(returns) >= 210:
        recent, before = returns.iloc[-30:].std(), returns.iloc[-210:-30].std()
        if before > 0:
            ratio = float(recent / before)
            limit = settings.regime_volatility_ratio
            if ratio > limit or ratio < 1 / limit:
                return f"volatility shift: 30-day/180-day volatility ratio {ratio:.2f}"
    average = closes.rolling(settings.regime_trend_days).mean()
    above = (closes > average)[average.notna()]
    if len(above) > 7 and bool(above.iloc[-1]) != bool(above.iloc[-8]):
        state = "above" if above.iloc[-1] else "below"
        days = settings.regime_trend_days
        return f"trend-state shift: market close now {state} its {days}-day average"
    return None


def retrain_reasons(
    now: datetime,
    last_training: datetime | None,
    performance: Performance | None,
    regime: str | None,
    settings: SelfTrainSettings,
) -> list[str]:
    """Step 3: why a challenger should be trained now (empty: no retrain)."""
    reasons = []
    if last_training is None:
        reasons.append("no model yet")
    elif now - last_training >= timedelta(days=settings.retrain_every_days):
        reasons.append(f"scheduled: {settings.retrain_every_days} days since the last training")
    if performance is not None:
        reasons += threshold_failures(performance, settings)
    if regime:
        reasons.append(regime)
    return reasons


def threshold_failures(performance: Performance, settings: SelfTrainSettings) -> list[str]:
    """The thresholds a model's figures fail (empty: it meets them all); Sharpe and win rate
    count only from ``min_evaluation_trades`` trades on."""
    failures = []
    if performance.trades >= settings.min_evaluation_trades:
        if performance.sharpe < settings.min_sharpe:
            failures.append(f"Sharpe {performance.sharpe:.2f} < {settings.min_sharpe}")
        if performance.win_rate < settings.min_win_rate:
            failures.append(f"win rate {performance.win_rate:.1%} < {settings.min_win_rate:.0%}")
    if performance.max_drawdown > settings.max_drawdown:
        failures.append(f"drawdown {performance.max_drawdown:.1%} > {settings.max_drawdown:.0%}")
    return failures

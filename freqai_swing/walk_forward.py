"""Walk-forward splits and the performance figures an evaluation reports for each of them.

A split is one FreqAI training window followed by one test window. FreqAI fits a window on
the candles before the test start only, and the bundle's labels are NaN where their horizon
reaches past the training end, so the last fitted label closes before the first tested
candle: that purge is the split's gap. Splits are laid back to back, the last ending at the
end of the data, so a later split never tests candles an earlier split was trained to see
beyond its own test window.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from freqai_swing.drawdown import drawdown_curve
from freqai_swing.labels import CLASS_ORDER

DAYS_PER_YEAR = 365


@dataclass(frozen=True)
class WalkForwardSettings:
    """The seed's walk-forward validation.

    Attributes:
        splits: number of train/test splits.
        train_days: days of candles each model is fitted on.
        test_days: days each model trades, right after its training window.
        gap_days: days between the last fitted label and the first tested candle; the label
            horizon provides it, so it may not exceed the horizon.
    """

    splits: int = 5
    train_days: int = 120
    test_days: int = 30
    gap_days: int = 1

    def check(self, horizon_hours: float) -> None:
        """Raise with the offending setting when the splits cannot be honoured."""
        for name in ("splits", "train_days", "test_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"walk-forward {name} must be at least 1")
        if self.gap_days < 0 or self.gap_days * 24 > horizon_hours:
            raise ValueError(
                f"walk-forward gap_days={self.gap_days}: the gap is the label horizon's purge "
                f"({horizon_hours:g} h here); raise swing.labels.horizon_candles for a longer gap"
            )


@dataclass(frozen=True)
class Split:
    """One walk-forward split, as dates (UTC, day-aligned)."""

    index: int
    train_start: pd.Timestamp
    test_start: pd.Timestamp
    test_end: pd.Timestamp

    @property
    def timerange(self) -> str:
        """The ``--timerange`` of the split's backtest (its test window)."""
        return f"{self.test_start:%Y%m%d}-{self.test_end:%Y%m%d}"


def walk_forward_splits(data_end: pd.Timestamp, settings: WalkForwardSettings) -> list[Split]:
    """``settings.splits`` back-to-back test windows ending at the last whole day of data."""
    end = pd.Timestamp(data_end).tz_convert("UTC").floor("D")
    test = timedelta(days=settings.test_days)
    splits = []
    for index in range(settings.splits):
        test_end = end - (settings.splits - 1 - index) * test
        test_start = test_end - test
        train_start = test_start - timedelta(days=settings.train_days)
        splits.append(Split(index, train_start, test_start, test_end))
    return splits


def equity_figures(daily_equity: pd.Series) -> dict[str, float]:
    """Return, Sharpe, Sortino, Calmar and drawdown of a daily marked-to-market equity curve.

    Sharpe and Sortino annualise daily returns by √365; Calmar is the annualised return over
    the largest peak-to-trough loss; the drawdown duration is the longest time under a peak.
    """

    equity = daily_equity.astype(float)
    returns = equity.pct_change().dropna()
    total = float(equity.iloc[-1] / equity.iloc[0] - 1)
    years = max(len(returns), 1) / DAYS_PER_YEAR
    annual = (1 + total) ** (1 / years) - 1 if total > -1 else -1.0
    curve = drawdown_curve(equity.to_numpy())
    drawdown = curve.largest
    under = pd.Series((curve.equity < curve.peak).astype(int), index=equity.index)
    longest = int(under.groupby((under == 0).cumsum()).sum().max()) if len(under) else 0
    deviation = float(returns.std(ddof=1)) if len(returns) > 1 else 0.0
    downside = float(np.sqrt((np.minimum(returns, 0) ** 2).mean())) if len(returns) else 0.0
    scale = math.sqrt(DAYS_PER_YEAR)
    return {
        "total_return": total,
        "sharpe": float(returns.mean() / deviation * scale) if deviation > 0 else 0.0,
        "sortino": float(returns.mean() / downside * scale) if downside > 0 else 0.0,
        "calmar": annual / drawdown if drawdown > 0 else 0.0,
        "max_drawdown": drawdown,
        "max_drawdown_days": float(longest),
    }


def trade_figures(
    trades: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp
) -> dict[str, float | None]:
    """Win rate, profit factor, average win and loss, count, duration and exposure of trades.

    Exposure is the share of the period with at least one position open.
    """
    if trades.empty:
        return {
            "trades": 0,
            "win_rate": 0.0,
            "profit_factor": 0.0,
            "average_win": 0.0,
            "average_loss": 0.0,
            "average_duration_hours": 0.0,
            "exposure": 0.0,
        }
    profits = trades["profit_ratio"].astype(float)
    wins, losses = profits[profits > 0], profits[profits < 0]
    gross_loss = -trades.loc[profits < 0, "profit_abs"].sum()
    gross_win = trades.loc[profits > 0, "profit_abs"].sum()
    opened = pd.to_datetime(trades["open_date"], utc=True)
    closed = pd.to_datetime(trades["close_date"], utc=True)
    hours = pd.date_range(start, end, freq="h", inclusive="left")
    held = np.zeros(len(hours), dtype=bool)
    for first, last in zip(opened, closed, strict=True):
        held |= (hours >= first) & (hours < last)
    return {
        "trades": len(trades),
        "win_rate": float((profits > 0).mean()),
        # no losing trade: undefined (None), not infinite, so the JSON stays standard
        "profit_factor": float(gross_win / gross_loss) if gross_loss > 0 else None,
        "average_win": float(wins.mean()) if len(wins) else 0.0,
        "average_loss": float(losses.mean()) if len(losses) else 0.0,
        "average_duration_hours": float(((closed - opened).dt.total_seconds() / 3600).mean()),
        "exposure": float(held.mean()) if len(hours) else 0.0,
    }


def span_of(splits: Sequence[Split]) -> Split:
    """The one window covering every split's test days."""
    return Split(0, splits[0].train_start, splits[0].test_start, splits[-1].test_end)


def overlapping_trades(trades: pd.DataFrame, split: Split) -> pd.DataFrame:
    """The trades open at some time inside ``split``'s test window."""
    if trades.empty:
        return trades
    opened = pd.to_datetime(trades["open_date"], utc=True)
    closed = pd.to_datetime(trades["close_date"], utc=True)
    return trades[(opened < split.test_end) & (closed > split.test_start)]


def calibration_table(
    probabilities: np.ndarray, truth: np.ndarray, bins: int = 5
) -> list[dict[str, float]]:
    """Mean predicted P(up) against the observed share of ``up`` per probability quantile."""
    up = probabilities[:, CLASS_ORDER.index("up")]
    edges = np.unique(np.quantile(up, np.linspace(0, 1, bins + 1)))
    index = np.clip(np.searchsorted(edges, up, side="right") - 1, 0, len(edges) - 2)
    table = []
    for k in range(len(edges) - 1):
        rows = index == k
        if rows.any():
            table.append(
                {
                    "bin": k,
                    "rows": int(rows.sum()),
                    "predicted_up": float(up[rows].mean()),
                    "observed_up": float((truth[rows] == CLASS_ORDER.index("up")).mean()),
                }
            )
    return table


def seed_spread(
    results: dict[str, Any], figures: Sequence[str]
) -> dict[str, dict[str, dict[str, float]]]:
    """Per runner run under several seeds: mean, standard deviation, min and max of each
    overall figure over its seeds."""
    by_runner: dict[str, list[dict[str, Any]]] = {}
    for run in results["runners"].values():
        if run["seed"] is not None:
            by_runner.setdefault(run["runner"], []).append(run["overall"])
    spread: dict[str, dict[str, dict[str, float]]] = {}
    for runner, runs in by_runner.items():
        spread[runner] = {}
        for key in figures:
            values = np.array([run[key] for run in runs], dtype=float)
            spread[runner][key] = {
                "mean": float(values.mean()),
                "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
                "min": float(values.min()),
                "max": float(values.max()),
                "seeds": float(len(values)),
            }
    return spread

"""Step 2's figures: a model's trades over the last ``evaluation_days``, marked to market.

The live pass feeds it the production bot's closed trades, the replay the gated trades (or a
retirement candidate's own backtest trades): the same :class:`Performance` either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pandas as pd

from freqai_swing.equity import daily_equity
from freqai_swing.lifecycle.promotion import Performance
from freqai_swing.walk_forward import Split, equity_figures, trade_figures


def window_performance(
    trades: pd.DataFrame,
    closes: pd.DataFrame,
    now: datetime,
    evaluation_days: int,
    balance: float,
) -> Performance:
    """Sharpe, drawdown, win rate and return of ``trades`` (closed, opened within the
    window) over the ``evaluation_days`` up to ``now``, beside equal-weight buy and hold."""
    start = pd.Timestamp(now) - pd.Timedelta(days=evaluation_days)
    split = Split(0, start, start.floor("D"), pd.Timestamp(now).floor("D"))
    curve = daily_equity(trades, closes, split, balance)
    figures = equity_figures(curve) if len(curve) > 1 else {}
    trade_stats = trade_figures(trades, split.test_start, split.test_end)
    window = closes[(closes.index >= split.test_start) & (closes.index <= split.test_end)]
    hold = float((window.iloc[-1] / window.iloc[0]).mean() - 1) if len(window) > 1 else 0.0
    return Performance(
        trades=int(trade_stats["trades"] or 0),
        sharpe=float(figures.get("sharpe", 0.0)),
        max_drawdown=float(figures.get("max_drawdown", 0.0)),
        win_rate=float(trade_stats["win_rate"] or 0.0),
        total_return=float(figures.get("total_return", 0.0)),
        buy_and_hold_return=hold,
    )


def metrics_performance(metrics: Mapping[str, Any]) -> Performance | None:
    """A registered version's validation figures as a :class:`Performance` (``None`` when
    the version has none, as the replay's weekly models)."""
    try:
        return Performance(
            trades=int(metrics["trades"]),
            sharpe=float(metrics["sharpe"]),
            max_drawdown=float(metrics["max_drawdown"]),
            win_rate=float(metrics["win_rate"]),
            total_return=float(metrics.get("total_return", 0.0)),
            buy_and_hold_return=0.0,
        )
    except (KeyError, TypeError, ValueError):
        return None

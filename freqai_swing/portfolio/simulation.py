"""A fast daily simulation of the portfolio for research, on the strategy's own functions.

It decides after each daily close exactly as the strategy does (same signals, weights and
rebalancing band) and fills at that close, paying ``fee`` on every traded amount. It exists to
screen settings quickly on years of candles; the figures the bundle reports come from the real
``freqtrade backtesting`` runs of ``freqai-swing evaluate``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from freqai_swing.portfolio.book import book_targets, pair_inputs, regime_gate
from freqai_swing.portfolio.rebalance import rebalance_stake
from freqai_swing.portfolio.settings import PortfolioSettings


def simulate(
    hourly: Mapping[str, pd.DataFrame],
    settings: PortfolioSettings,
    start: str,
    end: str,
    fee: float = 0.0015,
    max_position: float = 0.2,
    max_exposure: float = 0.8,
) -> pd.DataFrame:
    """Daily equity (starting at 1), exposure, turnover and fees between ``start`` and ``end``:
    the book's targets (:func:`book_targets`, as the strategy computes them) traded at each
    daily close through the rebalancing band."""
    inputs = {pair: pair_inputs(candles, settings) for pair, candles in hourly.items()}
    book = book_targets(
        inputs,
        regime_gate(hourly[settings.regime_pair], settings),
        settings,
        max_position,
        max_exposure,
    )
    days = pd.date_range(pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC"), freq="D")
    closes = pd.DataFrame({pair: frame["close"] for pair, frame in inputs.items()})
    closes = closes.reindex(closes.index.union(days)).ffill()
    values = pd.Series(0.0, index=closes.columns)
    cash = 1.0
    rows = []
    for day in days:
        position = closes.index.get_loc(day)
        if position == 0:
            continue
        growth = closes.iloc[position] / closes.iloc[position - 1]
        values = values * growth.fillna(1.0)
        equity = cash + float(values.sum())
        targets = book.targets.loc[day] if day in book.targets.index else values * 0.0
        traded = 0.0
        for pair, target in targets.items():
            stake = rebalance_stake(
                float(values[pair]),
                float(target) * equity,
                equity,
                settings.rebalance_band,
                settings.min_order_fraction,
            )
            if stake:
                values[pair] += stake
                cash -= stake
                traded += abs(stake)
        fees = fee * traded
        cash -= fees
        rows.append(
            {
                "date": day,
                "equity": cash + float(values.sum()),
                "exposure": float(values.sum()) / max(equity, 1e-12),
                "turnover": traded / max(equity, 1e-12),
                "fees": fees,
            }
        )
    return pd.DataFrame(rows).set_index("date")


def summary(equity: pd.Series) -> dict[str, float]:
    """Total return, CAGR, Sharpe, Sortino, max drawdown and Calmar of a daily equity curve."""
    returns = equity.pct_change().dropna()
    years = max(len(returns) / 365.0, 1e-9)
    total = float(equity.iloc[-1] / equity.iloc[0] - 1)
    cagr = float((equity.iloc[-1] / equity.iloc[0]) ** (1 / years) - 1)
    std = float(returns.std())
    downside = float(np.sqrt((returns.clip(upper=0) ** 2).mean()))
    drawdown = float((1 - equity / equity.cummax()).max())
    return {
        "total": total,
        "cagr": cagr,
        "sharpe": float(returns.mean() / std * np.sqrt(365)) if std > 0 else float("nan"),
        "sortino": (
            float(returns.mean() / downside * np.sqrt(365)) if downside > 0 else float("nan")
        ),
        "max_drawdown": drawdown,
        "calmar": cagr / drawdown if drawdown > 0 else float("nan"),
    }

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

from freqai_swing.portfolio.rebalance import rebalance_stake
from freqai_swing.portfolio.settings import PortfolioSettings
from freqai_swing.portfolio.signals import (
    above_average,
    daily_bars,
    trailing_volatility,
    trend_score,
)
from freqai_swing.portfolio.weights import annualised_covariance, portfolio_targets, raw_weight


def daily_inputs(
    hourly: Mapping[str, pd.DataFrame], settings: PortfolioSettings
) -> dict[str, pd.DataFrame]:
    """Per pair, one row a day: close, trend score and trailing volatility."""
    inputs = {}
    for pair, candles in hourly.items():
        bars = daily_bars(candles)
        bars["score"] = trend_score(bars["close"], settings.lookback_days)
        bars["volatility"] = trailing_volatility(
            bars["realized_variance"], settings.volatility_days
        )
        inputs[pair] = bars
    return inputs


def simulate(
    hourly: Mapping[str, pd.DataFrame],
    settings: PortfolioSettings,
    start: str,
    end: str,
    fee: float = 0.0015,
    max_position: float = 0.2,
    max_exposure: float = 0.8,
    volatility: Mapping[str, pd.Series] | None = None,
    meta_probability: Mapping[str, pd.Series] | None = None,
) -> pd.DataFrame:
    """Daily equity (starting at 1), exposure, turnover and fees between ``start`` and ``end``.

    ``volatility`` replaces a pair's trailing volatility (a forecast known at each day's
    close); ``meta_probability`` applies the meta filter.
    """
    inputs = daily_inputs(hourly, settings)
    days = pd.date_range(pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC"), freq="D")
    closes = pd.DataFrame({pair: bars["close"] for pair, bars in inputs.items()})
    closes = closes.reindex(closes.index.union(days)).ffill()
    regime_close = closes[settings.regime_pair]
    regime = (
        above_average(regime_close, settings.regime_days)
        if settings.regime_enabled
        else pd.Series(True, index=closes.index)
    )
    weights = {}
    for pair, bars in inputs.items():
        vol = bars["volatility"] if volatility is None else volatility[pair]
        meta = None if meta_probability is None else meta_probability[pair]
        weights[pair] = raw_weight(
            bars["score"].reindex(closes.index),
            vol.reindex(closes.index),
            regime,
            len(inputs),
            settings,
            None if meta is None else meta.reindex(closes.index),
        )
    raw = pd.DataFrame(weights)
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
        covariance = annualised_covariance(
            closes.iloc[: position + 1], settings.covariance_days
        )
        targets = portfolio_targets(
            raw.iloc[position].to_dict(), covariance, settings, max_position, max_exposure
        )
        traded = 0.0
        for pair, target in targets.items():
            stake = rebalance_stake(
                float(values[pair]),
                target * equity,
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

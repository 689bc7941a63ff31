"""The figures of the portfolio's evidence, computed the same way for every run.

From a run's trades (with their orders), its daily marked-to-market equity and the candles:
per period (each calendar year and overall) the return, CAGR, Sharpe, Sortino, Calmar, max
drawdown, the average share of the wallet invested, the turnover and the fees paid; and the
scores of the portfolio model's stored walk-forward predictions against their references
(the volatility forecast against HAR refitted on the same window and against the trailing
volatility; the meta-probability against the window's base rate).

``freqai-swing evaluate`` and ``tooling/research/portfolio_evidence.py`` both call these.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression

from freqai_swing.portfolio.labels import (
    HAR_FEATURES,
    forward_log_volatility,
    meta_labels,
    volatility_features,
)
from freqai_swing.portfolio.scores import binary_brier, binary_log_loss, log_rmse, qlike
from freqai_swing.walk_forward import equity_figures

DAYS_PER_YEAR = 365.0


def _filled(order: Mapping[str, Any]) -> pd.Timestamp:
    return pd.Timestamp(order["order_filled_timestamp"], unit="ms", tz="UTC")


def held_values(
    trades: pd.DataFrame, days: pd.DatetimeIndex, marks: pd.DataFrame
) -> dict[str, np.ndarray]:
    """Per pair, the market value held at each day's mark, from the filled orders."""
    held: dict[str, np.ndarray] = {}
    for trade in trades.itertuples():
        amount = np.zeros(len(days))
        for order in trade.orders:
            sign = 1.0 if order["ft_order_side"] == "buy" else -1.0
            amount += np.where(np.asarray(days >= _filled(order)), sign * float(order["amount"]), 0)
        value = np.clip(amount, 0.0, None) * np.nan_to_num(marks[trade.pair].to_numpy())
        held[trade.pair] = held.get(trade.pair, np.zeros(len(days))) + value
    return held


def order_flows(trades: pd.DataFrame) -> pd.DataFrame:
    """Every filled order: its date, its cost and the fee it paid."""
    rows = []
    for trade in trades.itertuples():
        for order in trade.orders:
            fee = trade.fee_open if order["ft_order_side"] == "buy" else trade.fee_close
            cost = float(order["cost"])
            rows.append({"date": _filled(order), "cost": cost, "fee": cost * float(fee)})
    return pd.DataFrame(rows, columns=["date", "cost", "fee"])


def yearly_periods(days: pd.DatetimeIndex) -> dict[str, tuple[pd.Timestamp, pd.Timestamp]]:
    """``overall`` and each calendar year the days touch, clipped to the days."""
    periods = {"overall": (days[0], days[-1])}
    for year in sorted(set(days.year)):
        periods[str(year)] = (
            max(days[0], pd.Timestamp(f"{year}-01-01", tz="UTC")),
            min(days[-1], pd.Timestamp(f"{year}-12-31", tz="UTC")),
        )
    return periods


def period_figures(
    equity: pd.Series,
    trades: pd.DataFrame,
    closes: pd.DataFrame,
    periods: Mapping[str, tuple[pd.Timestamp, pd.Timestamp]] | None = None,
) -> dict[str, dict[str, float]]:
    """Per period: the equity figures plus CAGR, invested share, turnover a year and fees.

    ``exposure`` here is the average share of the wallet held in positions (by market value,
    from the orders), ``turnover_per_year`` the traded value over the average wallet per year
    and ``fees_share_of_start`` the fees paid over the wallet at the period's start. A period
    shorter than three days is left out.
    """
    days = pd.DatetimeIndex(equity.index)
    marks = closes.reindex(closes.index.union(days)).ffill().reindex(days)
    invested = sum(held_values(trades, days, marks).values(), np.zeros(len(days)))
    exposure = pd.Series(invested, index=days) / equity
    flows = order_flows(trades)
    figures = {}
    for name, (first, last) in (periods or yearly_periods(days)).items():
        window = equity.loc[first:last]
        if len(window) < 3:
            continue
        years = len(window) / DAYS_PER_YEAR
        traded = flows[(flows["date"] >= first) & (flows["date"] <= last)]
        result = equity_figures(window)
        result["cagr"] = float((window.iloc[-1] / window.iloc[0]) ** (1 / years) - 1)
        result["exposure"] = float(exposure.loc[first:last].mean())
        result["turnover_per_year"] = float(traded["cost"].sum() / window.mean() / years)
        result["fees_share_of_start"] = float(traded["fee"].sum() / window.iloc[0])
        figures[name] = result
    return figures


def prediction_scores(
    models_dir: Path,
    datadir: Path,
    train_days: int,
    meta_horizon_candles: int,
    round_trip_fee: float,
) -> dict[str, dict[str, float]]:
    """Scores of the walk-forward predictions stored under ``models_dir``, window by window.

    For each stored window (``<identifier>/backtesting_predictions/cb_<coin>_<start>
    _prediction.feather``) HAR is refitted on the same ``train_days`` before the window's
    start, and the meta-label's base rate is the share of positive labels in those rows.
    Only rows the model predicted on (``do_predict`` 1) count.
    """
    files = sorted(models_dir.glob("*/backtesting_predictions/*_prediction.feather"))
    if not files:
        raise FileNotFoundError(
            f"no stored predictions under {models_dir}; run the portfolio with its ML parts on"
        )
    parts: dict[str, list[Any]] = {key: [] for key in ("model", "har", "trailing", "truth")}
    meta_rows = []
    per_coin: dict[str, tuple[pd.Series, pd.DataFrame, pd.Series, pd.Series]] = {}
    for path in files:
        predictions = pd.read_feather(path)
        _, coin, stamp, *_ = path.name.split("_")
        if coin not in per_coin:  # a coin's candles, features and labels serve all its windows
            candles = pd.read_feather(datadir / f"{coin.upper()}_USDT-1h.feather")
            per_coin[coin] = (
                candles["date"],
                volatility_features(candles),
                forward_log_volatility(candles),
                meta_labels(candles, meta_horizon_candles, round_trip_fee),
            )
        dates, features, label, outcome = per_coin[coin]
        window_start = pd.Timestamp(int(stamp), unit="s", tz="UTC")
        train = (dates >= window_start - pd.Timedelta(days=train_days)) & (dates < window_start)
        test = dates.isin(predictions["date"])
        usable = train & label.notna() & features[list(HAR_FEATURES)].notna().all(axis=1)
        har = LinearRegression().fit(features.loc[usable, list(HAR_FEATURES)], label[usable])
        merged = pd.DataFrame(
            {"date": dates[test], "truth": label[test], "trailing": features["log_rv_1m"][test]}
        )
        merged["har"] = har.predict(features.loc[test, list(HAR_FEATURES)].fillna(0.0))
        merged = merged.merge(
            predictions[["date", "&-log_volatility", "&-meta_label", "do_predict"]]
        )
        merged["meta_truth"] = outcome[test].to_numpy()
        merged["base_rate"] = float(outcome[train].mean())
        merged = merged[merged["do_predict"] == 1]
        ok = merged[["truth", "har", "trailing", "&-log_volatility"]].notna().all(axis=1)
        parts["model"].append(merged.loc[ok, "&-log_volatility"])
        parts["har"].append(merged.loc[ok, "har"])
        parts["trailing"].append(merged.loc[ok, "trailing"])
        parts["truth"].append(merged.loc[ok, "truth"])
        meta_rows.append(merged[["&-meta_label", "meta_truth", "base_rate"]].dropna())
    truth = np.exp(pd.concat(parts["truth"]).to_numpy())
    result = {}
    for name in ("model", "har", "trailing"):
        forecast = np.exp(pd.concat(parts[name]).to_numpy())
        result[f"volatility_{name}"] = {
            "qlike": qlike(truth**2, forecast**2),
            "log_rmse": log_rmse(truth, forecast),
        }
    meta = pd.concat(meta_rows)
    truth_meta = meta["meta_truth"].to_numpy()
    for name, column in (("model", "&-meta_label"), ("base_rate", "base_rate")):
        probability = meta[column].to_numpy()
        result[f"meta_{name}"] = {
            "log_loss": binary_log_loss(probability, truth_meta),
            "brier": binary_brier(probability, truth_meta),
        }
    result["rows"] = {"volatility": float(len(truth)), "meta": float(len(meta))}
    return result

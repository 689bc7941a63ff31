"""The portfolio's evidence table from finished ``freqtrade backtesting`` runs
(docs/portfolio-trials.md).

    python -m tooling.research.portfolio_evidence --datadir DIR --start 2021-01-01 \\
        --end 2024-06-30 --run trend-portfolio=USERDIR --run buy-and-hold=USERDIR ...

Every run is valued the same way, from its trades and orders and the candles
(:func:`tooling.evaluate.daily_equity`): per year and overall return, Sharpe, Sortino, Calmar,
max drawdown, average exposure, turnover and fees. ``--predictions USERDIR`` adds the scores of
the portfolio model's walk-forward predictions stored there: the volatility forecast against
HAR and the trailing volatility (QLIKE, log-RMSE), the meta-label against its base rate (log
loss, Brier).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression

from freqai_swing.portfolio.labels import (
    HAR_FEATURES,
    forward_log_volatility,
    meta_labels,
    volatility_features,
)
from freqai_swing.portfolio.scores import (
    binary_brier,
    binary_log_loss,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    log_rmse,
    qlike,
)
from freqai_swing.walk_forward import equity_figures
from tooling.evaluate import daily_equity, load_closes

PAIRS = ("BTC", "ETH", "SOL", "BNB", "XRP", "ADA", "AVAX", "DOGE", "LINK", "DOT")


def held_values(
    trades: pd.DataFrame, days: pd.DatetimeIndex, marks: pd.DataFrame
) -> dict[str, np.ndarray]:
    """Per pair, the market value held at each day's mark, from the filled orders."""
    held: dict[str, np.ndarray] = {}
    for trade in trades.itertuples():
        amount = np.zeros(len(days))
        for order in trade.orders:
            filled = pd.Timestamp(order["order_filled_timestamp"], unit="ms", tz="UTC")
            sign = 1.0 if order["ft_order_side"] == "buy" else -1.0
            amount += np.where(np.asarray(days >= filled), sign * float(order["amount"]), 0.0)
        value = np.clip(amount, 0.0, None) * np.nan_to_num(marks[trade.pair].to_numpy())
        held[trade.pair] = held.get(trade.pair, np.zeros(len(days))) + value
    return held


def _order_flows(trades: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for trade in trades.itertuples():
        for order in trade.orders:
            fee = trade.fee_open if order["ft_order_side"] == "buy" else trade.fee_close
            rows.append(
                {
                    "date": pd.Timestamp(order["order_filled_timestamp"], unit="ms", tz="UTC"),
                    "cost": float(order["cost"]),
                    "fee": float(order["cost"]) * float(fee),
                }
            )
    return pd.DataFrame(rows, columns=["date", "cost", "fee"])


def run_figures(userdir: Path, datadir: Path, start: str, end: str) -> dict[str, dict]:
    from freqtrade.data.btanalysis import load_backtest_data, load_backtest_stats

    results = userdir / "backtest_results" if userdir.is_dir() else userdir
    stats = load_backtest_stats(results)
    starting_balance = float(next(iter(stats["strategy"].values()))["starting_balance"])
    trades = load_backtest_data(results)
    pairs = sorted(set(trades["pair"])) or [f"{coin}/USDT" for coin in PAIRS]
    closes = load_closes(datadir, pairs)
    span = SimpleNamespace(
        test_start=pd.Timestamp(start, tz="UTC"), test_end=pd.Timestamp(end, tz="UTC")
    )
    equity = daily_equity(trades, closes, span, starting_balance)  # type: ignore[arg-type]
    days = equity.index
    marks = closes.reindex(closes.index.union(days)).ffill().reindex(days)
    invested = sum(held_values(trades, days, marks).values(), np.zeros(len(days)))
    exposure = pd.Series(invested, index=days) / equity
    flows = _order_flows(trades)
    periods = {"overall": (days[0], days[-1])}
    for year in sorted(set(days.year)):
        periods[str(year)] = (
            max(days[0], pd.Timestamp(f"{year}-01-01", tz="UTC")),
            min(days[-1], pd.Timestamp(f"{year}-12-31", tz="UTC")),
        )
    figures = {}
    for name, (first, last) in periods.items():
        window = equity.loc[first:last]
        if len(window) < 3:
            continue
        years = len(window) / 365.0
        traded = flows[(flows["date"] >= first) & (flows["date"] <= last)]
        result = equity_figures(window)
        result["cagr"] = float((window.iloc[-1] / window.iloc[0]) ** (1 / years) - 1)
        result["exposure"] = float(exposure.loc[first:last].mean())
        result["turnover_per_year"] = float(traded["cost"].sum() / window.mean() / years)
        result["fees_share_of_start"] = float(traded["fee"].sum() / window.iloc[0])
        figures[name] = result
    return figures


def prediction_scores(userdir: Path, datadir: Path) -> dict[str, dict[str, float]]:
    """Scores of the stored walk-forward predictions, with HAR refitted on the same windows."""
    files = sorted(userdir.glob("models/*/backtesting_predictions/*_prediction.feather"))
    scores: dict[str, list] = {key: [] for key in ("model", "har", "trailing", "truth")}
    meta_rows = []
    for path in files:
        predictions = pd.read_feather(path)
        coin = path.name.split("_")[1].upper()
        candles = pd.read_feather(datadir / f"{coin}_USDT-1h.feather")
        stamp = int(path.name.split("_")[2])
        window_start = pd.Timestamp(stamp, unit="s", tz="UTC")
        features = volatility_features(candles)
        label = forward_log_volatility(candles)
        dates = candles["date"]
        train = (dates >= window_start - pd.Timedelta(days=365)) & (dates < window_start)
        test = dates.isin(predictions["date"]) if "date" in predictions else None
        if test is None:
            continue
        usable = train & label.notna() & features[list(HAR_FEATURES)].notna().all(axis=1)
        har = LinearRegression().fit(features.loc[usable, list(HAR_FEATURES)], label[usable])
        merged = pd.DataFrame(
            {"date": dates[test], "truth": label[test], "trailing": features["log_rv_1m"][test]}
        )
        merged["har"] = har.predict(features.loc[test, list(HAR_FEATURES)].fillna(0.0))
        merged = merged.merge(
            predictions[["date", "&-log_volatility", "&-meta_label", "do_predict"]]
        )
        merged["meta_truth"] = meta_labels(candles, 120, 0.003)[test].to_numpy()
        merged["base_rate"] = float(meta_labels(candles, 120, 0.003)[train].mean())
        merged = merged[merged["do_predict"] == 1]
        ok = merged[["truth", "har", "trailing", "&-log_volatility"]].notna().all(axis=1)
        scores["model"].append(merged.loc[ok, "&-log_volatility"])
        scores["har"].append(merged.loc[ok, "har"])
        scores["trailing"].append(merged.loc[ok, "trailing"])
        scores["truth"].append(merged.loc[ok, "truth"])
        meta_rows.append(merged[["&-meta_label", "meta_truth", "base_rate"]].dropna())
    truth = np.exp(pd.concat(scores["truth"]).to_numpy())
    result = {}
    for name in ("model", "har", "trailing"):
        forecast = np.exp(pd.concat(scores[name]).to_numpy())
        result[f"volatility_{name}"] = {
            "qlike": qlike(truth**2, forecast**2),
            "log_rmse": log_rmse(truth, forecast),
        }
    meta = pd.concat(meta_rows)
    outcome = meta["meta_truth"].to_numpy()
    for name, column in (("model", "&-meta_label"), ("base_rate", "base_rate")):
        probability = meta[column].to_numpy()
        result[f"meta_{name}"] = {
            "log_loss": binary_log_loss(probability, outcome),
            "brier": binary_brier(probability, outcome),
        }
    result["rows"] = {"volatility": float(len(truth)), "meta": float(len(meta))}
    return result


def deflated_figures(
    path: Path, args: argparse.Namespace, trial_sharpes: list[float], trials: int
) -> dict[str, float]:
    """The chosen run's Deflated Sharpe Ratio over ``trials`` configurations."""
    from freqtrade.data.btanalysis import load_backtest_data, load_backtest_stats

    results = path / "backtest_results" if path.is_dir() else path
    stats = load_backtest_stats(results)
    starting_balance = float(next(iter(stats["strategy"].values()))["starting_balance"])
    trades = load_backtest_data(results)
    closes = load_closes(args.datadir, sorted(set(trades["pair"])))
    span = SimpleNamespace(
        test_start=pd.Timestamp(args.start, tz="UTC"), test_end=pd.Timestamp(args.end, tz="UTC")
    )
    equity = daily_equity(trades, closes, span, starting_balance)  # type: ignore[arg-type]
    returns = equity.pct_change().dropna().to_numpy()
    daily_sharpes = [value / np.sqrt(365) for value in trial_sharpes]
    return {
        "daily_sharpe": float(returns.mean() / returns.std(ddof=1)),
        "expected_max_of_trials": expected_max_sharpe(daily_sharpes, trials),
        "deflated_sharpe_ratio": deflated_sharpe_ratio(returns, daily_sharpes, trials),
        "trials": float(trials),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datadir", type=Path, required=True)
    parser.add_argument("--start", required=True)
    parser.add_argument("--end", required=True)
    parser.add_argument("--run", action="append", default=[], help="NAME=USERDIR")
    parser.add_argument("--predictions", type=Path)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--deflate", help="the chosen run: its Deflated Sharpe Ratio")
    parser.add_argument("--trials", type=int, help="configurations tried in all")
    parser.add_argument(
        "--trial-sharpe", type=float, action="append", default=[], help="annualised, each trial"
    )
    args = parser.parse_args()
    table = {}
    args.run_paths = [(item.split("=", 1)[0], Path(item.split("=", 1)[1])) for item in args.run]
    for item in args.run:
        name, folder = item.split("=", 1)
        table[name] = run_figures(Path(folder), args.datadir, args.start, args.end)
    output: dict = {"runs": table}
    for period in ("overall", *sorted({p for f in table.values() for p in f} - {"overall"})):
        rows = {name: figures[period] for name, figures in table.items() if period in figures}
        print(f"\n== {period}")
        print(pd.DataFrame(rows).T.round(3).to_string())
    if args.deflate:
        deflated = deflated_figures(
            dict(args.run_paths)[args.deflate], args, args.trial_sharpe, args.trials
        )
        output["deflated_sharpe"] = deflated
        print(f"\n== deflated Sharpe ratio of {args.deflate}: {deflated}")
    if args.predictions:
        output["predictions"] = prediction_scores(args.predictions, args.datadir)
        print("\n== predictions")
        print(pd.DataFrame(output["predictions"]).T.round(4).to_string())
    if args.json:
        args.json.write_text(json.dumps(output, indent=2, default=float))


if __name__ == "__main__":
    main()

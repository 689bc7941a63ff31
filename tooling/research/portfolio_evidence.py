"""The portfolio's evidence table from finished ``freqtrade backtesting`` runs
(docs/portfolio-trials.md).

    python -m tooling.research.portfolio_evidence --datadir DIR --start 2021-01-01 \\
        --end 2024-06-30 --run trend-portfolio=USERDIR --run buy-and-hold=USERDIR ...

Every run is valued the same way, from its trades and orders and the candles
(:func:`freqai_swing.equity.daily_equity`): per year and overall return, Sharpe, Sortino, Calmar,
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

from freqai_swing.equity import daily_equity, load_closes
from freqai_swing.portfolio.evidence import period_figures, prediction_scores
from freqai_swing.portfolio.scores import deflated_sharpe_ratio, expected_max_sharpe

PAIRS = ("BTC", "ETH", "SOL", "BNB", "XRP", "ADA", "AVAX", "DOGE", "LINK", "DOT")


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
    return period_figures(equity, trades, closes)


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
        output["predictions"] = prediction_scores(
            args.predictions / "models", args.datadir, 365, 120, 0.003
        )
        print("\n== predictions")
        print(pd.DataFrame(output["predictions"]).T.round(4).to_string())
    if args.json:
        args.json.write_text(json.dumps(output, indent=2, default=float))


if __name__ == "__main__":
    main()

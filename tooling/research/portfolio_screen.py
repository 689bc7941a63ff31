"""Screen portfolio settings with the fast daily simulation (docs/portfolio-trials.md).

    python -m tooling.research.portfolio_screen START END TARGETS [--datadir DIR]

e.g. ``python -m tooling.research.portfolio_screen 2021-01-01 2022-09-30 0.15,0.2,0.3
--datadir ../shared/data/binance``. Prints equal-weight buy & hold, the 200-day rule (1/n of
equity per pair above its 200-day average, decided at the previous close, fees on changes)
and the portfolio core at each annual volatility target.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import pandas as pd

from freqai_swing.portfolio.settings import PortfolioSettings
from freqai_swing.portfolio.simulation import simulate, summary

PAIRS = ("BTC", "ETH", "SOL", "BNB", "XRP", "ADA", "AVAX", "DOGE", "LINK", "DOT")
FEE = 0.0015


def daily_closes(hourly: dict[str, pd.DataFrame]) -> pd.DataFrame:
    closes = {pair: frame.set_index("date")["close"] for pair, frame in hourly.items()}
    return pd.DataFrame(closes).resample("D").last().ffill()


def buy_and_hold(closes: pd.DataFrame, start: str, end: str) -> pd.Series:
    window = closes.loc[start:end]
    return (window / window.iloc[0]).mean(axis=1)


def two_hundred_day_rule(closes: pd.DataFrame, start: str, end: str) -> pd.Series:
    above = closes > closes.rolling(200).mean()
    days = closes.loc[start:end].index
    position = above.shift(1).loc[days].astype(float) / closes.shape[1]
    turnover = position.diff().abs().sum(axis=1).fillna(0.0)
    returns = (position * closes.pct_change().loc[days]).sum(axis=1) - FEE * turnover
    return (1 + returns).cumprod()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("start")
    parser.add_argument("end")
    parser.add_argument("targets", help="comma-separated annual volatility targets")
    parser.add_argument("--datadir", type=Path, default=Path("user_data/data/binance"))
    args = parser.parse_args()
    hourly = {
        f"{coin}/USDT": pd.read_feather(args.datadir / f"{coin}_USDT-1h.feather") for coin in PAIRS
    }
    closes = daily_closes(hourly)
    rows = {
        "buy & hold": summary(buy_and_hold(closes, args.start, args.end)),
        "200-day rule": summary(two_hundred_day_rule(closes, args.start, args.end)),
    }
    for target in (float(value) for value in args.targets.split(",")):
        settings = replace(PortfolioSettings(), target_volatility=target)
        run = simulate(hourly, settings, args.start, args.end, fee=FEE)
        figures = summary(run["equity"])
        figures["exposure"] = float(run["exposure"].mean())
        figures["turnover_per_year"] = float(run["turnover"].sum() / (len(run) / 365))
        rows[f"core, target {target:g}"] = figures
    print(pd.DataFrame(rows).T.round(3).to_string())


if __name__ == "__main__":
    main()

"""Every risk rule binding in real ``freqtrade backtesting`` runs on real candles.

A trade-happy probe strategy (tests/strategies/risk_strategies) inherits the production risk
layer from ``SwingFreqaiStrategyBase`` and wants to buy all ten pairs after every rising candle,
so the rules, not the signal, decide what is traded. March 2024 holds the 2024-03-05 and
2024-03-19 sell-offs. Three runs share one local exchange:

* ``defaults``: the shipped ``swing.risk`` block (Kelly sizing, correlation);
* ``big``: fixed 50 % stakes asked for, cap 40 %, no correlation limit (cap, exposure,
  volatility halving, daily loss, trades per day, losing streak, drawdown);
* ``small``: fixed 5 % stakes, no correlation limit (five open positions).

Each assertion is recomputed from the trades and the candles, not read back from the rule.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.conftest import CONFIG_DIR, REPO_ROOT, load_candles, overlay_factory, run_freqtrade
from tooling.sample_data import SAMPLE_PAIRS

pytestmark = pytest.mark.slow

PAIRS = list(SAMPLE_PAIRS)  # all ten bundled pairs
TIMERANGE = "20240301-20240401"
WALLET = 10_000.0
#: A stake is rounded down to the market's amount step, at most this far below its target.
PRECISION_SLACK = 0.01
STRATEGY_PATH = REPO_ROOT / "tests" / "strategies" / "risk_strategies"
NO_CORRELATION_LIMIT = {"max_correlation": 1.0, "kelly_min_trades": 100_000}
RUNS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "big": {"initial_stake_fraction": 0.5, "max_stake_fraction": 0.4, **NO_CORRELATION_LIMIT},
    "small": NO_CORRELATION_LIMIT,
}


@dataclass
class RiskRun:
    trades: pd.DataFrame
    locks: list[dict[str, Any]]
    stats: dict[str, Any]
    output: str

    def fired(self, rule: str) -> list[str]:
        return re.findall(rf"Risk rule {rule} fired at ([\d\- :]+):", self.output)

    def locks_of(self, reason: str) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
        return [
            (
                pd.Timestamp(lock["lock_time"], tz="UTC"),
                pd.Timestamp(lock["lock_end_time"], tz="UTC"),
            )
            for lock in self.locks
            if lock["reason"].startswith(f"risk:{reason}")
        ]

    def entries_between(self, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
        opened = self.trades["open_date"]
        return self.trades[(opened > start) & (opened < end)]


@pytest.fixture(scope="module")
def risk_runs(
    tmp_path_factory: pytest.TempPathFactory, offline_overlay: Path
) -> dict[str, RiskRun]:
    overlays = overlay_factory(tmp_path_factory.mktemp("risk-overlays"))
    runs = {}
    for name, risk in RUNS.items():
        run = run_freqtrade(
            [
                "backtesting",
                "--strategy",
                "RiskProbeStrategy",
                "--strategy-path",
                str(STRATEGY_PATH),
                "--timerange",
                TIMERANGE,
                "--cache",
                "none",
                "--export",
                "trades",
            ],
            userdir=tmp_path_factory.mktemp(f"risk-{name}"),
            configs=[CONFIG_DIR / "base.json"],
            overlays=[overlays(PAIRS, swing={"risk": risk}), offline_overlay],
        )
        assert run.returncode == 0, run.output[-3000:]
        stats = run.backtest_stats()["strategy"]["RiskProbeStrategy"]
        # Entries of one candle happen in whitelist order (pairs without an open trade).
        trades_raw = run.trades()
        order = trades_raw.assign(rank=trades_raw["pair"].map(PAIRS.index))
        trades = order.sort_values(["open_date", "rank"]).reset_index(drop=True)
        runs[name] = RiskRun(trades, stats["locks"], stats, run.output)
    return runs


# --- helpers recomputing the rules from trades and candles ---------------------------------
def equity_bound(trades: pd.DataFrame, moment: pd.Timestamp) -> float:
    """The most the strategy's equity can have been at an entry at ``moment``.

    10 000 + profit of the trades closed before; of those closed in the same candle only the
    gains, since the candle's processing order decides which had closed at the entry.
    """
    before = trades[trades["close_date"] < moment]["profit_abs"].sum()
    same_candle = trades[trades["close_date"] == moment]["profit_abs"]
    return WALLET + before + same_candle.clip(lower=0).sum()


def held_before(trades: pd.DataFrame, index: int) -> pd.DataFrame:
    """Positions certainly open when trade ``index`` was entered."""
    opened = trades.loc[index, "open_date"]
    earlier = trades.index < index
    return trades[earlier & (trades["open_date"] <= opened) & (trades["close_date"] > opened)]


def log_returns_before(pair: str, moment: pd.Timestamp, count: int) -> pd.Series:
    candles = load_candles(pair)
    close = candles[candles["date"] < moment].set_index("date")["close"].iloc[-(count + 1) :]
    return np.log(close).diff().dropna()


def volatility_ratio(pair: str, moment: pd.Timestamp) -> tuple[float, float]:
    returns = log_returns_before(pair, moment, 720)
    current = returns.iloc[-24:].std()
    return current * math.sqrt(24 * 365), current / returns.std()


# --- sizing ---------------------------------------------------------------------------------
def test_stake_never_above_the_cap_and_the_cap_binds(risk_runs: dict[str, RiskRun]) -> None:
    run = risk_runs["big"]
    trades = run.trades
    assert len(trades) > 20
    shares = [row.stake_amount / equity_bound(trades, row.open_date) for row in trades.itertuples()]
    assert max(shares) <= 0.4 + 1e-9, "50 % asked, 40 % cap"
    assert trades.loc[0, "stake_amount"] == pytest.approx(0.4 * WALLET, rel=PRECISION_SLACK)
    assert run.fired("stake-cap")


def test_exposure_never_above_80_percent_and_binds(risk_runs: dict[str, RiskRun]) -> None:
    run = risk_runs["big"]
    trades = run.trades
    exposures = []
    for index, row in trades.iterrows():
        held = held_before(trades, index)["stake_amount"].sum()
        exposures.append((held + row["stake_amount"]) / equity_bound(trades, row["open_date"]))
    assert max(exposures) <= 0.8 + 1e-9
    assert max(exposures) >= 0.8 * (1 - PRECISION_SLACK)
    assert len(run.fired("exposure")) > 0
    assert (trades["stake_amount"] < 0.39 * WALLET * 0.5).any(), "stakes cut to the room left"


def test_high_volatility_halves_the_stake(risk_runs: dict[str, RiskRun]) -> None:
    run = risk_runs["big"]
    trades = run.trades
    halved = 0
    for row in trades.itertuples():
        _, ratio = volatility_ratio(row.pair, row.open_date)
        share = row.stake_amount / equity_bound(trades, row.open_date)
        if ratio > 2 + 1e-9:
            assert share <= 0.25 + 1e-9, (row.pair, row.open_date, share)
            halved += share >= 0.25 * (1 - PRECISION_SLACK)
        elif abs(ratio - 2) > 1e-6:
            assert share <= 0.4 + 1e-9
    assert halved > 0, "a high-volatility entry got half of the 50 % fixed stake"
    assert run.fired("high-volatility")


def test_kelly_sizing_follows_the_recent_trades(risk_runs: dict[str, RiskRun]) -> None:
    """Shipped settings: 5 % until 20 trades closed, then 0.25 Kelly / (1 + volatility)."""
    run = risk_runs["defaults"]
    trades = run.trades
    checked = 0
    for _, row in trades.iterrows():
        moment = row["open_date"]
        if (trades["close_date"] == moment).any():
            continue  # trades closed in the same candle may or may not have counted
        closed = trades[
            (trades["close_date"] < moment)
            & (trades["close_date"] >= moment - pd.Timedelta(days=30))
        ].sort_values("close_date")
        ratios = closed["profit_ratio"].to_numpy()[-50:]
        volatility, ratio = volatility_ratio(row["pair"], moment)
        if len(ratios) < 20:
            expected = 0.05
        else:
            wins, losses = ratios[ratios > 0], -ratios[ratios <= 0]
            if len(wins) == 0:
                continue
            p = len(wins) / len(ratios)
            loss = losses.mean() if len(losses) else 0.0
            kelly = (p * wins.mean() - (1 - p) * loss) / wins.mean()
            expected = min(kelly * 0.25 / (1 + volatility), 0.2)
        if ratio > 2:
            expected /= 2
        share = row["stake_amount"] / equity_bound(trades, moment)
        assert share <= expected + 1e-9, (row["pair"], moment, share, expected)
        assert share >= expected * (1 - PRECISION_SLACK), (moment, share, expected)
        checked += 1
    assert checked >= 10
    assert any("(no-edge)" in line for line in run.output.splitlines()), "Kelly <= 0 skips"


# --- entry gates ----------------------------------------------------------------------------
def test_at_most_five_positions_and_the_limit_binds(risk_runs: dict[str, RiskRun]) -> None:
    run = risk_runs["small"]
    trades = run.trades
    moments = sorted(set(trades["open_date"]) | set(trades["close_date"]))
    held = [
        ((trades["open_date"] <= moment) & (trades["close_date"] > moment)).sum()
        for moment in moments
    ]
    assert max(held) == 5
    assert run.stats["rejected_signals"] > 0, "signals refused for lack of a slot"


def test_at_most_ten_entries_per_utc_day(risk_runs: dict[str, RiskRun]) -> None:
    for name in ("big", "small"):
        run = risk_runs[name]
        per_day = run.trades.groupby(run.trades["open_date"].dt.floor("D")).size()
        assert per_day.max() == 10, name
        assert run.locks_of("trades-per-day"), name


def test_no_two_open_positions_correlated_above_07(risk_runs: dict[str, RiskRun]) -> None:
    run = risk_runs["defaults"]
    trades = run.trades
    pairs_checked = 0
    for index, row in trades.iterrows():
        mine = log_returns_before(row["pair"], row["open_date"], 168)
        for other in held_before(trades, index)["pair"]:
            theirs = log_returns_before(other, row["open_date"], 168)
            joined = pd.concat([mine, theirs], axis=1, join="inner").iloc[-168:]
            correlation = joined.iloc[:, 0].corr(joined.iloc[:, 1])
            assert correlation <= 0.7 + 1e-9, (row["pair"], other, row["open_date"])
            pairs_checked += 1
    assert pairs_checked > 0, "positions were held together"
    assert len(run.fired("correlation")) > 0


# --- pauses ---------------------------------------------------------------------------------
def test_no_entry_after_the_daily_loss_limit(risk_runs: dict[str, RiskRun]) -> None:
    run = risk_runs["big"]
    trades = run.trades
    breaches = 0
    for day, closed in trades.groupby(trades["close_date"].dt.floor("D")):
        start_equity = WALLET + trades[trades["close_date"] < day]["profit_abs"].sum()
        closed = closed.sort_values("close_date")
        loss = -closed["profit_abs"].cumsum() / start_equity
        if not (loss >= 0.05).any():
            continue
        breach = closed["close_date"][loss >= 0.05].iloc[0]
        assert run.entries_between(breach, day + pd.Timedelta(days=1)).empty, breach
        assert any(lock <= breach < end for lock, end in run.locks_of("daily-loss")), breach
        breaches += 1
    assert breaches > 0
    for lock, end in run.locks_of("daily-loss"):
        assert end == lock.floor("D") + pd.Timedelta(days=1), "until midnight UTC"


def test_pause_after_five_losses_in_a_row(risk_runs: dict[str, RiskRun]) -> None:
    run = risk_runs["big"]
    locks = run.locks_of("consecutive-losses")
    assert locks
    # one candle's closes count wins first, so a win in that candle never hides its losses
    closed = run.trades.assign(loss=run.trades["profit_ratio"] <= 0)
    closed = closed.sort_values(["close_date", "loss"]).reset_index(drop=True)
    losing = closed["loss"].astype(int)
    streak_of_five = losing.rolling(5).sum() == 5
    first = closed.loc[streak_of_five.idxmax(), "close_date"]
    assert locks[0][0] == first, "the first run of five losses starts the first pause"
    for lock, end in locks:
        assert end - lock == pd.Timedelta(hours=24)
        assert run.entries_between(lock, end).empty, lock
        before = closed[closed["close_date"] <= lock]
        assert (before["profit_ratio"].iloc[-5:] <= 0).all()


def test_seven_day_pause_after_a_15_percent_drawdown(risk_runs: dict[str, RiskRun]) -> None:
    run = risk_runs["big"]
    locks = run.locks_of("drawdown")
    assert locks
    closed = run.trades.sort_values("close_date", kind="stable")
    curve = WALLET + closed["profit_abs"].cumsum()
    drawdown = 1 - curve / np.maximum(curve.cummax(), WALLET)
    first_breach = closed["close_date"][drawdown >= 0.15].iloc[0]
    assert locks[0][0] <= first_breach
    at_lock = drawdown[closed["close_date"] <= locks[0][0]].iloc[-1]
    assert at_lock >= 0.15
    for lock, end in locks:
        assert end - lock == pd.Timedelta(days=7)
        assert run.entries_between(lock, end).empty, lock


def test_bundle_backtests_run_with_protections_enabled(risk_runs: dict[str, RiskRun]) -> None:
    """config/base.json turns protections on, so backtests apply them as live trading does."""
    assert all(run.stats["enable_protections"] is True for run in risk_runs.values())

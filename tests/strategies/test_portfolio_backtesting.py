"""SwingPortfolioStrategy in the real ``freqtrade backtesting``, on the bundled real candles."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import (
    CONFIG_DIR,
    SAMPLE_DATADIR,
    FreqtradeRun,
    overlay_factory,
    run_freqtrade,
)

pytestmark = pytest.mark.slow

PAIRS = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "AVAX/USDT"]
TIMERANGE = "20231001-20240401"
PORTFOLIO = (CONFIG_DIR / "base.json", CONFIG_DIR / "portfolio.json")
NO_ML = CONFIG_DIR / "portfolio-no-ml.json"
MAX_STAKE = 0.06  # below the weights these pairs get, so the cap binds
STREAK = 2
CHOPPY_TIMERANGE = "20230801-20231201"  # trends start and fail: losing exits in a row


def backtest(userdir: Path, overlays: list[Path], timerange: str = TIMERANGE) -> FreqtradeRun:
    run = run_freqtrade(
        ["backtesting", "--timerange", timerange, "--cache", "none", "--export", "trades"],
        userdir=userdir,
        configs=PORTFOLIO,
        overlays=overlays,
    )
    assert run.returncode == 0, run.output[-3000:]
    return run


@pytest.fixture(scope="module")
def core_run(tmp_path_factory: pytest.TempPathFactory, offline_overlay: Path) -> FreqtradeRun:
    overlays = overlay_factory(tmp_path_factory.mktemp("overlays"))
    return backtest(tmp_path_factory.mktemp("core"), [overlays(PAIRS), NO_ML, offline_overlay])


@pytest.fixture(scope="module")
def capped_run(tmp_path_factory: pytest.TempPathFactory, offline_overlay: Path) -> FreqtradeRun:
    overlays = overlay_factory(tmp_path_factory.mktemp("overlays"))
    risk = {"max_stake_fraction": MAX_STAKE, "max_consecutive_losses": STREAK}
    tight = overlays(PAIRS, swing={"risk": risk})
    return backtest(
        tmp_path_factory.mktemp("capped"), [NO_ML, tight, offline_overlay], CHOPPY_TIMERANGE
    )


def orders(run: FreqtradeRun) -> pd.DataFrame:
    rows = []
    for trade in run.trades().itertuples():
        for order in trade.orders:
            rows.append(
                {
                    "pair": trade.pair,
                    "trade_open": trade.open_date,
                    "side": order["ft_order_side"],
                    "tag": order.get("ft_order_tag"),
                    "cost": float(order["cost"]),
                    "date": pd.Timestamp(order["order_filled_timestamp"], unit="ms", tz="UTC"),
                }
            )
    return pd.DataFrame(rows)


def test_the_core_trades_every_pair_and_rebalances_with_several_orders(
    core_run: FreqtradeRun,
) -> None:
    trades = core_run.trades()
    assert set(trades["pair"]) == set(PAIRS)
    book = orders(core_run)
    per_trade = book.groupby(["pair", "trade_open"]).size()
    assert per_trade.max() > 2, "a position is adjusted after its entry"
    assert (book["tag"] == "rebalance_up").any(), "additions"
    assert ((book["side"] == "sell") & (book["tag"] == "rebalance_down")).any(), "partial exits"
    assert (trades["exit_reason"] == "trend_off").any()
    decided = book["date"].dt.hour == 0
    assert decided.all(), "orders only in the hour after a daily decision"


def test_no_position_outgrows_the_cap_by_more_than_the_band(core_run: FreqtradeRun) -> None:
    """Winners are trimmed back to target (SOL rose about fivefold in this period): at each
    daily mark, no position is worth more than the 20 % cap plus the band and a day's move."""
    from types import SimpleNamespace

    from freqai_swing.equity import daily_equity, load_closes
    from freqai_swing.portfolio.evidence import held_values

    trades = core_run.trades()
    closes = load_closes(SAMPLE_DATADIR, PAIRS)
    span = SimpleNamespace(
        test_start=pd.Timestamp("2023-10-02", tz="UTC"),
        test_end=pd.Timestamp("2024-04-01", tz="UTC"),
    )
    equity = daily_equity(trades, closes, span, 10_000.0)  # type: ignore[arg-type]
    marks = closes.reindex(closes.index.union(equity.index)).ffill().reindex(equity.index)
    for pair, value in held_values(trades, equity.index, marks).items():
        share = value / equity.to_numpy()
        assert share.max() < 0.2 * 1.25 * 1.25, f"{pair} grew to {share.max():.0%} of equity"


def test_ml_off_removes_every_model_from_the_decision(core_run: FreqtradeRun) -> None:
    assert "Portfolio model for" not in core_run.output
    assert not any((core_run.userdir / "models").rglob("*")), "no model file written"
    assert re.search(r"Starting FreqAI|Training model", core_run.output) is None


def test_the_position_cap_and_the_losing_streak_pause_bind(capped_run: FreqtradeRun) -> None:
    stats = capped_run.backtest_stats()["strategy"]["SwingPortfolioStrategy"]
    book = orders(capped_run)
    trades = capped_run.trades()
    # no mark-to-market equity exceeds the start plus every gain the run made, by much
    equity_high = 1.1 * (stats["starting_balance"] + trades["profit_abs"].clip(lower=0).sum())
    for (_, _), trade_orders in book.groupby(["pair", "trade_open"]):
        signed = trade_orders["cost"].where(trade_orders["side"] == "buy", -trade_orders["cost"])
        held = signed.cumsum()
        assert (held <= MAX_STAKE * equity_high * 1.01).all(), "cap on every position"
    first = book[book["side"] == "buy"].groupby(["pair", "trade_open"])["cost"].first()
    low = 0.9 * MAX_STAKE * (stats["starting_balance"] + trades["profit_abs"].clip(upper=0).sum())
    assert (first >= low).any(), "the cap is what sized some positions"
    locks = [lock for lock in stats["locks"] if "consecutive-losses" in (lock["reason"] or "")]
    assert locks, "the losing-streak pause fired"
    buys = book[book["side"] == "buy"]
    for lock in locks:
        start = pd.Timestamp(lock["lock_timestamp"], unit="ms", tz="UTC")
        end = pd.Timestamp(lock["lock_end_timestamp"], unit="ms", tz="UTC")
        inside = buys[(buys["date"] > start) & (buys["date"] < end)]
        assert inside.empty, f"no entry or addition during the pause {start} → {end}"


@pytest.mark.parametrize(
    ("volatility_model", "meta_model"), [("lightgbm", "lightgbm"), ("xgboost", "ensemble")]
)
def test_ml_parts_train_per_window_and_size_the_book(
    tmp_path: Path, offline_overlay: Path, pairs_overlay, volatility_model: str, meta_model: str
) -> None:
    parts = {"volatility_forecast": True, "meta_filter": True}
    learners = {"volatility_model": volatility_model, "meta_model": meta_model}
    ml = pairs_overlay(
        ["BTC/USDT", "ETH/USDT"],
        freqai={"enabled": True, "train_period_days": 60},
        swing={"portfolio": parts | learners},
    )
    run = backtest(tmp_path, [ml, offline_overlay], timerange="20240301-20240415")
    trained = re.findall(
        r"Portfolio model for (\S+): volatility by (\w+), meta-label by (\w+) "
        r"\(weights \[([^\]]*)\]\)",
        run.output,
    )
    assert sorted({pair for pair, *_ in trained}) == ["BTC/USDT", "ETH/USDT"]
    assert len(trained) == 4
    mixes = []
    for _, volatility, meta, weights in trained:
        assert (volatility, meta) == (volatility_model, meta_model)
        if weights:  # empty: a window with one class, which answers its base rate
            mixes.append([float(w) for w in weights.split(",")])
    assert mixes, "no window fitted its meta-label members"
    for mix in mixes:
        assert len(mix) == (2 if meta_model == "ensemble" else 1)
        assert min(mix) >= 0 and sum(mix) == pytest.approx(1, abs=2e-3)
    predictions = pd.concat(
        pd.read_feather(path) for path in run.userdir.glob("models/*/backtesting_predictions/*")
    )
    assert predictions["&-meta_label"].between(0, 1).all()
    assert predictions["&-log_volatility"].between(np.log(0.05), np.log(5)).all()

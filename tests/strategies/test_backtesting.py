"""The real ``freqtrade`` commands on the bundle, against the local exchange, on real candles."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import FreqtradeRun, overlay_factory, run_freqtrade
from tooling.offline import backtesting_arguments

pytestmark = pytest.mark.slow

PAIRS = ["ETH/USDT", "SOL/USDT", "XRP/USDT"]
TIMERANGE = "20240101-20240501"
START, END = pd.Timestamp("2024-01-01", tz="UTC"), pd.Timestamp("2024-05-01", tz="UTC")
WINDOWS = math.ceil((END - START).days / 30)  # backtest_period_days = 30: 5 windows
FEE_PER_SIDE = 0.0015  # config/base.json: 0.1 % fee + 0.05 % slippage


def backtest(userdir: Path, offline_overlay: Path, pairs_overlay, freqaimodel: str) -> FreqtradeRun:
    run = run_freqtrade(
        backtesting_arguments(freqaimodel, TIMERANGE),
        userdir=userdir,
        overlays=[pairs_overlay(PAIRS), offline_overlay],
    )
    assert run.returncode == 0, run.output[-3000:]
    return run


@pytest.fixture(scope="module")
def xgboost_run(tmp_path_factory: pytest.TempPathFactory, offline_overlay: Path) -> FreqtradeRun:
    overlays = overlay_factory(tmp_path_factory.mktemp("overlays"))
    return backtest(
        tmp_path_factory.mktemp("xgb"), offline_overlay, overlays, "SwingXGBoostClassifier"
    )


def test_resolvers_find_the_bundle_classes(tmp_path: Path) -> None:
    strategies = run_freqtrade(["list-strategies", "-1"], userdir=tmp_path)
    assert strategies.returncode == 0, strategies.output[-2000:]
    assert "SwingClassifierStrategy" in strategies.output.split()
    models = run_freqtrade(["list-freqaimodels", "-1"], userdir=tmp_path)
    assert models.returncode == 0, models.output[-2000:]
    names = models.output.split()
    assert "SwingXGBoostClassifier" in names and "SwingLightGBMClassifier" in names


def assert_trained_traded_and_charged(run: FreqtradeRun, model_name: str) -> None:
    trainings = re.findall(r"Done training (\S+)", run.output)
    assert len(trainings) == len(PAIRS) * WINDOWS, "one model per pair and walk-forward window"
    assert f"{model_name} fitted on" in run.output
    stats = run.backtest_stats()["strategy"]["SwingClassifierStrategy"]
    trades = run.trades()
    assert stats["total_trades"] == len(trades) > 0
    assert (trades["open_date"] >= START).all() and (trades["close_date"] <= END).all()
    assert (trades["fee_open"] == FEE_PER_SIDE).all() and (
        trades["fee_close"] == FEE_PER_SIDE
    ).all()
    gross = trades["close_rate"] / trades["open_rate"] - 1
    assert (trades["profit_ratio"] < gross - FEE_PER_SIDE).all(), "fees are charged on both sides"
    assert set(trades["pair"]) <= set(PAIRS)
    assert (trades["is_short"] == False).all()  # noqa: E712 - spot, long only
    predictions = pd.concat(
        pd.read_feather(path) for path in run.userdir.glob("models/*/backtesting_predictions/*")
    )
    unskilled = predictions["validation_skill"] <= 0
    assert unskilled.any() and (~unskilled).any(), "both kinds of window occur on these pairs"
    assert (predictions.loc[unskilled, "do_predict"] == 0).all(), "no skill, no prediction"


def test_xgboost_backtest_trains_per_window_and_trades(xgboost_run: FreqtradeRun) -> None:
    assert_trained_traded_and_charged(xgboost_run, "xgboost")


def test_lightgbm_backtest_trains_per_window_and_trades(
    tmp_path: Path, offline_overlay: Path, pairs_overlay
) -> None:
    run = backtest(tmp_path, offline_overlay, pairs_overlay, "SwingLightGBMClassifier")
    assert_trained_traded_and_charged(run, "lightgbm")


def test_a_fresh_rerun_gives_the_same_backtest(
    xgboost_run: FreqtradeRun, tmp_path: Path, offline_overlay: Path, pairs_overlay
) -> None:
    """Seeded models: new folders, new training, identical trades."""
    rerun = backtest(tmp_path, offline_overlay, pairs_overlay, "SwingXGBoostClassifier")
    assert "Found backtesting prediction file" not in rerun.output
    columns = ["pair", "open_date", "close_date", "open_rate", "close_rate", "profit_abs"]
    pd.testing.assert_frame_equal(
        xgboost_run.trades()[columns].reset_index(drop=True),
        rerun.trades()[columns].reset_index(drop=True),
    )


def test_a_changed_label_setting_never_reuses_predictions(
    xgboost_run: FreqtradeRun, offline_overlay: Path, pairs_overlay
) -> None:
    """Same userdir, same identifier in the config, other barrier: FreqAI must train anew."""
    changed = pairs_overlay(PAIRS, swing={"labels": {"horizon_candles": 24, "barrier_pct": 0.03}})
    run = run_freqtrade(
        backtesting_arguments("SwingXGBoostClassifier", TIMERANGE, export=False),
        userdir=xgboost_run.userdir,
        overlays=[changed, offline_overlay],
    )
    assert run.returncode == 0, run.output[-3000:]
    assert "Found backtesting prediction file" not in run.output
    assert len(re.findall(r"Done training", run.output)) == len(PAIRS) * WINDOWS
    identifiers = {p.name for p in (xgboost_run.userdir / "models").iterdir()}
    assert len(identifiers) == 2, identifiers

"""FreqAI never trades on predictions made from other candles than the backtest's own."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import SAMPLE_DATADIR, run_freqtrade
from tooling.offline import backtesting_arguments

pytestmark = pytest.mark.slow

REUSED = "Found backtesting prediction file"


def test_edited_candles_are_never_served_stale_predictions(
    tmp_path: Path, offline_overlay: Path, pairs_overlay
) -> None:
    """Same userdir, same settings; only a candle file changes between the runs."""
    datadir = tmp_path / "binance"
    shutil.copytree(SAMPLE_DATADIR, datadir)
    userdir = tmp_path / "userdir"
    overlays = [pairs_overlay(["ETH/USDT"]), offline_overlay]
    arguments = backtesting_arguments("SwingXGBoostClassifier", "20240101-20240131", export=False)

    def backtest() -> str:
        run = run_freqtrade(arguments, userdir=userdir, overlays=overlays, datadir=datadir)
        assert run.returncode == 0, run.output[-3000:]
        return run.output

    first = backtest()
    assert REUSED not in first and re.search(r"Done training", first)
    assert REUSED in backtest(), "unchanged candles: FreqAI reuses its predictions"

    path = datadir / "ETH_USDT-1h.feather"
    candles = pd.read_feather(path)
    gap = (candles["date"] >= "2023-11-01") & (candles["date"] < "2023-11-06")
    edited = candles[~gap].reset_index(drop=True)
    edited.loc[len(edited) - 400 : len(edited) - 390, ["open", "high", "low", "close"]] = None
    edited.to_feather(path)
    after = backtest()
    assert REUSED not in after, "predictions of the old candles were reused"
    assert re.search(r"Done training", after)
    assert len([p for p in (userdir / "models").iterdir() if p.is_dir()]) == 2

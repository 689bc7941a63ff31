"""Bad input through the real ``freqtrade backtesting``: a clear error, or no trade on bad rows."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import SAMPLE_DATADIR, FreqtradeRun, run_freqtrade, write_config
from tooling.offline import backtesting_arguments

pytestmark = pytest.mark.slow

TIMERANGE = "20240101-20240501"
PAIRS = ["ETH/USDT", "SOL/USDT", "XRP/USDT"]
SMALL_MODEL = {"freqai": {"model_training_parameters": {"xgboost": {"n_estimators": 80}}}}

DatadirEditor = Callable[[Path], None]


def copy_datadir(target: Path, edit: DatadirEditor | None = None) -> Path:
    shutil.copytree(SAMPLE_DATADIR, target)
    if edit is not None:
        edit(target)
    return target


def edit_candles(datadir: Path, pair: str, change: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    path = datadir / f"{pair.replace('/', '_')}-1h.feather"
    change(pd.read_feather(path)).reset_index(drop=True).to_feather(path)


def backtest(
    tmp_path: Path,
    offline_overlay: Path,
    datadir: Path = SAMPLE_DATADIR,
    overlay: dict | None = None,
    pairs: list[str] = PAIRS,
    timerange: str = TIMERANGE,
) -> FreqtradeRun:
    # The risk layer off: the damaged stretch is placed around the control run's middle trade,
    # so it must follow the strategy's signals alone (risk rules: test_risk_backtests.py).
    settings = {
        "exchange": {"pair_whitelist": pairs},
        **SMALL_MODEL,
        "swing": {"risk": {"enabled": False}},
        **(overlay or {}),
    }
    config = write_config(tmp_path / "overlay.json", settings)
    return run_freqtrade(
        backtesting_arguments("SwingXGBoostClassifier", timerange),
        userdir=tmp_path / "userdir",
        overlays=[config, offline_overlay],
        datadir=datadir,
    )


def assert_clean_failure(run: FreqtradeRun, message: str) -> None:
    assert run.returncode != 0
    assert message in run.output, run.output[-2000:]
    assert "Traceback" not in run.output, "a clear message, not a stack trace"


Stretch = tuple[str, pd.Timestamp, pd.Timestamp]


@pytest.fixture(scope="module")
def bad_stretch(tmp_path_factory: pytest.TempPathFactory, offline_overlay: Path) -> Stretch:
    """12 hours around an entry of the undamaged run: where damage must stop a trade."""
    control = backtest(tmp_path_factory.mktemp("control"), offline_overlay)
    assert control.returncode == 0, control.output[-3000:]
    trades = control.trades()
    assert len(trades), "the undamaged run must trade, or the damaged runs prove nothing"
    first = trades.sort_values("open_date").iloc[len(trades) // 2]
    entry = pd.Timestamp(first["open_date"])
    return str(first["pair"]), entry - pd.Timedelta(hours=6), entry + pd.Timedelta(hours=6)


def entries_inside(run: FreqtradeRun, pair: str, start: pd.Timestamp, end: pd.Timestamp) -> int:
    trades = run.trades()
    opened = trades[(trades["pair"] == pair)]["open_date"]
    return int(((opened >= start) & (opened <= end)).sum())


def test_unknown_config_key_is_named(tmp_path: Path, offline_overlay: Path) -> None:
    run = backtest(tmp_path, offline_overlay, overlay={"swing": {"labels": {"horizon": 24}}})
    assert_clean_failure(run, "Unknown key swing.labels.horizon; did you mean horizon_candles?")
    run = backtest(tmp_path, offline_overlay, overlay={"freqai": {"train_period_day": 30}})
    assert_clean_failure(
        run, "Unknown key freqai.train_period_day; did you mean train_period_days?"
    )


def test_local_exchange_not_running(tmp_path: Path) -> None:
    dead = {
        "exchange": {
            "ccxt_config": {"urls": {"api": {"public": "http://127.0.0.1:9/api/v3"}}},
            "ccxt_async_config": {"urls": {"api": {"public": "http://127.0.0.1:9/api/v3"}}},
            "pair_whitelist": PAIRS,
        }
    }
    config = write_config(tmp_path / "dead.json", dead)
    run = run_freqtrade(
        ["backtesting", "--timerange", TIMERANGE], userdir=tmp_path / "u", overlays=[config]
    )
    # freqtrade's own exchange start-up logs the connection error; its verdict is the last line
    assert run.returncode != 0
    verdict = run.output.strip().splitlines()[-1]
    assert verdict.endswith(
        "ERROR - Could not load markets, therefore cannot start. Please "
        "investigate the above error for more details."
    )
    assert not list((tmp_path / "u" / "backtest_results").glob("*.zip"))


def test_missing_market_pair_candles_stop_with_a_clear_error(
    tmp_path: Path, offline_overlay: Path
) -> None:
    def drop_btc(datadir: Path) -> None:
        for path in datadir.glob("BTC_USDT-*.feather"):
            path.unlink()

    run = backtest(tmp_path, offline_overlay, copy_datadir(tmp_path / "data", drop_btc))
    assert_clean_failure(run, "No 1h candles for the market pair BTC/USDT")


def test_missing_pair_file_is_reported_and_skipped(tmp_path: Path, offline_overlay: Path) -> None:
    def drop_sol(datadir: Path) -> None:
        (datadir / "SOL_USDT-1h.feather").unlink()

    run = backtest(tmp_path, offline_overlay, copy_datadir(tmp_path / "data", drop_sol))
    assert run.returncode == 0, run.output[-3000:]
    assert "No history for SOL/USDT, spot, 1h found" in run.output
    assert "SOL/USDT" not in set(run.trades()["pair"])


def test_gap_in_candles_opens_no_trade_inside_it(
    tmp_path: Path, offline_overlay: Path, bad_stretch: Stretch
) -> None:
    pair, start, end = bad_stretch

    def cut_gap(datadir: Path) -> None:
        edit_candles(datadir, pair, lambda df: df[(df["date"] < start) | (df["date"] > end)])

    run = backtest(tmp_path, offline_overlay, copy_datadir(tmp_path / "data", cut_gap))
    assert run.returncode == 0, run.output[-3000:]
    # freqtrade fills the hole with flat zero-volume candles: none of them may open a trade
    assert entries_inside(run, pair, start, end + pd.Timedelta(hours=1)) == 0
    assert len(run.trades()) > 0, "the rest of the window still trades"


def test_nan_candles_give_no_prediction_and_no_trade(
    tmp_path: Path, offline_overlay: Path, bad_stretch: Stretch
) -> None:
    pair, start, end = bad_stretch

    def poison(datadir: Path) -> None:
        def nan_rows(df: pd.DataFrame) -> pd.DataFrame:
            rows = (df["date"] >= start) & (df["date"] <= end)
            df.loc[rows, ["open", "high", "low", "close"]] = np.nan
            return df

        edit_candles(datadir, pair, nan_rows)

    run = backtest(tmp_path, offline_overlay, copy_datadir(tmp_path / "data", poison))
    assert run.returncode == 0, run.output[-3000:]
    assert entries_inside(run, pair, start, end + pd.Timedelta(hours=1)) == 0
    assert len(run.trades()) > 0, "the rest of the window still trades"

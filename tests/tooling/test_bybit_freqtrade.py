"""The real ``freqtrade`` commands on Bybit: the local exchange's v5 endpoints instead of bybit.com.

``config/base.json`` + ``config/bybit.json`` and the Bybit overlay, nothing else changed:
list-markets shows Bybit's filters, download-data gives back the candle files, a FreqAI
walk-forward backtest of the default strategy trades, and a replayed dry run opens and closes a
trade through the real loop. Only the exchange's network is a stand-in (the loopback server).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import CONFIG_DIR, REPO_ROOT, SAMPLE_DATADIR, load_candles, run_freqtrade
from tests.support.paper_bot import PaperBot, force_round_trip, replayed_dry_run, wait_for
from tooling.exchanges import write_exchange_overlay
from tooling.local_exchange import LocalExchange
from tooling.offline import (
    backtesting_arguments,
    bundle_environment,
    freqtrade_executable,
)

pytestmark = pytest.mark.slow

BYBIT_CONFIGS = (CONFIG_DIR / "base.json", CONFIG_DIR / "bybit.json")
PAIRS = ["ETH/USDT", "SOL/USDT"]
# The default model (config/freqai.json) walking forward over six weeks on two pairs.
TIMERANGE = "20240101-20240215"
WINDOWS = 2  # 30-day walk-forward windows (backtest_period_days): January, then February 1-15
SWING_ANY_SKILL = {
    # Windows whose model does not beat the class prior withhold their predictions; let them
    # through so that two short windows trade.
    "swing": {"model": {"min_validation_skill": -1.0}},
}
SMALL_FREQAI = {
    "freqai": {
        "train_period_days": 30,
        "feature_parameters": {"indicator_periods_candles": [12]},
        "model_training_parameters": {"xgboost": {"n_estimators": 40, "max_depth": 4}},
    },
    **SWING_ANY_SKILL,
}


@pytest.fixture(scope="module")
def bybit_overlay(local_exchange: LocalExchange, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Bybit overlay on the session's local exchange (one server answers both APIs)."""
    folder = tmp_path_factory.mktemp("bybit")
    return write_exchange_overlay(folder / "bybit.json", "bybit", local_exchange.url)


def _bybit_hits(exchange: LocalExchange) -> set[str]:
    return {path for path in exchange.endpoint_hits if "/v5/" in path}


def test_freqtrade_validates_the_bybit_config() -> None:
    arguments = ["show-config"] + [part for path in BYBIT_CONFIGS for part in ("-c", str(path))]
    result = subprocess.run(
        [freqtrade_executable(), *arguments], cwd=REPO_ROOT, env=bundle_environment(),
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert '"name": "bybit"' in result.stdout and '"fee": 0.0015' in result.stdout
    assert '"datadir": "user_data/data/bybit"' in result.stdout


def test_list_markets_shows_bybit_filters(tmp_path: Path, bybit_overlay: Path) -> None:
    run = run_freqtrade(
        ["list-markets"], userdir=tmp_path, configs=BYBIT_CONFIGS, overlays=[bybit_overlay]
    )
    assert run.returncode == 0, run.output[-3000:]
    assert "Using resolved exchange class 'Bybit'" in run.output
    assert "Exchange Bybit has 10 active markets" in run.output
    whitelist = json.loads((CONFIG_DIR / "base.json").read_text())["exchange"]["pair_whitelist"]
    rows = {
        line.split()[3]: line.split()
        for line in run.output.splitlines()
        if line.count("USDT") >= 2 and "│" in line
    }
    assert sorted(rows) == sorted(whitelist)
    # Min Stake: Bybit's minOrderQty x the last price, plus freqtrade's 5 % margin. BTC's
    # 0.000048 BTC is worth about 3 USDT here, below Binance's 5 USDT minimum notional.
    btc_close = float(load_candles("BTC/USDT")["close"].iloc[-1])
    min_stake = float(rows["BTC/USDT"][-2])
    assert min_stake == pytest.approx(0.000048 * btc_close * 1.05, rel=1e-3)


def test_download_data_returns_the_candle_files(
    tmp_path: Path, bybit_overlay: Path, local_exchange: LocalExchange
) -> None:
    datadir = tmp_path / "data"
    run = run_freqtrade(
        ["download-data", "--timeframes", "1h", "4h", "--timerange", "20240501-20240601",
         "--pairs", *PAIRS],
        userdir=tmp_path, configs=BYBIT_CONFIGS, overlays=[bybit_overlay], datadir=datadir,
    )  # fmt: skip
    assert run.returncode == 0, run.output[-3000:]
    assert {"GET /v5/market/kline", "GET /v5/market/instruments-info"} <= _bybit_hits(
        local_exchange
    )
    columns = ["open", "high", "low", "close", "volume"]
    for pair in PAIRS:
        for timeframe in ("1h", "4h"):
            downloaded = pd.read_feather(datadir / f"{pair.replace('/', '_')}-{timeframe}.feather")
            source = load_candles(pair, timeframe)
            dates = pd.DatetimeIndex(downloaded["date"])
            assert dates[0] == pd.Timestamp("2024-05-01", tz="UTC")
            assert dates[-1] >= pd.Timestamp("2024-05-31 20:00", tz="UTC")
            expected = source[pd.DatetimeIndex(source["date"]).isin(dates)]
            assert len(expected) == len(downloaded)
            assert np.array_equal(downloaded[columns].to_numpy(), expected[columns].to_numpy())


def test_freqai_walk_forward_backtest_of_the_default_strategy_trades_on_bybit(
    tmp_path: Path, bybit_overlay: Path
) -> None:
    overlay = tmp_path / "small.json"
    overlay.write_text(json.dumps({"exchange": {"pair_whitelist": PAIRS}, **SWING_ANY_SKILL}))
    run = run_freqtrade(
        backtesting_arguments("SwingXGBoostClassifier", TIMERANGE),
        userdir=tmp_path / "userdir",
        configs=(*BYBIT_CONFIGS, CONFIG_DIR / "freqai.json"),
        overlays=[overlay, bybit_overlay],
        datadir=SAMPLE_DATADIR,  # the bundled candles stand in for Bybit's
    )
    assert run.returncode == 0, run.output[-3000:]
    assert "Using resolved exchange class 'Bybit'" in run.output
    assert len(re.findall(r"Done training", run.output)) == len(PAIRS) * WINDOWS
    trades = run.trades()
    assert len(trades) > 0, run.output[-3000:]
    assert set(trades["pair"]) <= set(PAIRS)
    assert (trades["fee_open"] == 0.0015).all() and (trades["fee_close"] == 0.0015).all()
    assert run.backtest_stats()["strategy"]["SwingClassifierStrategy"]["total_trades"] == len(
        trades
    )


@pytest.fixture(scope="module")
def bybit_paper_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PaperBot]:
    """The real ``freqtrade trade`` dry run on the replayed Bybit endpoints (one pair)."""
    overlay = {
        "exchange": {"pair_whitelist": ["SOL/USDT"]},
        "force_entry_enable": True,  # test-only: the trade is forced through the REST API
        "entry_pricing": {"price_side": "other"},
        "exit_pricing": {"price_side": "other"},
        **SMALL_FREQAI,
    }
    with replayed_dry_run(
        tmp_path_factory.mktemp("bybit-paper"),
        [*BYBIT_CONFIGS, CONFIG_DIR / "freqai.json", CONFIG_DIR / "dry-run.json"],
        overlay,
        "2024-02-20T16:00",
        10.0,
        exchange="bybit",
    ) as bot:
        yield bot


def test_a_replayed_bybit_dry_run_opens_and_closes_a_trade(bybit_paper_bot: PaperBot) -> None:
    # The loop runs once FreqAI trained on the history it downloaded from the replayed Bybit.
    wait_for(
        lambda: "SOL/USDT: xgboost fitted on" in bybit_paper_bot.output(),
        240,
        "FreqAI to train SOL/USDT",
        bybit_paper_bot.log,
    )
    trade_id = force_round_trip(bybit_paper_bot, "SOL/USDT")
    trade = bybit_paper_bot.client().trade(trade_id)
    assert trade["exchange"] == "bybit" and trade["exit_reason"] == "force_exit"
    assert trade["close_rate"] > 0 and trade["open_date"].startswith("2024-02-")
    # Dry orders are priced from the replayed Bybit book: on SOL's 0.01 grid.
    for rate in (trade["open_rate"], trade["close_rate"]):
        assert round(rate, 2) == pytest.approx(rate)
    sides = bybit_paper_bot.rows(f"SELECT ft_order_side FROM orders WHERE ft_trade_id = {trade_id}")
    assert sorted(side for (side,) in sides) == ["buy", "sell"]
    hits = _bybit_hits(bybit_paper_bot.exchange)
    assert {"GET /v5/market/kline", "GET /v5/market/orderbook"} <= hits
    assert not [path for path in bybit_paper_bot.exchange.endpoint_hits if "/api/v3/" in path]


def test_offline_command_picks_bybit_from_the_configs(tmp_path: Path) -> None:
    """``freqai-swing offline`` serves Bybit when the configs name it (or with --exchange)."""
    (tmp_path / "userdir").mkdir()
    result = subprocess.run(
        [str(Path(freqtrade_executable()).with_name("python")), "-m", "tooling.cli", "offline",
         "--exchange", "bybit", "--", "freqtrade", "list-pairs", "-c", "config/base.json",
         "--userdir", str(tmp_path / "userdir"), "--print-json"],
        cwd=REPO_ROOT, env=bundle_environment(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Using resolved exchange class 'Bybit'" in result.stdout + result.stderr
    assert "BTC/USDT" in result.stdout

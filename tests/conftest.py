"""Shared fixtures: the bundled real candles, the local exchange, and real freqtrade runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import freqai_swing  # noqa: F401  (sets OMP_WAIT_POLICY before any booster library loads)
from tooling.local_exchange import LocalExchange, write_offline_overlay
from tooling.offline import bundle_environment, run_freqtrade_in

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DATADIR = REPO_ROOT / "user_data" / "data" / "binance"
CONFIG_DIR = REPO_ROOT / "config"
#: The larger development history, when this checkout sits beside ``shared/``; optional.
SHARED_DATADIR = REPO_ROOT.parent / "shared" / "data" / "binance"

# The freqtrade runs the tests read log lines from wrap those lines at the terminal width (rich).
# With no terminal that is 200 columns, unless COLUMNS says otherwise: readline sets COLUMNS=80 in
# the C environment of the pytest process, and pytest-xdist's workers start with it in theirs, so
# the same message came out cut in two there. One width for every run, with or without workers.
os.environ["COLUMNS"] = "200"


def load_candles(pair: str, timeframe: str = "1h") -> pd.DataFrame:
    """Real Binance candles of the bundled sample, as Freqtrade stores them."""
    return pd.read_feather(SAMPLE_DATADIR / f"{pair.replace('/', '_')}-{timeframe}.feather")


@pytest.fixture(scope="session")
def local_exchange() -> Iterator[LocalExchange]:
    """One loopback Binance API over the bundled candles for the whole session."""
    with LocalExchange(SAMPLE_DATADIR, port=0) as exchange:
        yield exchange


@pytest.fixture(scope="session")
def offline_overlay(
    local_exchange: LocalExchange, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    path = tmp_path_factory.mktemp("offline") / "offline.json"
    return write_offline_overlay(path, local_exchange.api_url)


@dataclass
class FreqtradeRun:
    """A finished ``freqtrade`` subprocess."""

    returncode: int
    output: str
    userdir: Path

    def backtest_stats(self) -> dict[str, Any]:
        from freqtrade.data.btanalysis import load_backtest_stats

        return load_backtest_stats(self.userdir / "backtest_results")

    def trades(self) -> pd.DataFrame:
        from freqtrade.data.btanalysis import BT_DATA_COLUMNS, load_backtest_data

        trades = load_backtest_data(self.userdir / "backtest_results")
        return trades if len(trades.columns) else pd.DataFrame(columns=BT_DATA_COLUMNS)


def write_config(path: Path, overlay: dict[str, Any]) -> Path:
    path.write_text(json.dumps(overlay, indent=2))
    return path


def run_freqtrade(
    arguments: Sequence[str],
    userdir: Path,
    configs: Sequence[Path] = (CONFIG_DIR / "base.json", CONFIG_DIR / "freqai.json"),
    overlays: Sequence[Path] = (),
    datadir: Path = SAMPLE_DATADIR,
    timeout: int = 900,
) -> FreqtradeRun:
    """Run the real ``freqtrade`` CLI with the bundle's plugin folders and a private userdir."""
    completed = run_freqtrade_in(arguments, userdir, [*configs, *overlays], datadir, timeout)
    return FreqtradeRun(completed.returncode, completed.stdout + completed.stderr, userdir)


def overlay_factory(folder: Path):
    """Factory writing config overlays into ``folder``: a whitelist and any other keys."""

    def make(pairs: Sequence[str], **extra: Any) -> Path:
        overlay: dict[str, Any] = {"exchange": {"pair_whitelist": list(pairs)}}
        overlay.update(extra)
        return write_config(folder / f"overlay-{len(list(folder.iterdir()))}.json", overlay)

    return make


@pytest.fixture
def pairs_overlay(tmp_path: Path):
    return overlay_factory(tmp_path)


def run_bundle_cli(*arguments: str) -> subprocess.CompletedProcess[str]:
    """The bundle's own CLI (``freqai-swing``) as a subprocess of this interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "tooling.cli", *arguments],
        cwd=REPO_ROOT,
        env=bundle_environment(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

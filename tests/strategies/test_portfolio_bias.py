"""``lookahead-analysis`` and ``recursive-analysis`` of SwingPortfolioStrategy, for real.

Both tools run a pair alone; ``swing.portfolio.universe`` names the book's pairs so that a
pair's target is the same alone as in the full run (docs/portfolio.md).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import CONFIG_DIR, run_freqtrade

pytestmark = pytest.mark.slow

PAIRS = ["ETH/USDT", "SOL/USDT", "AVAX/USDT"]
CONFIGS = (
    CONFIG_DIR / "base.json",
    CONFIG_DIR / "portfolio.json",
    CONFIG_DIR / "portfolio-no-ml.json",
)


def overlay(pairs_overlay) -> Path:
    return pairs_overlay(PAIRS, swing={"portfolio": {"universe": PAIRS}})


def test_lookahead_analysis_finds_no_bias(
    tmp_path: Path, offline_overlay: Path, pairs_overlay
) -> None:
    exported = tmp_path / "lookahead.csv"
    run = run_freqtrade(
        [
            "lookahead-analysis",
            "--strategy",
            "SwingPortfolioStrategy",
            "--timerange",
            "20230801-20231201",  # trends start and fail: entries and exits in 4 months
            "--minimum-trade-amount",
            "2",
            "--targeted-trade-amount",
            "4",
            "--lookahead-analysis-exportfilename",
            str(exported),
        ],
        userdir=tmp_path / "userdir",
        configs=CONFIGS,
        overlays=[overlay(pairs_overlay), offline_overlay],
    )
    assert run.returncode == 0, run.output[-3000:]
    (row,) = pd.read_csv(exported).to_dict("records")
    assert row["total_signals"] == 4
    assert not row["has_bias"], row
    assert row["biased_entry_signals"] == 0 and row["biased_exit_signals"] == 0
    assert pd.isna(row["biased_indicators"])


def test_recursive_analysis_finds_no_variance(
    tmp_path: Path, offline_overlay: Path, pairs_overlay
) -> None:
    run = run_freqtrade(
        [
            "recursive-analysis",
            "--strategy",
            "SwingPortfolioStrategy",
            "--timerange",
            "20240101-20240108",
            "--startup-candle",
            "4850",
            "4999",  # the most Binance serves in five calls
        ],
        userdir=tmp_path / "userdir",
        configs=CONFIGS,
        overlays=[overlay(pairs_overlay), offline_overlay],
    )
    assert run.returncode == 0, run.output[-3000:]
    assert "No variance on indicator(s) found due to recursive formula." in run.output
    assert "No lookahead bias on indicators found." in run.output

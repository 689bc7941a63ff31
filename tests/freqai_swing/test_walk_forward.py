"""Walk-forward splits and performance figures on real candles."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from freqai_swing.walk_forward import (
    WalkForwardSettings,
    equity_figures,
    trade_figures,
    walk_forward_splits,
)
from tests.conftest import load_candles


def test_splits_are_back_to_back_and_end_at_the_data() -> None:
    settings = WalkForwardSettings(splits=5, train_days=120, test_days=30)
    splits = walk_forward_splits(pd.Timestamp("2024-06-30 23:00", tz="UTC"), settings)
    assert [s.index for s in splits] == list(range(5))
    assert splits[-1].test_end == pd.Timestamp("2024-06-30", tz="UTC")
    for before, after in zip(splits, splits[1:], strict=False):
        assert before.test_end == after.test_start
    for split in splits:
        assert split.test_start - split.train_start == pd.Timedelta(days=120)
        assert split.test_end - split.test_start == pd.Timedelta(days=30)
    assert splits[0].timerange == "20240201-20240302"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (WalkForwardSettings(gap_days=2), "gap_days=2"),
        (WalkForwardSettings(splits=0), "splits"),
        (WalkForwardSettings(test_days=0), "test_days"),
    ],
)
def test_impossible_settings_are_refused(settings: WalkForwardSettings, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        settings.check(horizon_hours=24)


def test_equity_figures_of_holding_btc_match_a_direct_computation() -> None:
    daily = load_candles("BTC/USDT", "1d").set_index("date")["close"].loc["2023-01-01":"2023-12-31"]
    figures = equity_figures(daily)
    returns = daily.pct_change().dropna()
    assert figures["total_return"] == pytest.approx(daily.iloc[-1] / daily.iloc[0] - 1)
    assert figures["sharpe"] == pytest.approx(returns.mean() / returns.std() * math.sqrt(365))
    drawdown = (1 - daily / daily.cummax()).max()
    assert figures["max_drawdown"] == pytest.approx(drawdown)
    years = len(returns) / 365
    annual = (daily.iloc[-1] / daily.iloc[0]) ** (1 / years) - 1
    assert figures["calmar"] == pytest.approx(annual / drawdown)
    assert figures["sortino"] > figures["sharpe"] > 0  # BTC rose in 2023, losses were rarer


def test_trade_figures_count_exposure_and_the_undefined_profit_factor() -> None:
    start, end = pd.Timestamp("2024-01-01", tz="UTC"), pd.Timestamp("2024-01-03", tz="UTC")
    trades = pd.DataFrame(
        {
            "open_date": pd.to_datetime(["2024-01-01 00:00", "2024-01-01 06:00"], utc=True),
            "close_date": pd.to_datetime(["2024-01-01 12:00", "2024-01-02 00:00"], utc=True),
            "profit_ratio": [0.02, 0.01],
            "profit_abs": [20.0, 10.0],
        }
    )
    figures = trade_figures(trades, start, end)
    assert figures["exposure"] == pytest.approx(24 / 48)  # overlapping trades count once
    assert figures["average_duration_hours"] == pytest.approx(15.0)
    assert figures["profit_factor"] is None and figures["win_rate"] == 1.0
    assert np.isfinite(list(v for k, v in figures.items() if k != "profit_factor")).all()

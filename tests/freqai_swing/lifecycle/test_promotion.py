"""The lifecycle's settings block, triggers, regime check and promotion test on real prices."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from freqai_swing.lifecycle.config import SelfTrainSettings
from freqai_swing.lifecycle.promotion import (
    Performance,
    drawdown_since,
    promotion_test,
    regime_change,
    retrain_reasons,
    should_roll_back,
)
from freqai_swing.settings import SwingConfigError, load_swing_settings
from tests.conftest import load_candles


def daily_close(pair: str) -> pd.Series:
    return load_candles(pair, "1d").set_index("date")["close"]


def day_returns(pair: str, start: str, end: str) -> np.ndarray:
    """One-day long returns at real closes, net of the config's 0.15 % per side."""
    closes = daily_close(pair)
    closes = closes[(closes.index >= start) & (closes.index < end)]
    return (closes.shift(-1) / closes - 1).dropna().to_numpy() - 0.003


def test_the_block_is_validated_and_names_a_wrong_key() -> None:
    settings = load_swing_settings({"swing": {"selftrain": {"confidence": 0.9}}}).selftrain
    assert settings.confidence == 0.9 and settings.min_challenger_trades == 20
    with pytest.raises(SwingConfigError, match="rollback_drawdwn"):
        load_swing_settings({"swing": {"selftrain": {"rollback_drawdwn": 0.1}}})
    with pytest.raises(SwingConfigError, match="swing.selftrain.confidence"):
        load_swing_settings({"swing": {"selftrain": {"confidence": 1.5}}})


def test_promotion_needs_twenty_trades_and_a_significant_edge() -> None:
    settings = SelfTrainSettings()
    # SOL rallied in late 2023 while BTC moved less: long-SOL days against long-BTC days
    strong = day_returns("SOL/USDT", "2023-10-01", "2024-01-01")
    weak = day_returns("BTC/USDT", "2023-10-01", "2024-01-01")
    few = promotion_test(strong[:19], weak, settings)
    assert not few.promote and "fewer than 20" in few.reason
    verdict = promotion_test(strong, weak, settings)
    # whatever it says, it says it at the configured level, with the mean difference's sign
    assert verdict.promote == (verdict.p_value < 0.05 and verdict.challenger_mean > 0)
    same = promotion_test(weak, weak, settings)
    assert not same.promote and same.p_value == pytest.approx(0.5, abs=0.01)


def test_rollback_rule_on_a_real_fall() -> None:
    settings = SelfTrainSettings()
    closes = daily_close("SOL/USDT")
    equity = 10_000 * closes / closes.iloc[0]
    # SOL fell about a third from mid-March to mid-April 2024
    roll, drawdown = should_roll_back(equity, pd.Timestamp("2024-03-15", tz="UTC"), settings)
    assert roll and drawdown > 0.10
    assert drawdown_since(equity, equity.index[-1]) == 0.0


def test_triggers_schedule_thresholds_and_regime() -> None:
    settings = SelfTrainSettings()
    now = datetime(2024, 3, 1, tzinfo=UTC)
    assert retrain_reasons(now, None, None, None, settings) == ["no model yet"]
    assert retrain_reasons(now, datetime(2024, 2, 28, tzinfo=UTC), None, None, settings) == []
    assert retrain_reasons(now, datetime(2024, 2, 23, tzinfo=UTC), None, None, settings)
    poor = Performance(trades=12, sharpe=0.4, max_drawdown=0.2, win_rate=0.4,
                       total_return=-0.05, buy_and_hold_return=0.1)  # fmt: skip
    reasons = retrain_reasons(now, datetime(2024, 2, 29, tzinfo=UTC), poor, None, settings)
    assert len(reasons) == 3
    # a regime check on the real BTC history: it names a shift or returns None, and a
    # volatility threshold no market reaches never fires on volatility
    market = daily_close("BTC/USDT")
    found = {regime_change(market, day, settings) for day in market.index[250::30]}
    assert any(found) and None in found
    calm = SelfTrainSettings(regime_volatility_ratio=1e9, regime_trend_days=400)
    assert all(
        not (text or "").startswith("volatility")
        for text in (regime_change(market, day, calm) for day in market.index[250::30])
    )

"""The risk rules' arithmetic on hand-computed cases and on real candles."""

from __future__ import annotations

import copy
import json
import math
import re
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from freqai_swing.risk import (
    RiskSettings,
    daily_loss_ratio,
    exposure_room,
    kelly_criterion,
    losing_streak,
    realized_drawdown,
    recent_profit_ratios,
    return_correlation,
    spread_ratio,
    stake_fraction,
    volatility_state,
)
from freqai_swing.settings import SwingConfigError, load_swing_settings, settings_fingerprint
from freqai_swing.trades import ClosedTrade
from tests.conftest import CONFIG_DIR, load_candles

SETTINGS = RiskSettings()
NOON = datetime(2024, 3, 5, 12, tzinfo=UTC)


def trade(hours_before_noon: float, ratio: float, profit: float = 0.0) -> ClosedTrade:
    return ClosedTrade("BTC/USDT", NOON - timedelta(hours=hours_before_noon), ratio, profit)


# --- Kelly ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("ratios", "expected"),
    [
        # p = 1/2, W = 0.06, L = 0.03: (0.5·0.06 − 0.5·0.03) / 0.06
        ([0.06, -0.03, 0.06, -0.03], 0.25),
        # p = 2/3, W = 0.03, L = 0.01: (2/3·0.03 − 1/3·0.01) / 0.03
        ([0.04, 0.02, -0.01], (2 / 3 * 0.03 - 1 / 3 * 0.01) / 0.03),
        # break-even counts as a loss of 0: p = 1/2, W = 0.03, L = 0
        ([0.0, 0.03], 0.5),
        # p = 1/4, W = 0.02, L = 0.02: a losing edge
        ([0.02, -0.02, -0.02, -0.02], (0.25 * 0.02 - 0.75 * 0.02) / 0.02),
        ([0.02, 0.05], 1.0),  # all wins: p = 1
        ([-0.03, -0.01], -1.0),  # all losses: no win to size against
        ([], None),  # zero trades
    ],
)
def test_kelly_criterion(ratios: list[float], expected: float | None) -> None:
    result = kelly_criterion(ratios)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected)


def test_fixed_stake_until_enough_trades() -> None:
    assert stake_fraction([], 0.5, 1.0, SETTINGS).fraction == 0.05
    nineteen = [0.06] * 19
    decision = stake_fraction(nineteen, 0.5, 1.0, SETTINGS)
    assert (decision.fraction, decision.basis) == (0.05, "fixed")


def test_kelly_stake_is_fractional_and_volatility_scaled() -> None:
    ratios = [0.06, -0.03] * 10  # Kelly 0.25
    decision = stake_fraction(ratios, 0.6, 1.0, SETTINGS)
    assert decision.basis == "kelly"
    assert decision.fraction == pytest.approx(0.25 * 0.25 / 1.6)
    assert not decision.capped


def test_all_wins_hit_the_cap_when_volatility_is_low() -> None:
    wins = [0.03] * 20  # Kelly 1
    assert stake_fraction(wins, 0.5, 1.0, SETTINGS).fraction == pytest.approx(0.25 / 1.5)
    capped = stake_fraction(wins, 0.1, 1.0, SETTINGS)  # 0.25 / 1.1 = 0.227 > 0.2
    assert capped.capped and capped.fraction == pytest.approx(0.2)
    full = stake_fraction(wins, 0.1, 1.0, SETTINGS, kelly_fraction=1.0, max_stake_fraction=0.5)
    assert full.fraction == pytest.approx(0.5)


def test_all_losses_stake_nothing() -> None:
    decision = stake_fraction([-0.03] * 20, 0.5, 1.0, SETTINGS)
    assert (decision.fraction, decision.basis, decision.kelly) == (0.0, "no-edge", -1.0)


@pytest.mark.parametrize("volatility", [math.nan, math.inf, -0.1])
def test_unknown_volatility_stakes_nothing(volatility: float) -> None:
    for ratios in ([], [0.03] * 20):
        decision = stake_fraction(ratios, volatility, 1.0, SETTINGS)
        assert (decision.fraction, decision.basis) == (0.0, "no-volatility")


def test_high_volatility_halves_the_stake() -> None:
    ratios = [0.06, -0.03] * 10
    normal = stake_fraction(ratios, 0.6, 2.0, SETTINGS)  # exactly 2x: not above
    high = stake_fraction(ratios, 0.6, 2.01, SETTINGS)
    assert not normal.high_volatility and high.high_volatility
    assert high.fraction == pytest.approx(normal.fraction / 2)
    assert stake_fraction([], 0.6, 3.0, SETTINGS).fraction == pytest.approx(0.025)
    assert not stake_fraction([], 0.6, math.nan, SETTINGS).high_volatility


def test_recent_trades_window() -> None:
    trades = [trade(24 * 40, 0.9)] + [trade(hours, 0.01 * hours) for hours in range(1, 61)]
    ratios = recent_profit_ratios(trades, NOON, SETTINGS)
    assert len(ratios) == 50, "the 50 newest within 30 days"
    assert ratios[-1] == pytest.approx(0.01) and 0.9 not in ratios
    assert recent_profit_ratios([trade(-1, 0.1)], NOON, SETTINGS) == [], "no future trades"


def test_exposure_room() -> None:
    assert exposure_room(10_000, 6_000, SETTINGS) == pytest.approx(2_000)
    assert exposure_room(10_000, 8_500, SETTINGS) == 0.0


# --- volatility and correlation on real candles ---------------------------------------------
def closes_before(pair: str, moment: str, count: int) -> pd.DataFrame:
    candles = load_candles(pair)
    return candles[candles["date"] < pd.Timestamp(moment, tz="UTC")].iloc[-count:]


def test_volatility_state_matches_the_definition_on_real_candles() -> None:
    close = closes_before("BTC/USDT", "2023-08-17 23:00", 721)["close"]
    current, ratio = volatility_state(close, SETTINGS)
    returns = np.diff(np.log(close.to_numpy()))
    annual = math.sqrt(24 * 365)
    assert current == pytest.approx(np.std(returns[-24:], ddof=1) * annual)
    assert ratio == pytest.approx(np.std(returns[-24:], ddof=1) / np.std(returns, ddof=1))
    assert ratio > 2, "the 2023-08-17 sell-off is a high-volatility regime"
    calm = closes_before("BTC/USDT", "2023-06-01", 721)["close"]
    assert volatility_state(calm, SETTINGS)[1] < 2
    short = volatility_state(close.iloc[-20:], SETTINGS)
    assert math.isnan(short[0]) and math.isnan(short[1])


def test_return_correlation_on_real_candles() -> None:
    btc = closes_before("BTC/USDT", "2023-03-10 12:00", 169)
    eth = closes_before("ETH/USDT", "2023-03-10 12:00", 169)
    correlation = return_correlation(btc, eth, 168)
    left = np.diff(np.log(btc["close"].to_numpy()))
    right = np.diff(np.log(eth["close"].to_numpy()))
    assert correlation == pytest.approx(np.corrcoef(left, right)[0, 1])
    assert correlation > 0.7
    assert return_correlation(btc, btc, 168) == pytest.approx(1.0)
    assert math.isnan(return_correlation(btc.iloc[:2], eth.iloc[:2], 168))


# --- pauses ---------------------------------------------------------------------------------
def test_daily_loss_counts_only_today() -> None:
    trades = [trade(13, -0.03, -300.0), trade(2, -0.03, -400.0), trade(1, 0.02, 100.0)]
    # equity now 9_400 after -300 today: equity at midnight 9_700
    assert daily_loss_ratio(trades, NOON, 9_400) == pytest.approx(300 / 9_700)
    assert daily_loss_ratio([], NOON, 10_000) == 0.0


def test_losing_streak_and_reset() -> None:
    trades = [trade(10, 0.02)] + [trade(hours, -0.01) for hours in (9, 8, 7, 6, 5)]
    assert len(losing_streak(trades, None)) == 5
    assert len(losing_streak([*trades, trade(1, 0.01)], None)) == 0
    assert len(losing_streak(trades, since=NOON - timedelta(hours=7))) == 2
    assert len(losing_streak([trade(2, 0.0)], None)) == 1, "break-even is no win"


def test_realized_drawdown_from_the_peak() -> None:
    # equity 10_000 -> 11_000 -> 9_000 -> 9_350 (now)
    trades = [trade(3, 0.1, 1_000.0), trade(2, -0.18, -2_000.0), trade(1, 0.04, 350.0)]
    drawdown = realized_drawdown(trades, 9_350, None)
    assert drawdown.peak == pytest.approx(11_000)
    assert drawdown.ratio == pytest.approx(1_650 / 11_000)
    after_reset = realized_drawdown(trades, 9_350, since=NOON - timedelta(hours=2))
    assert after_reset.peak == pytest.approx(9_350) and after_reset.ratio == 0.0


def test_spread_ratio() -> None:
    assert spread_ratio(99.0, 100.0) == pytest.approx(0.01)
    assert math.isnan(spread_ratio(None, 100.0))


# --- config ---------------------------------------------------------------------------------
def base_config() -> dict:
    return json.loads((CONFIG_DIR / "base.json").read_text())


def test_shipped_risk_settings_are_the_seed_defaults() -> None:
    """base.json holds no risk block: the declared defaults are the seed's."""
    assert "swing" not in base_config()
    assert load_swing_settings(base_config()).risk == RiskSettings()


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        (
            "kelly_fractoin",
            0.25,
            "Unknown key swing.risk.kelly_fractoin; did you mean kelly_fraction?",
        ),
        ("max_exposure", 1.5, "swing.risk.max_exposure"),
        ("max_entries_per_day", 0, "swing.risk.max_entries_per_day"),
    ],
)
def test_bad_risk_key_is_named(key: str, value: object, named: str) -> None:
    config = base_config()
    config.setdefault("swing", {})["risk"] = {key: value}
    with pytest.raises(SwingConfigError, match=re.escape(named)):
        load_swing_settings(config)


def test_risk_settings_never_change_the_model_identifier() -> None:
    config = base_config()
    changed = copy.deepcopy(config)
    changed["swing"] = {"risk": {"max_exposure": 0.5}}
    assert settings_fingerprint(config) == settings_fingerprint(changed)
    changed["swing"]["market_pair"] = "ETH/USDT"
    assert settings_fingerprint(config) != settings_fingerprint(changed)


@pytest.mark.parametrize("overlay", ["dry-run.json", "live.json"])
def test_dry_run_and_live_filter_pairs_by_spread(overlay: str) -> None:
    """Backtests have no spread; trading overlays add Freqtrade's SpreadFilter at 1 %."""
    pairlists = json.loads((CONFIG_DIR / overlay).read_text())["pairlists"]
    spread = [item for item in pairlists if item["method"] == "SpreadFilter"]
    assert spread and spread[0]["max_spread_ratio"] == RiskSettings().max_spread_ratio
    assert base_config()["enable_protections"] is True

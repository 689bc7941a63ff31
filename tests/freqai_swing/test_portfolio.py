"""The portfolio core on real candles: closed candles only, weights, band, labels."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from freqai_swing.portfolio.labels import (
    forward_log_volatility,
    label_uniqueness,
    meta_labels,
    volatility_features,
)
from freqai_swing.portfolio.rebalance import rebalance_stake
from freqai_swing.portfolio.settings import PortfolioSettings, portfolio_settings
from freqai_swing.portfolio.signals import (
    above_average,
    daily_bars,
    is_decision_row,
    on_hourly_rows,
    trailing_volatility,
    trend_score,
)
from freqai_swing.portfolio.weights import (
    annualised_covariance,
    meta_multiplier,
    portfolio_targets,
    raw_weight,
)
from freqai_swing.settings import SwingConfigError, load_swing_settings
from tests.conftest import load_candles

SETTINGS = PortfolioSettings()


def hourly_weight_inputs(candles: pd.DataFrame, market: pd.DataFrame) -> pd.DataFrame:
    """What the strategy puts on each 1h row, through the same functions."""
    bars = daily_bars(candles)
    daily = pd.DataFrame(
        {
            "trend_score": trend_score(bars["close"], SETTINGS.lookback_days),
            "volatility": trailing_volatility(bars["realized_variance"], SETTINGS.volatility_days),
        }
    )
    rows = on_hourly_rows(candles, daily, "1h")
    gate = above_average(daily_bars(market)["close"], SETTINGS.regime_days).astype(float)
    rows["regime_on"] = on_hourly_rows(candles, gate.to_frame("on"), "1h")["on"].eq(1.0)
    rows["raw_weight"] = raw_weight(
        rows["trend_score"], rows["volatility"], rows["regime_on"], 10, SETTINGS
    )
    return rows


@pytest.mark.parametrize("cut", ["2024-03-10 13:00", "2024-03-10 22:00", "2024-04-02 23:00"])
def test_weights_use_closed_candles_only(cut: str) -> None:
    """A run that ends at ``cut`` gives the same values on every row it has."""
    candles, market = load_candles("SOL/USDT"), load_candles("BTC/USDT")
    full = hourly_weight_inputs(candles, market)
    end = pd.Timestamp(cut, tz="UTC")
    cut_rows = hourly_weight_inputs(candles[candles["date"] <= end], market[market["date"] <= end])
    pd.testing.assert_frame_equal(full.loc[cut_rows.index], cut_rows)
    assert full["raw_weight"].gt(0).any() and full["raw_weight"].eq(0).any()


def test_a_day_is_known_only_once_its_last_candle_closed() -> None:
    candles = load_candles("ETH/USDT")
    bars = daily_bars(candles)
    rows = on_hourly_rows(candles, bars[["close"]], "1h")
    day = pd.Timestamp("2024-02-05", tz="UTC")
    last_hour = candles.index[candles["date"] == day + pd.Timedelta(hours=23)][0]
    assert rows.loc[last_hour, "close"] == bars.loc[day, "close"] == candles.loc[last_hour, "close"]
    assert rows.loc[last_hour - 1, "close"] == bars.loc[day - pd.Timedelta(days=1), "close"]


def test_trend_score_counts_rising_lookbacks() -> None:
    index = pd.date_range("2024-01-01", periods=8, freq="D", tz="UTC")
    close = pd.Series([1, 2, 3, 4, 3, 5, 1, 2], index=index, dtype=float)
    score = trend_score(close, (1, 2))
    assert math.isnan(score.iloc[1])
    assert score.iloc[2] == 1.0  # 3 > 2 and 3 > 1
    assert score.iloc[4] == 0.0  # 3 < 4, and 3 == 3 is no rise
    assert score.iloc[7] == 0.5  # 2 > 1, 2 < 5


def test_raw_weight_is_trend_times_volatility_budget_and_regime() -> None:
    score = pd.Series([1.0, 0.5, 1.0, np.nan])
    volatility = pd.Series([0.6, 0.6, 0.6, 0.6])
    regime = pd.Series([True, True, False, True])
    weight = raw_weight(score, volatility, regime, 9, SETTINGS)
    budget = SETTINGS.target_volatility / 3
    np.testing.assert_allclose(weight, [budget / 0.6, 0.5 * budget / 0.6, 0.0, 0.0])
    meta = pd.Series([0.3, 0.9, 0.9, 0.9])
    vetoed = raw_weight(score, volatility, regime, 9, SETTINGS, meta)
    assert vetoed.iloc[0] == 0.0 and vetoed.iloc[1] == weight.iloc[1]


def test_meta_multiplier_vetoes_below_the_threshold_and_scales_above() -> None:
    assert meta_multiplier(0.44, 0.45) == 0.0
    assert meta_multiplier(0.45, 0.45) == pytest.approx(0.45 / 0.55)
    assert meta_multiplier(0.8, 0.45) == 1.0
    assert meta_multiplier(float("nan"), 0.45) == 0.0


def test_portfolio_targets_cap_positions_then_volatility_then_exposure() -> None:
    covariance = pd.DataFrame(
        [[0.64, 0.6], [0.6, 0.64]], index=["A", "B"], columns=["A", "B"]
    )  # 80 % volatility each, correlation 0.94
    targets = portfolio_targets({"A": 0.5, "B": 0.1, "C": 0.0}, covariance, SETTINGS, 0.2, 0.8)
    weights = np.array([0.2, 0.1])
    volatility = math.sqrt(weights @ covariance.to_numpy() @ weights)
    scale = SETTINGS.target_volatility / volatility
    assert targets["A"] == pytest.approx(0.2 * scale) and targets["B"] == pytest.approx(0.1 * scale)
    assert targets["C"] == 0.0
    calm = pd.DataFrame(np.eye(3) * 0.0001, index=list("ABC"), columns=list("ABC"))
    capped = portfolio_targets({"A": 0.5, "B": 0.5, "C": 0.5}, calm, SETTINGS, 0.4, 0.8)
    assert sum(capped.values()) == pytest.approx(0.8)


def test_covariance_comes_from_the_last_days_only() -> None:
    closes = pd.DataFrame({"A": np.exp(np.arange(200) * 0.01), "B": np.arange(1, 201.0)})
    closes.iloc[:100] = 1.0  # flat history before the window
    recent = annualised_covariance(closes, 50)
    assert recent.loc["A", "A"] == pytest.approx(0.0, abs=1e-12)  # constant 1 % log return


@pytest.mark.parametrize(
    ("current", "target", "expected"),
    [(100.0, 110.0, 0.0), (100.0, 150.0, 50.0), (100.0, 60.0, -40.0), (100.0, 0.0, -100.0)],
)
def test_rebalance_only_outside_the_band(current: float, target: float, expected: float) -> None:
    assert rebalance_stake(current, target, 10_000.0, 0.25, 0.0) == expected


def test_no_order_smaller_than_the_minimum_share_of_equity() -> None:
    assert rebalance_stake(10.0, 20.0, 10_000.0, 0.25, 0.005) == 0.0


def test_decision_rows_close_at_midnight_or_every_four_hours() -> None:
    dates = pd.Series(pd.date_range("2024-01-01", periods=48, freq="h", tz="UTC"))
    daily = is_decision_row(dates, 24)
    assert list(dates[daily].dt.hour) == [23, 23]
    assert list(dates[is_decision_row(dates, 4)].dt.hour)[:3] == [3, 7, 11]


def test_labels_are_nan_past_the_data_and_across_gaps() -> None:
    candles = load_candles("BTC/USDT").iloc[-2000:].reset_index(drop=True)
    volatility = forward_log_volatility(candles, 24)
    meta = meta_labels(candles, 120, 0.003)
    assert volatility.iloc[-24:].isna().all() and volatility.iloc[-200:-24].notna().all()
    assert meta.iloc[-120:].isna().all() and meta.iloc[-300:-120].notna().all()
    assert set(meta.dropna().unique()) == {0.0, 1.0}
    gapped = candles.drop(index=range(1000, 1010)).reset_index(drop=True)
    across = forward_log_volatility(gapped, 24)
    assert across.iloc[976:1000].isna().all() and across.iloc[1000:1100].notna().all()
    expected = np.log(np.sqrt((np.log(candles["close"]).diff().iloc[101:125] ** 2).sum() * 365))
    assert volatility.iloc[100] == pytest.approx(expected)


def test_label_uniqueness_shares_overlapping_horizons() -> None:
    weights = label_uniqueness(np.array([True, True, False, False, False]), 2)
    # label 0 spans rows 1-2, label 1 rows 2-3: row 2 is shared
    np.testing.assert_allclose(weights, [0.75, 0.75, 0, 0, 0])
    alone = label_uniqueness(np.array([True, False, False, True]), 2)
    np.testing.assert_allclose(alone, [1.0, 0, 0, 1.0])


def test_features_use_the_past_only() -> None:
    candles = load_candles("ETH/USDT").iloc[-3000:].reset_index(drop=True)
    full = volatility_features(candles)
    cut = volatility_features(candles.iloc[:2500])
    pd.testing.assert_frame_equal(full.iloc[:2500], cut)


def test_a_wrong_portfolio_key_is_named() -> None:
    with pytest.raises(SwingConfigError, match="target_vol"):
        load_swing_settings({"swing": {"portfolio": {"target_vol": 0.1}}})
    settings = portfolio_settings({"lookback_days": [10, 30], "meta_filter": True})
    assert settings.lookback_days == (10, 30) and settings.uses_model


def test_deflated_sharpe_ratio_falls_with_the_number_of_trials() -> None:
    from freqai_swing.portfolio.scores import deflated_sharpe_ratio, expected_max_sharpe

    rng = np.random.default_rng(7)
    draws = rng.normal(0.0, 1.0, 1000)
    returns = 0.001 + 0.01 * (draws - draws.mean()) / draws.std(ddof=1)  # daily Sharpe 0.1
    sharpes = [0.02, 0.05, 0.08, 0.1]
    assert expected_max_sharpe(sharpes, 1) == 0.0
    one, many = (deflated_sharpe_ratio(returns, sharpes, n) for n in (1, 100))
    assert 0.99 < one <= 1.0  # t = 0.1 * sqrt(999) ≈ 3.2 standard errors
    assert many < one
    # normal returns: the denominator is sqrt(1 + SR^2 / 2), the benchmark 0
    sharpe = returns.mean() / returns.std(ddof=1)
    from scipy.stats import norm

    assert one == pytest.approx(
        norm.cdf(sharpe * math.sqrt(999) / math.sqrt(1 + sharpe**2 / 2)), abs=0.01
    )


def test_forecast_scores_are_zero_when_perfect() -> None:
    from freqai_swing.portfolio.scores import binary_brier, log_rmse, qlike

    variance = np.array([0.1, 0.4, 0.9])
    assert qlike(variance, variance) == pytest.approx(0.0)
    assert qlike(variance, variance * 2) > 0
    assert log_rmse(np.sqrt(variance), np.sqrt(variance) * np.e) == pytest.approx(1.0)
    assert binary_brier(np.array([1.0, 0.0]), np.array([1.0, 0.0])) == 0.0


def test_a_partial_exit_is_asked_for_at_the_trades_cost_basis() -> None:
    from freqai_swing.portfolio.rebalance import partial_exit_stake

    # a position bought for 100 now worth 1000: selling 500 of value is half the position,
    # which Freqtrade takes as a stake of -50 (amount = stake × trade amount / trade stake)
    assert partial_exit_stake(500.0, 1000.0, 100.0) == pytest.approx(-50.0)
    assert partial_exit_stake(2000.0, 1000.0, 100.0) == pytest.approx(-100.0)
    assert partial_exit_stake(10.0, 0.0, 100.0) == 0.0


def _meta_data() -> tuple[pd.DataFrame, np.ndarray]:
    from freqai_swing.portfolio.labels import volatility_features

    candles = load_candles("BTC/USDT")
    candles = candles[candles["date"] < pd.Timestamp("2023-07-01", tz="UTC")].reset_index(drop=True)
    features = volatility_features(candles)
    labels = meta_labels(candles, 120, 0.003)
    usable = features.notna().all(axis=1) & labels.notna()
    return features[usable].reset_index(drop=True), labels[usable].to_numpy()


def test_the_ensemble_meta_label_mixes_its_members_out_of_sample() -> None:
    from freqai_swing.portfolio.model import fit_meta, meta_learners

    features, labels = _meta_data()
    fitted = fit_meta(features, labels, 120, meta_learners("ensemble", {}, seed=1))
    assert len(fitted.members) == 2 and fitted.calibrator is not None
    assert (fitted.weights >= 0).all() and fitted.weights.sum() == pytest.approx(1.0)
    probability = fitted.probability(features)
    assert ((probability > 0) & (probability < 1)).all()
    # one member: its own probability, Platt-calibrated on the held-out fifth
    single = fit_meta(features, labels, 120, meta_learners("lightgbm", {}, seed=1))
    split = int(len(features) * 0.8)
    raw = single.members[0].predict_proba(features.iloc[split:])[:, 1]
    assert single.weights.tolist() == [1.0]
    assert np.allclose(single.raw(features.iloc[split:]), raw)


def test_the_meta_label_falls_back_to_the_base_rate_on_one_class() -> None:
    from freqai_swing.portfolio.model import fit_meta, meta_learners

    features, labels = _meta_data()
    fitted = fit_meta(features, np.zeros_like(labels), 120, meta_learners("xgboost", {}, seed=1))
    assert fitted.members == [] and np.all(fitted.probability(features) == 0.0)

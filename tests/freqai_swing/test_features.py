"""Feature families on real candles: scale-free, backward-looking, NaN only while warming up."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from freqai_swing.features import (
    FEATURE_FAMILIES,
    basic_features,
    market_context_features,
    period_features,
    time_features,
    windowed_ema,
)
from tests.conftest import load_candles

WARMUP = 250


@pytest.fixture(scope="module")
def sol() -> pd.DataFrame:
    return load_candles("SOL/USDT").iloc[:2500].reset_index(drop=True)


def test_every_family_is_present_and_finite_after_warmup(sol: pd.DataFrame) -> None:
    features = basic_features(sol)
    assert len(features.columns) >= 45
    assert not features.columns.duplicated().any()
    after = features.iloc[WARMUP:].replace([np.inf, -np.inf], np.nan)
    assert not after.isna().any().any(), after.columns[after.isna().any()].tolist()
    for family in FEATURE_FAMILIES:
        assert not basic_features(sol, [family]).empty


def test_features_are_scale_free(sol: pd.DataFrame) -> None:
    """A pair trading 1000x higher (same volume) gets the same features.

    TA-Lib's directional movement (ADX, +DI, -DI) treats moves below an absolute epsilon as
    zero, so those three differ slightly between price levels; everything else is exact.
    """
    scaled = sol.copy()
    scaled[["open", "high", "low", "close"]] *= 1000.0
    original = pd.concat([basic_features(sol), period_features(sol, 24)], axis=1).iloc[WARMUP:]
    rescaled = pd.concat([basic_features(scaled), period_features(scaled, 24)], axis=1)
    rescaled = rescaled.iloc[WARMUP:]
    epsilon_bound = ["adx", "plus-di", "minus-di"]
    pd.testing.assert_frame_equal(
        original.drop(columns=epsilon_bound), rescaled.drop(columns=epsilon_bound), rtol=1e-6
    )
    assert (original[epsilon_bound] - rescaled[epsilon_bound]).abs().max().max() < 0.02


@pytest.mark.parametrize("cut", [600, 1400, 2100])
def test_features_never_look_ahead(sol: pd.DataFrame, cut: int) -> None:
    """Values up to a candle do not change when later candles are removed."""
    full = pd.concat([basic_features(sol), period_features(sol, 48)], axis=1)
    truncated = sol.iloc[:cut]
    partial = pd.concat([basic_features(truncated), period_features(truncated, 48)], axis=1)
    pd.testing.assert_frame_equal(full.iloc[:cut], partial, rtol=1e-9)


def test_market_context_is_aligned_by_date_and_leaves_missing_market_candles_nan() -> None:
    eth = load_candles("ETH/USDT").iloc[:1000].reset_index(drop=True)
    btc = load_candles("BTC/USDT").iloc[:1000].reset_index(drop=True)
    context = market_context_features(eth, btc)
    assert context["market-corr72"].iloc[200:].between(-1, 1).all()
    assert context["market-corr72"].iloc[200:].mean() > 0.5, "ETH follows BTC"

    holed = btc.drop(index=range(500, 510))
    with_hole = market_context_features(eth, holed)
    assert with_hole["market-corr72"].iloc[500:510].isna().all()
    pd.testing.assert_series_equal(
        with_hole["market-corr72"].iloc[200:500], context["market-corr72"].iloc[200:500]
    )


def test_time_features_are_cyclical() -> None:
    dates = load_candles("BTC/USDT")["date"].iloc[:48]
    features = time_features(dates)
    radius = features["hour-sin"] ** 2 + features["hour-cos"] ** 2
    assert np.allclose(radius, 1.0)
    assert features["hour-sin"].iloc[0] == pytest.approx(features["hour-sin"].iloc[24])


def test_unknown_family_is_refused(sol: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="sentiment"):
        basic_features(sol, ["trend", "sentiment"])


def test_windowed_ema_weights_the_last_candles_only(sol: pd.DataFrame) -> None:
    close = sol["close"].to_numpy()
    ema = windowed_ema(close, 50)
    assert np.isnan(ema[:49]).all() and not np.isnan(ema[49:]).any()
    alpha = 2 / 51
    weights = (1 - alpha) ** np.arange(50)
    expected = (close[1000 - 49 : 1001][::-1] * weights).sum() / weights.sum()
    assert ema[1000] == pytest.approx(expected, rel=1e-12)
    changed = close.copy()
    changed[:900] *= 3.0  # anything older than 50 candles does not matter
    assert windowed_ema(changed, 50)[1000] == pytest.approx(ema[1000], rel=1e-12)

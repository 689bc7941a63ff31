"""Triple-barrier labels on real Binance candles, against a plain loop as the reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from freqai_swing.labels import (
    CLASS_ORDER,
    DOWN,
    FLAT,
    UP,
    LabelConfig,
    barrier_widths,
    triple_barrier_labels,
)
from tests.conftest import load_candles


def reference_labels(candles: pd.DataFrame, config: LabelConfig) -> list[object]:
    """Candle-by-candle reading of the definition (slow, obviously right)."""
    widths = barrier_widths(candles, config)
    dates = list(candles["date"])
    one_price = candles["high"] == candles["low"]
    hole = (one_price | candles[["high", "low", "close"]].isna().any(axis=1)).tolist()
    step = pd.Timedelta("1h")
    labels: list[object] = []
    for row in range(len(candles)):
        close, x = candles["close"].iloc[row], widths[row]
        label: object = np.nan
        last = row + config.horizon_candles
        complete = last < len(candles) and dates[last] == dates[row] + config.horizon_candles * step
        complete = complete and not any(hole[row : last + 1])
        if not np.isnan(x) and complete:
            for k in range(1, config.horizon_candles + 1):
                future = row + k
                up = candles["high"].iloc[future] >= close * (1 + x)
                down = candles["low"].iloc[future] <= close * (1 - x)
                if down:
                    label = DOWN
                    break
                if up:
                    label = UP
                    break
            else:
                label = FLAT
        labels.append(label)
    return labels


def same_labels(left: pd.Series | list[object], right: pd.Series | list[object]) -> bool:
    left_values = pd.Series(list(left), dtype=object).fillna("nan").tolist()
    right_values = pd.Series(list(right), dtype=object).fillna("nan").tolist()
    return left_values == right_values


@pytest.fixture(scope="module")
def eth() -> pd.DataFrame:
    """3000 contiguous real candles (after the 2023-03-24 Binance outage)."""
    candles = load_candles("ETH/USDT")
    candles = candles[candles["date"] >= "2023-03-25"].iloc[:3000].reset_index(drop=True)
    assert (candles["date"].diff().dropna() == pd.Timedelta("1h")).all()
    return candles


def test_labels_match_the_definition_on_real_candles(eth: pd.DataFrame) -> None:
    config = LabelConfig()
    labels = triple_barrier_labels(eth, config)
    assert same_labels(labels, reference_labels(eth, config))
    counts = labels.value_counts()
    assert set(counts.index) == set(CLASS_ORDER)
    assert counts.min() > 0.15 * counts.sum(), "2 % in 24 h should give every class often"


def test_last_horizon_rows_are_unknown_never_a_default_class(eth: pd.DataFrame) -> None:
    config = LabelConfig(horizon_candles=24)
    labels = triple_barrier_labels(eth, config)
    assert labels.iloc[-24:].isna().all()
    assert labels.iloc[:-24].notna().all()


def test_a_gap_makes_horizons_across_it_unknown() -> None:
    candles = load_candles("BTC/USDT")
    deltas = candles["date"].diff()
    gap_rows = np.flatnonzero(deltas > pd.Timedelta("1h"))
    assert len(gap_rows), "the bundled BTC sample has a real exchange outage"
    gap = int(gap_rows[0])
    window = candles.iloc[gap - 100 : gap + 100].reset_index(drop=True)
    assert window["date"].iloc[100] - window["date"].iloc[99] > pd.Timedelta("1h")
    config = LabelConfig()
    labels = triple_barrier_labels(window, config)
    assert same_labels(labels, reference_labels(window, config))
    # Binance's last candle before this outage traded nothing: it counts as missing too
    first_hole = 99 if window.loc[99, "volume"] == 0 else 100
    assert labels.iloc[first_hole - config.horizon_candles : 100].isna().all()
    assert labels.iloc[: first_hole - config.horizon_candles].notna().all()
    assert labels.iloc[100 : 200 - config.horizon_candles].notna().all()


def test_labels_only_look_horizon_candles_ahead(eth: pd.DataFrame) -> None:
    """Cutting the data changes only the labels of the last N rows before the cut."""
    config = LabelConfig()
    full = triple_barrier_labels(eth, config)
    cut = triple_barrier_labels(eth.iloc[:2000], config)
    assert same_labels(cut.iloc[: 2000 - 24], full.iloc[: 2000 - 24])
    assert cut.iloc[2000 - 24 :].isna().all()


def test_both_barriers_in_one_candle_is_down(eth: pd.DataFrame) -> None:
    candles = eth.iloc[:30].copy().reset_index(drop=True)
    close = candles.loc[0, "close"]
    candles.loc[1, ["high", "low"]] = [close * 1.05, close * 0.95]
    assert triple_barrier_labels(candles, LabelConfig()).iloc[0] == DOWN


def test_volatility_barrier_uses_the_past_only(eth: pd.DataFrame) -> None:
    config = LabelConfig(barrier_mode="volatility", volatility_window=48)
    widths = barrier_widths(eth, config)
    changed = eth.copy()
    changed.loc[2500:, "close"] *= 1.5
    assert np.allclose(widths[:2500], barrier_widths(changed, config)[:2500], equal_nan=True)
    valid = widths[~np.isnan(widths)]
    assert (valid >= config.min_barrier_pct).all() and (valid <= config.max_barrier_pct).all()
    labels = triple_barrier_labels(eth, config)
    assert same_labels(labels, reference_labels(eth, config))
    assert labels.iloc[:48].isna().all(), "no volatility estimate yet: unknown, not a class"


@pytest.mark.parametrize(
    ("field", "value"),
    [("horizon_candles", 0), ("barrier_pct", 0.0), ("barrier_pct", 1.5), ("barrier_mode", "atr")],
)
def test_bad_label_settings_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        LabelConfig(**{field: value})  # type: ignore[arg-type]


def test_up_needs_the_high_to_reach_the_barrier(eth: pd.DataFrame) -> None:
    labels = triple_barrier_labels(eth, LabelConfig())
    for row in np.flatnonzero((labels == UP).to_numpy())[:50]:
        future_high = eth["high"].iloc[row + 1 : row + 25].max()
        assert future_high >= eth["close"].iloc[row] * 1.02
    for row in np.flatnonzero((labels == FLAT).to_numpy())[:50]:
        future = eth.iloc[row + 1 : row + 25]
        assert future["high"].max() < eth["close"].iloc[row] * 1.02
        assert future["low"].min() > eth["close"].iloc[row] * 0.98


def test_candles_freqtrade_filled_in_count_as_missing(eth: pd.DataFrame) -> None:
    """An outage filled with flat zero-volume candles labels like a hole, not a calm market."""
    filled = eth.copy()
    rows = range(1000, 1010)
    filled.loc[rows, ["open", "high", "low", "close"]] = filled.loc[999, "close"]
    filled.loc[rows, "volume"] = 0.0
    labels = triple_barrier_labels(filled, LabelConfig())
    assert labels.iloc[1000 - 24 : 1010].isna().all()
    holed = eth.drop(index=rows).reset_index(drop=True)
    assert same_labels(
        labels.drop(index=rows).reset_index(drop=True), triple_barrier_labels(holed, LabelConfig())
    )

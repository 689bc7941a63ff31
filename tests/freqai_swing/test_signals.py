"""Entry and exit rules: no trade on a missing, NaN or distrusted prediction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from freqai_swing.signals import (
    SignalThresholds,
    entry_signal,
    exit_signal,
    expected_edge,
    prediction_is_usable,
)

COST = 0.003


def enter(frame: pd.DataFrame, thresholds: SignalThresholds | None = None) -> pd.Series:
    """The entry rule with the edge of a 2 % barrier and 0.3 % round-trip cost."""
    edge = expected_edge(frame.get("up", 0.0), frame.get("down", 0.0), 0.02, COST)
    return entry_signal(frame, thresholds or SignalThresholds(), edge)


def predictions(up: list[float], down: list[float], do_predict: list[int]) -> pd.DataFrame:
    flat = [1 - u - d for u, d in zip(up, down, strict=True)]
    return pd.DataFrame({"up": up, "down": down, "flat": flat, "do_predict": do_predict})


def test_edge_is_barrier_times_probability_gap_minus_costs() -> None:
    edge = expected_edge(pd.Series([0.6]), pd.Series([0.2]), 0.02, COST)
    assert edge.iloc[0] == pytest.approx(0.02 * 0.4 - 0.003)


def test_entry_needs_edge_probability_and_trust() -> None:
    frame = predictions(
        up=[0.70, 0.70, 0.40, 0.70, 0.55],
        down=[0.10, 0.10, 0.05, 0.10, 0.40],
        do_predict=[1, 0, 1, -2, 1],
    )
    entries = enter(frame, SignalThresholds(min_edge=0.004, min_up_probability=0.45))
    # row 0: edge 0.009; row 1: outlier; row 2: P(up) too low; row 3: expired; row 4: edge -0.0
    assert entries.tolist() == [True, False, False, False, False]


def test_nan_or_missing_predictions_never_enter_or_exit() -> None:
    frame = predictions(up=[np.nan, 0.9], down=[0.0, np.nan], do_predict=[1, 1])
    assert not prediction_is_usable(frame).any()
    assert not enter(frame).any()
    assert not exit_signal(frame, SignalThresholds()).any()
    no_model = pd.DataFrame({"close": [1.0, 2.0]})
    assert not enter(no_model).any()
    filled = predictions(up=[0.0], down=[0.0], do_predict=[1])  # FreqAI's fill for no prediction
    assert not prediction_is_usable(filled).any()


def test_exit_on_down_probability() -> None:
    frame = predictions(up=[0.2, 0.3], down=[0.6, 0.4], do_predict=[1, 1])
    assert exit_signal(frame, SignalThresholds(exit_down_probability=0.5)).tolist() == [True, False]


def test_no_entry_on_a_candle_freqtrade_filled_in() -> None:
    """Outages (volume 0) and NaN prices (volume kept) both come back as one-price candles."""
    frame = predictions(up=[0.8, 0.8, 0.8], down=[0.05, 0.05, 0.05], do_predict=[1, 1, 1])
    frame["high"], frame["low"], frame["close"] = [10.0, 10.0, 10.5], [10.0, 10.0, 9.9], 10.0
    frame["volume"] = [0.0, 157581.8, 12.5]
    assert enter(frame).tolist() == [False, False, True]

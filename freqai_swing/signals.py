"""Entries and exits from the classifier's probabilities, net of trading costs.

A long trade opened on a triple-barrier model wins about ``x`` when ``up`` comes first and loses
about ``x`` when ``down`` does, so its expected gross edge is ``x * (P(up) - P(down))``. It pays
the fee and slippage twice. The strategy only enters where that edge, after costs, clears a
margin: on 1h spot, trading often on thin edges is how FreqAI's example loses its capital.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from freqai_swing.labels import DOWN, UP, missing_candles


@dataclass(frozen=True)
class SignalThresholds:
    """The strategy's hyperoptable decision thresholds.

    Attributes:
        min_edge: expected return after round-trip costs needed to enter (0.004 = 0.4 %).
        min_up_probability: P(up) needed to enter, whatever the edge.
        exit_down_probability: P(down) at or above which an open trade is closed.
    """

    min_edge: float = 0.004
    min_up_probability: float = 0.45
    exit_down_probability: float = 0.5


def expected_edge(
    up_probability: pd.Series,
    down_probability: pd.Series,
    barrier: pd.Series | float,
    round_trip_cost: float,
) -> pd.Series:
    """Expected return of a long entry per candle, after paying ``round_trip_cost``."""
    return barrier * (up_probability - down_probability) - round_trip_cost


def prediction_is_usable(dataframe: pd.DataFrame) -> pd.Series:
    """FreqAI trusts the row (``do_predict == 1``) and the probabilities exist and are finite.

    ``do_predict`` is 0 for NaN features or outliers, negative for an expired model; FreqAI
    fills rows without a prediction with 0, so a missing prediction never reads as usable.
    """
    if "do_predict" not in dataframe.columns:
        return pd.Series(False, index=dataframe.index)
    probabilities = dataframe.reindex(columns=[UP, DOWN]).astype(float)
    finite = np.isfinite(probabilities).all(axis=1) & (probabilities.sum(axis=1) > 0)
    return (dataframe["do_predict"] == 1) & finite


def entry_signal(
    dataframe: pd.DataFrame, thresholds: SignalThresholds, edge: pd.Series
) -> pd.Series:
    """True where a long entry's expected ``edge`` (see :func:`expected_edge`) beats the
    threshold and P(up) is high enough.

    Never on a candle that stands for no trading (:func:`freqai_swing.labels.missing_candles`):
    Freqtrade fills outages and NaN prices with the last close, and the features of such a
    candle describe no real market.
    """
    usable = prediction_is_usable(dataframe)
    if {"high", "low", "close"} <= set(dataframe.columns):
        usable &= ~missing_candles(dataframe)
    up = dataframe.get(UP, pd.Series(0.0, index=dataframe.index)).astype(float)
    return usable & (edge >= thresholds.min_edge) & (up >= thresholds.min_up_probability)


def exit_signal(dataframe: pd.DataFrame, thresholds: SignalThresholds) -> pd.Series:
    """True where the model gives ``down`` at least ``exit_down_probability``."""
    usable = prediction_is_usable(dataframe)
    down = dataframe.get(DOWN, pd.Series(0.0, index=dataframe.index)).astype(float)
    return usable & (down >= thresholds.exit_down_probability)

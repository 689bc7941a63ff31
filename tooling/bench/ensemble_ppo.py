"""Benchmark: one ensemble training window with and without the PPO member, on real candles.

Trains the ensemble twice on the same window of the bundled 1h candles (features min-max scaled
to [-1, 1] on the window, as FreqAI's pipeline does; triple-barrier labels; NaN rows dropped):
XGBoost + LightGBM, then XGBoost + LightGBM + PPO. Prints the training seconds, the learned
weights and the out-of-fold log loss of each member, the weighted mix and the calibrated
ensemble. Not a test: the seconds depend on the machine and its load.

    python -m tooling.bench.ensemble_ppo [--pair ETH/USDT] [--rows 2880] [--timesteps 20480]
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import time
from typing import Any

import numpy as np
import pandas as pd

from freqai_swing.features import basic_features
from freqai_swing.labels import LabelConfig, triple_barrier_labels
from freqai_swing.models.common.classifier import (
    TrainingSet,
    encode_labels,
    purged_validation_split,
)
from freqai_swing.models.ensemble.stacked import train_ensemble
from freqai_swing.settings import EnsembleMember, ModelSettings, OptunaSettings
from tooling.bench.rl_env import SAMPLE_DATADIR

HOUR = 3600


def window_inputs(pair: str, rows: int, end: str) -> tuple[TrainingSet, pd.Series, np.ndarray]:
    """The ``rows`` candles of ``pair`` before ``end`` as one training window."""
    candles = pd.read_feather(SAMPLE_DATADIR / f"{pair.replace('/', '_')}-1h.feather")
    candles = candles[candles["date"] < pd.Timestamp(end, tz="UTC")].tail(rows + 300)
    candles = candles.reset_index(drop=True)
    labels = LabelConfig()
    features = basic_features(candles)
    target = triple_barrier_labels(candles, labels)
    keep = (features.notna().all(axis=1) & target.notna()).to_numpy().copy()
    keep[:300] = False  # warm lookbacks only
    features = features[keep].reset_index(drop=True)
    low, span = features.min(), (features.max() - features.min()).replace(0.0, 1.0)
    features = 2 * (features - low) / span - 1
    dates = candles["date"][keep].reset_index(drop=True)
    split = purged_validation_split(dates, 0.2, labels.horizon_candles, HOUR, len(features))
    data = TrainingSet(
        features, encode_labels(target[keep].reset_index(drop=True)), np.ones(len(features)), split
    )
    return data, dates, candles["close"][keep].to_numpy(dtype=np.float64)


def run(pair: str, rows: int, end: str, timesteps: int, folds: int) -> dict[str, Any]:
    data, dates, closes = window_inputs(pair, rows, end)
    horizon = LabelConfig().horizon_candles
    boosters = (EnsembleMember("xgboost"), EnsembleMember("lightgbm"))
    ppo = EnsembleMember("ppo", {"total_timesteps": timesteps, "device": "cpu"})
    result: dict[str, Any] = {
        "pair": pair,
        "rows": len(data.labels),
        "window_end": end,
        "folds": folds,
        "ppo_total_timesteps": timesteps,
        "machine": platform.processor() or platform.machine(),
    }
    for name, members in (("boosters", boosters), ("boosters+ppo", (*boosters, ppo))):
        started = time.monotonic()
        ensemble = train_ensemble(
            data,
            dates,
            members,
            {},
            ModelSettings(device="cpu"),
            folds=folds,
            purge_candles=horizon,
            embargo_candles=horizon,
            candle_seconds=HOUR,
            calibration="sigmoid",
            optuna_settings=OptunaSettings(),
            closes=closes,
        )
        result[name] = {
            "seconds": round(time.monotonic() - started, 1),
            "weights": {k: round(v, 4) for k, v in ensemble.weights.items()},
            "out_of_fold_log_loss": {
                k: round(v["log_loss"], 4) for k, v in ensemble.out_of_fold_metrics.items()
            },
        }
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pair", default="ETH/USDT")
    parser.add_argument("--rows", type=int, default=2880, help="window rows (120 days of 1h)")
    parser.add_argument("--end", default="2024-01-01", help="the window ends before this date")
    parser.add_argument("--timesteps", type=int, default=20480)
    parser.add_argument("--folds", type=int, default=4)
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    figures = run(
        arguments.pair, arguments.rows, arguments.end, arguments.timesteps, arguments.folds
    )
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

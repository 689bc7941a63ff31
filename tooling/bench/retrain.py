"""Benchmark: retrain cycle of every model on the 10 pairs, prediction latency, memory.

Measured side by side in one run, on the same window of the bundled real candles:

- **retrain cycle**: one real ``freqtrade backtesting`` per model over one 30-day window of
  the 10 pairs (so FreqAI trains each pair once on 120 days); the figure is the sum of
  FreqAI's own "Done training" seconds, and the command's wall time and peak memory beside it.
  FreqAI's ``LightGBMRegressor`` with its example strategy is the reference.
- **prediction latency**: one candle's probabilities from a trained booster, per pair.
- **memory over retrains**: the resident memory after 50 consecutive trainings of one pair's
  window in one process, against after the 5th (growth above 10 % would be a leak).

Not a test: the figures depend on the machine and its load; compare ratios, not seconds.

    python -m tooling.bench.retrain [--output FILE] [--retrains 50]
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from freqai_swing.features import basic_features
from freqai_swing.labels import LabelConfig, triple_barrier_labels
from freqai_swing.models.boosting.cores import train_lightgbm, train_xgboost
from freqai_swing.models.common.classifier import (
    TrainingSet,
    encode_labels,
    purged_validation_split,
)
from freqai_swing.settings import ModelSettings
from tooling.local_exchange import LocalExchange, write_offline_overlay
from tooling.offline import (
    DEFAULT_DATADIR,
    REPO_ROOT,
    run_freqtrade_in,
)

#: One 30-day window: FreqAI trains each pair once, on the 120 days before it.
WINDOW = "20240501-20240531"
MODELS = (
    ("SwingClassifierStrategy", "SwingXGBoostClassifier", ("base.json", "freqai.json")),
    ("SwingClassifierStrategy", "SwingLightGBMClassifier", ("base.json", "freqai.json")),
    ("SwingClassifierStrategy", "SwingEnsembleClassifier", ("base.json", "freqai.json")),
    ("FreqaiExampleSpotStrategy", "LightGBMRegressor", ("base.json", "freqai-example.json")),
)


def retrain_cycle(
    strategy: str, model: str, configs: tuple[str, ...], work: Path, offline: Path
) -> dict[str, Any]:
    """One real backtest over the window: FreqAI's training seconds, wall time, peak memory."""
    arguments = ["backtesting", "--strategy", strategy, "--freqaimodel", model]
    arguments += ["--timerange", WINDOW, "--cache", "none"]
    configs = [*(REPO_ROOT / "config" / config for config in configs), offline]
    started = time.monotonic()
    completed = run_freqtrade_in(arguments, work / model, configs)
    wall = time.monotonic() - started
    output = completed.stdout + completed.stderr
    if completed.returncode != 0:
        raise RuntimeError(f"{model} backtest failed:\n{output[-2000:]}")
    seconds = [float(s) for s in re.findall(r"Done training \S+ \(([\d.]+) secs\)", output)]
    return {
        "model": model,
        "pairs_trained": len(seconds),
        "training_seconds": round(sum(seconds), 2),
        "backtest_wall_seconds": round(wall, 2),
    }


def _window(pair: str = "ETH/USDT") -> TrainingSet:
    """120 days of one pair's real candles with the bundle's basic features and labels."""
    import pandas as pd

    candles = pd.read_feather(DEFAULT_DATADIR / f"{pair.replace('/', '_')}-1h.feather")
    candles = candles.iloc[-(120 * 24 + 300) :].reset_index(drop=True)
    features = basic_features(candles)
    labels = triple_barrier_labels(candles, LabelConfig())
    keep = features.notna().all(axis=1) & labels.notna()
    features = features[keep].reset_index(drop=True)
    dates = candles["date"][keep].reset_index(drop=True)
    split = purged_validation_split(dates, 0.2, 24, 3600, len(features))
    return TrainingSet(features, encode_labels(labels[keep]), np.ones(len(features)), split)


def prediction_latency(repeats: int = 200) -> dict[str, float]:
    """Milliseconds for one candle's probabilities, per booster (median of ``repeats``)."""
    data = _window()
    settings = ModelSettings(threads=2)
    latencies = {}
    for name, trainer in (("xgboost", train_xgboost), ("lightgbm", train_lightgbm)):
        model = trainer(data, {"n_estimators": 200}, settings)
        row = data.features.iloc[[-1]]
        samples = []
        for _ in range(repeats):
            started = time.perf_counter()
            model.predict_proba(row)
            samples.append(time.perf_counter() - started)
        latencies[f"{name}_ms_per_candle"] = round(float(np.median(samples)) * 1000, 3)
    return latencies


def memory_over_retrains(retrains: int) -> dict[str, float]:
    """Resident memory after the 5th and after the last of ``retrains`` trainings."""
    data = _window()
    settings = ModelSettings(threads=2)
    process = psutil.Process()
    after_fifth = 0.0
    for index in range(retrains):
        train_xgboost(data, {"n_estimators": 100}, settings)
        if index == 4:
            after_fifth = process.memory_info().rss / 2**20
    final = process.memory_info().rss / 2**20
    return {
        "retrains": retrains,
        "rss_after_5_mib": round(after_fifth, 1),
        "rss_after_all_mib": round(final, 1),
        "growth": round(final / after_fifth - 1, 4),
    }


def run(retrains: int, work: Path) -> dict[str, Any]:
    with LocalExchange(DEFAULT_DATADIR, port=0) as exchange:
        offline = write_offline_overlay(work / "offline.json", exchange.api_url)
        cycles = [retrain_cycle(*model, work, offline) for model in MODELS]
    children_peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    reference = next(c for c in cycles if c["model"] == "LightGBMRegressor")
    for cycle in cycles:
        cycle["ratio_to_freqai_example"] = round(
            cycle["training_seconds"] / reference["training_seconds"], 2
        )
    return {
        "window": WINDOW,
        "retrain_cycles": cycles,
        "peak_backtest_rss_mib": round(children_peak_mib, 1),
        "prediction_latency": prediction_latency(),
        "memory_over_retrains": memory_over_retrains(retrains),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--output", type=Path, default=REPO_ROOT / "user_data" / "bench" / "retrain.json"
    )
    parser.add_argument("--retrains", type=int, default=50)
    parser.add_argument("--work", type=Path, default=REPO_ROOT / "user_data" / "bench" / "runs")
    arguments = parser.parse_args(argv)
    arguments.work.mkdir(parents=True, exist_ok=True)
    result = run(arguments.retrains, arguments.work)
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(json.dumps(result, indent=2))
    print("| model | pairs | training s | backtest wall s | × FreqAI example |")
    print("|---|---|---|---|---|")
    for cycle in result["retrain_cycles"]:
        print(
            f"| {cycle['model']} | {cycle['pairs_trained']} | {cycle['training_seconds']} | "
            f"{cycle['backtest_wall_seconds']} | {cycle['ratio_to_freqai_example']} |"
        )
    print(f"peak backtest memory: {result['peak_backtest_rss_mib']} MiB")
    print(f"prediction latency: {result['prediction_latency']}")
    print(f"memory over retrains: {result['memory_over_retrains']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

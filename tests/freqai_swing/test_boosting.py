"""Gradient-boosting cores on real features and labels: purge, classes, seeds, devices."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from freqai_swing.features import basic_features
from freqai_swing.labels import CLASS_ORDER, LabelConfig, triple_barrier_labels
from freqai_swing.models.boosting.cores import train_lightgbm, train_xgboost
from freqai_swing.models.common import device as device_module
from freqai_swing.models.common.classifier import (
    ClassifierCore,
    TrainingSet,
    encode_labels,
    purged_validation_split,
)
from freqai_swing.settings import ModelSettings
from tests.conftest import load_candles

HOUR = 3600
Trainer = Callable[[TrainingSet, dict, ModelSettings], ClassifierCore]
TRAINERS = [pytest.param(train_xgboost, id="xgboost"), pytest.param(train_lightgbm, id="lightgbm")]
SMALL = {"n_estimators": 60}


@pytest.fixture(scope="module")
def window() -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Features, labels and dates of 2000 real ETH candles, NaN rows dropped as FreqAI does."""
    candles = load_candles("ETH/USDT").iloc[:2300].reset_index(drop=True)
    features = basic_features(candles)
    labels = triple_barrier_labels(candles, LabelConfig())
    keep = features.notna().all(axis=1) & labels.notna()
    return (
        features[keep].reset_index(drop=True),
        labels[keep].reset_index(drop=True),
        candles["date"][keep].reset_index(drop=True),
    )


def training_set(window: tuple[pd.DataFrame, pd.Series, pd.Series], purge: int = 24) -> TrainingSet:
    features, labels, dates = window
    split = purged_validation_split(dates, 0.2, purge, HOUR, len(features))
    return TrainingSet(features, encode_labels(labels), np.ones(len(features)), split)


def test_purge_gap_separates_fitted_labels_from_validation(window) -> None:
    features, labels, dates = window
    split = purged_validation_split(dates, 0.2, 24, HOUR, len(features))
    last_fit, first_validation = (
        dates.iloc[split.fit_rows[-1]],
        dates.iloc[split.validation_rows[0]],
    )
    # a fitted row's label reads 24 candles ahead: it must end before validation begins
    assert last_fit + pd.Timedelta(hours=24) < first_validation
    assert set(split.fit_rows).isdisjoint(split.validation_rows)
    assert split.validation_rows[-1] == len(features) - 1
    assert len(split.validation_rows) == int(np.ceil(0.2 * len(features)))


def test_purge_is_measured_in_time_across_dropped_rows(window) -> None:
    features, _, dates = window
    holed = dates.drop(index=range(1500, 1560)).reset_index(drop=True)
    split = purged_validation_split(holed, 0.2, 24, HOUR, len(holed))
    gap = holed.iloc[split.validation_rows[0]] - holed.iloc[split.fit_rows[-1]]
    assert gap > pd.Timedelta(hours=24)


def test_unordered_rows_are_refused(window) -> None:
    _, _, dates = window
    with pytest.raises(ValueError, match="time order"):
        purged_validation_split(dates.iloc[::-1], 0.2, 24, HOUR, len(dates))


@pytest.mark.parametrize("trainer", TRAINERS)
def test_classes_stay_fixed_when_a_window_lacks_one(window, trainer: Trainer) -> None:
    features, labels, dates = window
    no_down = labels != "down"
    data = training_set(
        (
            features[no_down].reset_index(drop=True),
            labels[no_down].reset_index(drop=True),
            dates[no_down].reset_index(drop=True),
        )
    )
    model = trainer(data, SMALL, ModelSettings(device="cpu"))
    probabilities = model.predict_proba(features.iloc[-200:])
    assert list(model.classes_) == list(CLASS_ORDER)
    assert probabilities.shape == (200, 3)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert probabilities[:, 0].max() < 0.2, "a class never seen in training stays improbable"


@pytest.mark.parametrize("trainer", TRAINERS)
def test_same_seed_same_model(window, trainer: Trainer) -> None:
    data = training_set(window)
    first = trainer(data, SMALL, ModelSettings(device="cpu", seed=7))
    second = trainer(data, SMALL, ModelSettings(device="cpu", seed=7))
    other = trainer(data, SMALL, ModelSettings(device="cpu", seed=8))
    sample = window[0].iloc[:300]
    assert np.array_equal(first.predict_proba(sample), second.predict_proba(sample))
    assert not np.array_equal(first.predict_proba(sample), other.predict_proba(sample))


@pytest.mark.parametrize("trainer", TRAINERS)
def test_early_stopping_uses_the_purged_validation_rows(window, trainer: Trainer) -> None:
    data = training_set(window)
    model = trainer(
        data, {"n_estimators": 400}, ModelSettings(device="cpu", early_stopping_rounds=10)
    )
    assert model.best_iteration < 399, "noisy 1h returns stop long before 400 rounds"
    assert len(model.feature_importances_) == data.features.shape[1]


@pytest.mark.parametrize("trainer", TRAINERS)
def test_saved_model_predicts_the_same(window, trainer: Trainer) -> None:
    model = trainer(training_set(window), SMALL, ModelSettings(device="cpu"))
    restored = pickle.loads(pickle.dumps(model))  # FreqAI saves classifiers with joblib
    sample = window[0].iloc[-100:]
    assert np.array_equal(model.predict_proba(sample), restored.predict_proba(sample))
    assert set(restored.predict(sample)) <= set(CLASS_ORDER)


@pytest.mark.parametrize("trainer", TRAINERS)
def test_model_pickled_under_its_old_module_and_name_still_loads(window, trainer: Trainer) -> None:
    """Model files saved before ``boosting.py`` became a package name the class by the old
    module and name (``freqai_swing.models.boosting.XGBoostSwingModel``)."""
    model = trainer(training_set(window), SMALL, ModelSettings(device="cpu"))
    old_name = {"XGBoostCore": "XGBoostSwingModel", "LightGBMCore": "LightGBMSwingModel"}
    new = f"freqai_swing.models.boosting.cores\n{type(model).__name__}\n".encode()
    old = f"freqai_swing.models.boosting\n{old_name[type(model).__name__]}\n".encode()
    text = pickle.dumps(model, protocol=0)  # protocol 0 names each class on its own lines
    assert text.count(new) == 1
    restored = pickle.loads(text.replace(new, old))
    assert type(restored) is type(model)
    sample = window[0].iloc[-100:]
    assert np.array_equal(model.predict_proba(sample), restored.predict_proba(sample))


@pytest.mark.parametrize("trainer", TRAINERS)
def test_cuda_request_uses_gpu_or_falls_back_to_cpu_with_one_warning(
    window, trainer: Trainer, caplog: pytest.LogCaptureFixture
) -> None:
    device_module._warned.clear()
    data = training_set(window)
    with caplog.at_level(logging.WARNING):
        first = trainer(data, SMALL, ModelSettings(device="cuda"))
        trainer(data, SMALL, ModelSettings(device="cuda"))
    warnings = [r for r in caplog.records if "falling back" in r.message or "no CUDA" in r.message]
    if device_module.cuda_available():
        assert first.device in ("cuda", "cpu")
        assert len(warnings) <= 1
    else:
        assert first.device == "cpu"
        assert len(warnings) == 1


def test_unknown_label_is_refused() -> None:
    with pytest.raises(ValueError, match="buy"):
        encode_labels(pd.Series(["up", "buy", "flat"]))


@pytest.mark.parametrize("trainer", TRAINERS)
def test_validation_skill_tells_signal_from_noise(window, trainer: Trainer) -> None:
    features, labels, dates = window
    rng = np.random.default_rng(0)
    shuffled = pd.Series(rng.permutation(labels.to_numpy()))
    noise = trainer(training_set((features, shuffled, dates)), SMALL, ModelSettings(device="cpu"))
    assert noise.validation_skill is not None and noise.validation_skill < 0.01
    # a label the features fully determine (RSI regime): the model must show clear skill
    learnable = pd.Series(
        np.select([features["rsi14"] > 0.6, features["rsi14"] < 0.4], ["up", "down"], "flat")
    )
    signal = trainer(training_set((features, learnable, dates)), SMALL, ModelSettings(device="cpu"))
    assert signal.validation_skill is not None and signal.validation_skill > 0.3

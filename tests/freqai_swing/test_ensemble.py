"""The stacked ensemble on real candles: purged folds, learned weights, calibration, reload."""

from __future__ import annotations

import pickle
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from freqai_swing.features import basic_features
from freqai_swing.labels import LabelConfig, triple_barrier_labels
from freqai_swing.metrics import brier_score, log_loss
from freqai_swing.models.boosting.cores import train_xgboost
from freqai_swing.models.common.classifier import (
    FloatMatrix,
    TrainingSet,
    encode_labels,
    purged_folds,
    purged_validation_split,
)
from freqai_swing.models.ensemble import stacking
from freqai_swing.models.ensemble.calibration import SigmoidCalibration
from freqai_swing.models.ensemble.persistence import EnsembleMemberError, MemberFile
from freqai_swing.models.ensemble.stacked import SwingEnsemble, train_ensemble
from freqai_swing.models.ensemble.stacking import nonnegative_weights, out_of_fold_probabilities
from freqai_swing.models.ensemble.tuning import TrialRecord, TuningResult, tune_member
from freqai_swing.settings import (
    EnsembleMember,
    ModelSettings,
    OptunaSettings,
    SwingConfigError,
    load_swing_settings,
    settings_fingerprint,
)
from tests.conftest import REPO_ROOT, load_candles

HOUR = 3600
HORIZON = LabelConfig().horizon_candles
SETTINGS = ModelSettings(threads=2)
SMALL = {"xgboost": {"n_estimators": 80}, "lightgbm": {"n_estimators": 80}}


@pytest.fixture(scope="module")
def window() -> tuple[TrainingSet, pd.Series]:
    """About 2,700 real SOL candles (NaN rows dropped as FreqAI does) and their dates."""
    return _window(3000)


def _window(candle_count: int) -> tuple[TrainingSet, pd.Series]:
    candles = load_candles("SOL/USDT").iloc[:candle_count].reset_index(drop=True)
    features = basic_features(candles)
    labels = triple_barrier_labels(candles, LabelConfig())
    keep = features.notna().all(axis=1) & labels.notna()
    features, labels = features[keep].reset_index(drop=True), labels[keep].reset_index(drop=True)
    dates = candles["date"][keep].reset_index(drop=True)
    split = purged_validation_split(dates, 0.2, HORIZON, HOUR, len(features))
    return TrainingSet(features, encode_labels(labels), np.ones(len(features)), split), dates


def _train(window: tuple[TrainingSet, pd.Series], members, **overrides) -> SwingEnsemble:
    data, dates = window
    options = {
        "folds": 4,
        "purge_candles": HORIZON,
        "embargo_candles": HORIZON,
        "candle_seconds": HOUR,
        "calibration": "sigmoid",
        "optuna_settings": OptunaSettings(),
    } | overrides
    return train_ensemble(data, dates, members, SMALL, SETTINGS, **options)


def test_no_training_label_reads_into_its_validation_fold(window) -> None:
    _, dates = window
    stamps = pd.to_datetime(dates, utc=True)
    horizon = pd.Timedelta(hours=HORIZON)
    splits = purged_folds(dates, 5, HORIZON, HORIZON, HOUR)
    assert len(splits) == 5
    covered = np.concatenate([split.validation_rows for split in splits])
    assert np.array_equal(np.sort(covered), np.arange(len(dates)))
    for split in splits:
        start = stamps.iloc[split.validation_rows[0]]
        end = stamps.iloc[split.validation_rows[-1]]
        fitted = stamps.iloc[split.fit_rows]
        # a fitted row's label spans [t, t + horizon]; it must not touch [start, end]
        overlaps = (fitted + horizon >= start) & (fitted <= end)
        assert not overlaps.any()
        # the embargo: no fitted row in the horizon after the fold either
        assert not ((fitted > end) & (fitted <= end + horizon)).any()
        assert set(split.fit_rows).isdisjoint(split.validation_rows)


def test_folds_refuse_rows_out_of_time_order(window) -> None:
    _, dates = window
    with pytest.raises(ValueError, match="time order"):
        purged_folds(dates.iloc[::-1], 4, HORIZON, HORIZON, HOUR)


class RandomMember:
    """A 'member' whose probabilities are Dirichlet noise, unrelated to the candles."""

    classes_ = np.array(["down", "flat", "up"])
    best_iteration = 0
    device = "cpu"
    validation_skill = None

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def predict_proba(self, features: pd.DataFrame) -> FloatMatrix:
        return np.random.default_rng(self.seed).dirichlet(np.ones(3), size=len(features))


def test_random_member_gets_near_zero_weight(window, monkeypatch) -> None:
    draws = iter(range(100))
    monkeypatch.setitem(
        stacking.TRAINERS, "random", lambda data, params, settings: RandomMember(next(draws))
    )
    ensemble = _train(window, (EnsembleMember("xgboost"), EnsembleMember("random")))
    assert ensemble.weights["random"] < 0.05
    assert ensemble.weights["xgboost"] > 0.95
    assert sum(ensemble.weights.values()) == pytest.approx(1.0)


def test_weights_are_nonnegative_and_favour_the_better_member(window) -> None:
    data, dates = window
    splits = purged_folds(dates, 4, HORIZON, HORIZON, HOUR)
    good = out_of_fold_probabilities(train_xgboost, data, splits, {"n_estimators": 60}, SETTINGS)
    rows = np.isfinite(good).all(axis=1)
    flat = np.full_like(good[rows], 1 / 3)
    weights = nonnegative_weights([good[rows], flat], data.labels[rows])
    assert (weights >= 0).all() and weights.sum() == pytest.approx(1.0)
    # the uniform guess can still earn weight (it shrinks an overconfident member), but the
    # mix is never worse than either member alone
    mix = weights[0] * good[rows] + weights[1] * flat
    labels = data.labels[rows]
    losses = [log_loss(p, labels) for p in (good[rows], flat, mix)]
    assert losses[2] <= min(losses[:2]) + 1e-9


def test_calibration_keeps_or_improves_brier_on_held_back_folds(window) -> None:
    data, dates = window
    splits = purged_folds(dates, 4, HORIZON, HORIZON, HOUR)
    oof = out_of_fold_probabilities(train_xgboost, data, splits, {"n_estimators": 150}, SETTINGS)
    held_back = splits[-1].validation_rows
    fitted = np.concatenate([split.validation_rows for split in splits[:-1]])
    fitted = fitted[np.isfinite(oof[fitted]).all(axis=1)]
    calibration = SigmoidCalibration.fit(oof[fitted], data.labels[fitted])
    raw = brier_score(oof[held_back], data.labels[held_back])
    calibrated = brier_score(calibration.transform(oof[held_back]), data.labels[held_back])
    assert calibrated <= raw


def test_saved_ensemble_reloads_in_a_new_process_with_identical_probabilities(
    window, tmp_path: Path
) -> None:
    data, _ = window
    ensemble = _train(window, (EnsembleMember("xgboost"), EnsembleMember("lightgbm")))
    ensemble.save_members(tmp_path, "cb_sol_1")
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(ensemble))
    features = data.features.iloc[-300:]
    features.to_pickle(tmp_path / "features.pkl")
    expected = ensemble.predict_proba(features)
    script = (
        "import pickle, sys, numpy as np, pandas as pd; from pathlib import Path\n"
        "folder = Path(sys.argv[1])\n"
        "model = pickle.loads((folder / 'model.pkl').read_bytes())\n"
        "assert not model.members\n"
        "model.load_members(folder)\n"
        "features = pd.read_pickle(folder / 'features.pkl')\n"
        "np.save(folder / 'out.npy', model.predict_proba(features))\n"
    )
    subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], check=True, cwd=REPO_ROOT, timeout=120
    )
    assert np.array_equal(np.load(tmp_path / "out.npy"), expected)


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_missing_or_corrupt_member_file_is_named(window, tmp_path: Path, damage: str) -> None:
    ensemble = _train(window, (EnsembleMember("xgboost"), EnsembleMember("lightgbm")))
    ensemble.save_members(tmp_path, "cb_sol_1")
    reloaded: SwingEnsemble = pickle.loads(pickle.dumps(ensemble))
    member_file = tmp_path / ensemble.member_files["lightgbm"].file_name
    if damage == "missing":
        member_file.unlink()
    else:
        member_file.write_bytes(member_file.read_bytes()[:-200] + b"garbage")
    with pytest.raises(EnsembleMemberError, match=member_file.name):
        reloaded.load_members(tmp_path)
    with pytest.raises(EnsembleMemberError, match="not loaded"):
        reloaded.predict_proba(window[0].features.iloc[:5])


def test_optuna_study_is_seeded_budgeted_and_saved(window) -> None:
    data, dates = window
    splits = purged_folds(dates, 3, HORIZON, HORIZON, HOUR)
    budget = OptunaSettings(enabled=True, trials=4, timeout_seconds=300, seed=7)
    first = tune_member("lightgbm", data, splits, {}, SETTINGS, budget)
    second = tune_member("lightgbm", data, splits, {}, SETTINGS, budget)
    assert first.trials <= 4
    assert first.parameters == second.parameters
    assert {"max_depth", "learning_rate", "n_estimators", "num_leaves"} <= set(first.parameters)
    ensemble = _train(
        window,
        (EnsembleMember("lightgbm", {"n_estimators": 60}),),
        folds=3,
        optuna_settings=budget,
    )
    assert ensemble.tuning["lightgbm"].parameters == first.parameters


def test_ensemble_settings_are_validated() -> None:
    good = load_swing_settings(
        {"swing": {"ensemble": {"members": [{"name": "lightgbm", "parameters": {"a": 1}}]}}}
    )
    assert good.ensemble.members == (EnsembleMember("lightgbm", {"a": 1}),)
    assert good.embargo_candles == HORIZON
    for block, message in [
        ({"members": [{"name": "catboost"}]}, "members.0.name"),
        ({"members": [{"name": "xgboost"}, {"name": "xgboost"}]}, "each member once"),
        ({"calibration": "platt"}, "calibration"),
        ({"optuna": {"trial": 3}}, "trial"),
        ({"folds": 1}, "folds"),
    ]:
        with pytest.raises(SwingConfigError, match=message):
            load_swing_settings({"swing": {"ensemble": block}})


def test_a_qmc_study_on_two_worker_processes_finds_what_the_serial_study_finds(
    tmp_path: Path,
) -> None:
    """One study shared by 2 spawned processes through SQLite: the same trials, parameters,
    losses and best result as the same budget run in this process."""
    import optuna

    data, dates = _window(1500)  # ~1,300 rows: three folds of about 400
    splits = purged_folds(dates, 3, HORIZON, HORIZON, HOUR)
    serial_budget = OptunaSettings(
        enabled=True, trials=6, timeout_seconds=600, seed=11, sampler="qmc"
    )
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    shared_budget = replace(serial_budget, workers=2, storage=storage)
    serial = tune_member("lightgbm", data, splits, {}, SETTINGS, serial_budget)
    shared = tune_member("lightgbm", data, splits, {}, SETTINGS, shared_budget)
    assert shared.parameters == serial.parameters
    assert shared.best_log_loss == serial.best_log_loss
    assert shared.history == serial.history
    assert [record.state for record in serial.history] == ["COMPLETE"] * 6
    assert len({record.value for record in serial.history}) > 1  # the draws differ
    (summary,) = optuna.get_all_study_summaries(storage)
    trials = optuna.load_study(study_name=summary.study_name, storage=storage).trials
    assert len({trial.user_attrs["process"] for trial in trials}) == 2


def test_distributed_optuna_settings_are_checked() -> None:
    qmc = {"enabled": True, "sampler": "qmc", "workers": 3, "storage": "sqlite:///x.db"}
    settings = load_swing_settings({"swing": {"ensemble": {"optuna": qmc}}})
    assert settings.ensemble.optuna.workers == 3
    for block, message in [
        ({"workers": 2}, 'workers: 2 workers need "sampler": "qmc"'),
        ({"sampler": "qmc", "workers": 0}, "optuna.workers"),
        ({"sampler": "qmc", "storage": "optuna.db"}, "optuna.storage"),
        ({"sampler": "random"}, "optuna.sampler"),
    ]:
        with pytest.raises(SwingConfigError, match=message):
            load_swing_settings({"swing": {"ensemble": {"optuna": block}}})
    # where and in how many processes a study runs does not change the model's identifier
    plain = {"swing": {"ensemble": {"optuna": {"enabled": True, "sampler": "qmc"}}}}
    assert settings_fingerprint(plain) == settings_fingerprint(
        {"swing": {"ensemble": {"optuna": qmc}}}
    )
    assert settings_fingerprint(plain) != settings_fingerprint({"swing": {}})


@pytest.mark.parametrize(
    "old_module", ["freqai_swing.models.ensemble.stacked", "freqai_swing.models.ensemble"]
)
def test_ensembles_pickled_under_the_old_module_paths_still_load(old_module: str) -> None:
    """Model files name the calibration, member and tuning classes by the module that held
    them: ``ensemble/stacked.py`` before its split, ``models/ensemble.py`` before that."""
    history = (TrialRecord(0, "COMPLETE", {"max_depth": 3}, 0.9),)
    ensemble = SwingEnsemble(
        feature_names=["a", "b"],
        weights={"xgboost": 1.0},
        calibration=SigmoidCalibration(np.array([1.0, 0.9, 1.1]), np.array([0.0, 0.1, -0.1])),
        member_files={"xgboost": MemberFile("xgboost", "m.json", "0" * 64, 10, "cpu")},
        tuning={"xgboost": TuningResult({"max_depth": 3}, 0.9, 1, 0, 1.0, history)},
    )
    text = pickle.dumps(ensemble, protocol=0)  # protocol 0 names each class on its own line
    for module in ("stacked", "calibration", "persistence", "tuning"):
        text = text.replace(f"freqai_swing.models.ensemble.{module}\n".encode(), b"OLD\n")
    assert b"freqai_swing.models.ensemble." not in text
    reloaded = pickle.loads(text.replace(b"OLD\n", f"{old_module}\n".encode()))
    assert reloaded.member_files == ensemble.member_files
    assert reloaded.tuning == ensemble.tuning
    probabilities = np.array([[0.2, 0.5, 0.3], [0.6, 0.3, 0.1]])
    assert np.array_equal(
        reloaded.calibration.transform(probabilities), ensemble.calibration.transform(probabilities)
    )

"""The optional PPO member of the ensemble on real candles: out-of-fold votes, reload, damage."""

from __future__ import annotations

import pickle
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from freqai_swing.features import basic_features
from freqai_swing.labels import CLASS_ORDER, LabelConfig, triple_barrier_labels
from freqai_swing.models.common.classifier import (
    TrainingSet,
    encode_labels,
    purged_folds,
    purged_validation_split,
)
from freqai_swing.models.common.device import cuda_available
from freqai_swing.models.ensemble.persistence import EnsembleMemberError
from freqai_swing.models.ensemble.stacked import SwingEnsemble, train_ensemble
from freqai_swing.models.ppo import ensemble_member as ppo_member
from freqai_swing.settings import (
    EnsembleMember,
    ModelSettings,
    OptunaSettings,
    SwingConfigError,
    load_swing_settings,
)
from tests.conftest import CONFIG_DIR, REPO_ROOT, load_candles

HOUR = 3600
HORIZON = LabelConfig().horizon_candles
FOLDS = 3
SETTINGS = ModelSettings(threads=2)
SMALL = {"xgboost": {"n_estimators": 60}, "lightgbm": {"n_estimators": 60}}
#: A few rollouts per agent; ``device: cuda`` must fall back to the CPU where no GPU is.
TINY_PPO = {
    "total_timesteps": 1024,
    "window": 2,
    "device": "cuda",
    "ppo": {"n_steps": 256, "batch_size": 64, "n_epochs": 2},
}


@dataclass(frozen=True)
class Window:
    data: TrainingSet
    dates: pd.Series
    closes: npt.NDArray[np.float64]


@dataclass
class AgentLog:
    """What each agent the ensemble trained was fitted on and asked to vote on."""

    trained: list[npt.NDArray[np.int64]] = field(default_factory=list)
    predicted: list[list[npt.NDArray[np.int64]]] = field(default_factory=list)
    members: list[ppo_member.PPOVoteMember] = field(default_factory=list)


@pytest.fixture(scope="module")
def window() -> Window:
    """About 1,800 real ETH candles (NaN rows dropped as FreqAI does), dates and closes."""
    candles = load_candles("ETH/USDT").iloc[:2000].reset_index(drop=True)
    features = basic_features(candles)
    labels = triple_barrier_labels(candles, LabelConfig())
    keep = features.notna().all(axis=1) & labels.notna()
    features, labels = features[keep].reset_index(drop=True), labels[keep].reset_index(drop=True)
    dates = candles["date"][keep].reset_index(drop=True)
    closes = candles["close"][keep].to_numpy(dtype=np.float64)
    split = purged_validation_split(dates, 0.2, HORIZON, HOUR, len(features))
    data = TrainingSet(features, encode_labels(labels), np.ones(len(features)), split)
    return Window(data, dates, closes)


@pytest.fixture(scope="module")
def trained(window: Window) -> tuple[SwingEnsemble, AgentLog]:
    """The three members trained once, with every agent's rows recorded on the way."""
    log = AgentLog()
    real_trainer = ppo_member.train_ppo_member

    def recording_trainer(data, closes, settings, model):
        log.trained.append(np.union1d(data.split.fit_rows, data.split.validation_rows))
        member = real_trainer(data, closes, settings, model)
        log.members.append(member)
        calls: list[npt.NDArray[np.int64]] = []
        log.predicted.append(calls)
        real_predict = member.predict_proba

        def recording_predict(features):
            calls.append(features.index.to_numpy())
            return real_predict(features)

        member.predict_proba = recording_predict
        return member

    members = (
        EnsembleMember("xgboost"),
        EnsembleMember("lightgbm"),
        EnsembleMember("ppo", TINY_PPO),
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ppo_member, "train_ppo_member", recording_trainer)
        ensemble = train_ensemble(
            window.data,
            window.dates,
            members,
            SMALL,
            SETTINGS,
            folds=FOLDS,
            purge_candles=HORIZON,
            embargo_candles=HORIZON,
            candle_seconds=HOUR,
            calibration="sigmoid",
            optuna_settings=OptunaSettings(),
            closes=window.closes,
        )
    # later calls (reload tests) must not go through the recording wrapper
    del ensemble.members["ppo"].predict_proba
    return ensemble, log


def test_ppo_votes_only_on_fold_rows_its_agent_never_trained_on(trained, window) -> None:
    ensemble, log = trained
    folds = purged_folds(window.dates, FOLDS, HORIZON, HORIZON, HOUR)
    everything = np.arange(len(window.closes))
    # the final agent: the whole window, no vote during training
    assert np.array_equal(log.trained[0], everything) and log.predicted[0] == []
    assert len(log.trained) == FOLDS + 1
    features = window.data.features
    for fold, trained_rows, predicted, member in zip(
        folds, log.trained[1:], log.predicted[1:], log.members[1:], strict=True
    ):
        (voted,) = predicted
        assert np.array_equal(voted, fold.validation_rows), "it votes on its fold, only"
        assert np.array_equal(trained_rows, fold.fit_rows), "trained on the purged rows only"
        assert np.intersect1d(trained_rows, voted).size == 0
        # its feature scaling too comes from its training rows, not from the fold's extremes
        np.testing.assert_allclose(member.scaling.low, features.iloc[fold.fit_rows].min())
        assert not np.allclose(member.scaling.low, features.min())
    # the agent's vote earns a learned weight like the boosters' (non-negative, summing to 1)
    assert set(ensemble.weights) == {"xgboost", "lightgbm", "ppo"}
    assert all(weight >= 0 for weight in ensemble.weights.values())
    assert sum(ensemble.weights.values()) == pytest.approx(1.0)
    assert 0 < ensemble.out_of_fold_metrics["ppo"]["log_loss"] < 10
    member = ensemble.members["ppo"]
    assert member.device == ("cuda" if cuda_available() else "cpu")


def test_the_fold_agents_never_see_a_price_of_their_fold(window) -> None:
    fold = purged_folds(window.dates, FOLDS, HORIZON, HORIZON, HOUR)[1]
    rows = fold.fit_rows
    stitched = ppo_member.stitched_closes(window.closes, rows)
    changed = window.closes.copy()
    changed[fold.validation_rows[0] - HORIZON : fold.validation_rows[-1] + HORIZON + 1] *= 1.7
    assert np.array_equal(ppo_member.stitched_closes(changed, rows), stitched)
    ratios = stitched[1:] / stitched[:-1]
    gap = np.flatnonzero(np.diff(rows) != 1)
    assert len(gap) == 1 and ratios[gap[0]] == pytest.approx(1.0)
    real = window.closes[rows]
    inside = np.delete(np.arange(len(ratios)), gap)
    np.testing.assert_allclose(ratios[inside], (real[1:] / real[:-1])[inside], rtol=1e-12)


def test_the_vote_is_the_action_mapped_to_a_class_and_smoothed(trained, window) -> None:
    from freqai_swing.models.ppo.environment import SwingActions

    expected_class = {"hold": "flat", "buy": "up", "sell": "down"}
    for action in SwingActions:
        assert ppo_member.ACTION_CLASS[action.value] == expected_class[action.name.split("_")[0]]
    member = trained[0].members["ppo"]
    features = window.data.features.iloc[-200:]
    actions = member.actions(features)
    votes = member.predict_proba(features)
    assert actions[0] == -1 and (actions[1:] >= 0).all(), "window 2: the first row has no vote"
    np.testing.assert_allclose(votes[0], 1 / 3)
    np.testing.assert_allclose(votes.sum(axis=1), 1.0)
    smoothing = TINY_PPO.get("vote_smoothing", ppo_member.PPOMemberSettings.vote_smoothing)
    for action, vote in zip(actions[1:], votes[1:], strict=True):
        voted = CLASS_ORDER.index(ppo_member.ACTION_CLASS[int(action)])
        assert vote[voted] == pytest.approx(1 - smoothing + smoothing / 3)
    # the vote of a row depends on its own window only, not on where the frame starts
    np.testing.assert_array_equal(member.actions(features.iloc[100:]), np.r_[-1, actions[101:]])


def test_saved_ensemble_with_ppo_reloads_in_a_new_process_identically(
    trained, window, tmp_path: Path
) -> None:
    ensemble, _ = trained
    ensemble.save_members(tmp_path, "cb_eth_1")
    assert (tmp_path / "cb_eth_1_member_ppo.zip").is_file()
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(ensemble))
    features = window.data.features.iloc[-300:]
    features.to_pickle(tmp_path / "features.pkl")
    expected = ensemble.predict_proba(features)
    np.save(tmp_path / "ppo_expected.npy", ensemble.members["ppo"].predict_proba(features))
    script = (
        "import pickle, sys, numpy as np, pandas as pd; from pathlib import Path\n"
        "folder = Path(sys.argv[1])\n"
        "model = pickle.loads((folder / 'model.pkl').read_bytes())\n"
        "assert not model.members\n"
        "model.load_members(folder)\n"
        "features = pd.read_pickle(folder / 'features.pkl')\n"
        "np.save(folder / 'out.npy', model.predict_proba(features))\n"
        "np.save(folder / 'ppo.npy', model.members['ppo'].predict_proba(features))\n"
    )
    subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], check=True, cwd=REPO_ROOT, timeout=120
    )
    assert np.array_equal(np.load(tmp_path / "ppo.npy"), np.load(tmp_path / "ppo_expected.npy"))
    assert np.array_equal(np.load(tmp_path / "out.npy"), expected)


def test_a_corrupt_ppo_member_file_is_named_and_nothing_predicts(
    trained, window, tmp_path: Path
) -> None:
    ensemble, _ = trained
    ensemble.save_members(tmp_path, "cb_eth_1")
    reloaded: SwingEnsemble = pickle.loads(pickle.dumps(ensemble))
    member_file = tmp_path / ensemble.member_files["ppo"].file_name
    member_file.write_bytes(member_file.read_bytes()[:-100] + b"garbage")
    with pytest.raises(EnsembleMemberError, match=member_file.name):
        reloaded.load_members(tmp_path)
    with pytest.raises(EnsembleMemberError, match="not loaded"):
        reloaded.predict_proba(window.data.features.iloc[:5])


def test_ppo_member_settings_are_validated_and_off_by_default() -> None:
    import json

    config = json.loads((CONFIG_DIR / "freqai.json").read_text())
    assert "ppo" not in {m.name for m in load_swing_settings(config).ensemble.members}
    listed = [{"name": "xgboost"}, {"name": "ppo", "enabled": False, "parameters": {"x": 1}}]
    # a disabled member is not trained, but a typo in its block is still refused
    switched_off = load_swing_settings({"swing": {"ensemble": {"members": listed[:1]}}})
    with pytest.raises(SwingConfigError, match=r"members\.1\.parameters"):
        load_swing_settings({"swing": {"ensemble": {"members": listed}}})
    listed[1]["parameters"] = {"window": 3}
    off = load_swing_settings({"swing": {"ensemble": {"members": listed}}})
    assert off.ensemble.members == switched_off.ensemble.members == (EnsembleMember("xgboost"),)
    for parameters, message in [
        ({"total_timestep": 5}, "total_timestep"),
        ({"window": 0}, r"members\.0\.parameters\.window"),
        ({"device": "tpu"}, r"members\.0\.parameters\.device"),
        ({"reward": {"drawdown_penalty": -1}}, r"members\.0\.parameters\.reward\.drawdown_pen"),
        ({"ppo": {"n_step": 64}}, r"members\.0\.parameters\.ppo\.n_step"),
    ]:
        block = {"members": [{"name": "ppo", "parameters": parameters}]}
        with pytest.raises(SwingConfigError, match=message):
            load_swing_settings({"swing": {"ensemble": block}})
    with pytest.raises(SwingConfigError, match="no member is enabled"):
        load_swing_settings(
            {"swing": {"ensemble": {"members": [{"name": "ppo", "enabled": False}]}}}
        )


def test_same_seed_same_agent_votes(window) -> None:
    """Retraining a fold's agent with the same seed gives the same votes (CPU)."""
    fold = purged_folds(window.dates, FOLDS, HORIZON, HORIZON, HOUR)[0]
    data = window.data
    fold_data = TrainingSet(data.features, data.labels, data.weights, fold)
    settings = ppo_member.ppo_member_settings({**TINY_PPO, "total_timesteps": 256, "seed": 5})
    first, second = (
        ppo_member.train_ppo_member(fold_data, window.closes, settings, SETTINGS) for _ in range(2)
    )
    rows = data.features.iloc[fold.validation_rows]
    np.testing.assert_array_equal(first.actions(rows), second.actions(rows))
    for name, weight in first.agent.policy.state_dict().items():
        other = second.agent.policy.state_dict()[name]
        assert np.array_equal(weight.cpu().numpy(), other.cpu().numpy()), name

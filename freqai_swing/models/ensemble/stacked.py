"""Stacked ensemble of the swing boosters, weighted and calibrated out of sample.

Each member is trained once per fold of the training window on rows kept apart from the
fold by a purge gap (before it: their labels would read the fold's prices) and an embargo
(after it: their features would); see :func:`~freqai_swing.models.common.classifier.
purged_folds`. The members' out-of-fold probabilities (:mod:`.stacking`) are the only rows
the meta-learner's weights and the calibration (:mod:`.calibration`) are fitted on, so no part
of the ensemble is fitted on a row that the same part later predicts. The final members are
then trained on the whole window, as the single classifiers are, optionally with parameters
an Optuna study found (:mod:`.tuning`), and saved as their boosters' own files next to
FreqAI's model file, each with its SHA-256 so a corrupt file is caught on reload
(:mod:`.persistence`).

The optional ``ppo`` member (:mod:`freqai_swing.models.ppo.ensemble_member`) follows the same
rule: one agent per fold trained on that fold's purged rows votes on the fold, and a final agent
trained on the whole window is saved as its stable-baselines3 zip file with its hash.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from freqai_swing.labels import CLASS_ORDER
from freqai_swing.metrics import classification_metrics
from freqai_swing.models.common.classifier import (
    FloatMatrix,
    PurgedSplit,
    TrainingSet,
    purged_folds,
)
from freqai_swing.models.ensemble.calibration import (
    Calibrator,
    IdentityCalibration,
    IsotonicCalibration,
    SigmoidCalibration,
    fit_calibration,
)
from freqai_swing.models.ensemble.persistence import (
    MEMBER_FILE_SUFFIX,
    PPO_MEMBER,
    EnsembleMemberError,
    MemberFile,
    TrainedMember,
    file_sha256,
    load_member,
    save_member,
)
from freqai_swing.models.ensemble.stacking import (
    NO_ROWS,
    TRAINERS,
    nonnegative_weights,
    out_of_fold_probabilities,
)
from freqai_swing.models.ensemble.tuning import TrialRecord, TuningResult, tune_member
from freqai_swing.models.ppo import ensemble_member as ppo_member
from freqai_swing.settings import EnsembleMember, ModelSettings, OptunaSettings

logger = logging.getLogger(__name__)

#: The classes a pickled :class:`SwingEnsemble` holds besides itself. Ensembles saved before
#: this module was split name them by this module's path; unpickling finds them here.
PICKLED_WITH_THE_ENSEMBLE: Final = (
    IdentityCalibration,
    IsotonicCalibration,
    SigmoidCalibration,
    MemberFile,
    TrialRecord,
    TuningResult,
)


@dataclass
class SwingEnsemble:
    """Members, their learned weights and the calibration, in the sklearn shape FreqAI uses.

    Pickling keeps everything but the boosters, which live in their own files (see
    :meth:`save_members`): FreqAI's model file stays small, and a reload checks each member.
    """

    feature_names: list[str]
    weights: dict[str, float]
    calibration: Calibrator
    members: dict[str, TrainedMember] = field(default_factory=dict)
    member_files: dict[str, MemberFile] = field(default_factory=dict)
    tuning: dict[str, TuningResult] = field(default_factory=dict)
    #: Out-of-fold metrics of each member, of the weighted mix and of the calibrated ensemble.
    out_of_fold_metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    #: Prior log loss minus the weighted mix's out-of-fold log loss (> 0 = skill).
    validation_skill: float | None = None
    training_seconds: float = 0.0

    classes_: npt.NDArray[np.str_] = field(default_factory=lambda: np.array(CLASS_ORDER))

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["members"] = {}
        return state

    @property
    def loaded(self) -> bool:
        return set(self.members) == set(self.weights)

    def save_members(self, folder: Path, prefix: str) -> None:
        """Write each booster in its library's own format and record its hash."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, member in self.members.items():
            file_name = f"{prefix}_member_{name}.{MEMBER_FILE_SUFFIX[name]}"
            save_member(member, folder / file_name)
            self.member_files[name] = MemberFile(
                name,
                file_name,
                file_sha256(folder / file_name),
                member.best_iteration,
                member.device,
                getattr(member, "settings", None),
                getattr(member, "scaling", None),
            )

    def load_members(self, folder: Path) -> None:
        """Load every member from ``folder``; a missing or altered file raises, naming it."""
        members: dict[str, TrainedMember] = {}
        for name in self.weights:
            record = self.member_files.get(name)
            if record is None:
                raise EnsembleMemberError(f"Ensemble member {name} was never saved")
            path = folder / record.file_name
            if not path.is_file():
                raise EnsembleMemberError(f"Ensemble member file missing: {path}")
            if file_sha256(path) != record.sha256:
                raise EnsembleMemberError(f"Ensemble member file altered or corrupt: {path}")
            try:
                members[name] = load_member(record, path, self.feature_names)
            except EnsembleMemberError:
                raise
            except Exception as error:  # noqa: BLE001 - any unreadable file withholds, named
                raise EnsembleMemberError(
                    f"Ensemble member file unreadable: {path}: {error}"
                ) from error
        self.members = members

    def mixed_probabilities(self, features: pd.DataFrame | FloatMatrix) -> FloatMatrix:
        """The members' probabilities weighted by the learned weights, before calibration."""
        if not self.loaded:
            raise EnsembleMemberError("Ensemble members are not loaded; call load_members()")
        total = np.zeros((len(features), len(CLASS_ORDER)))
        for name, weight in self.weights.items():
            if weight > 0:
                total += weight * self.members[name].predict_proba(features)
        return total

    def predict_proba(self, features: pd.DataFrame | FloatMatrix) -> FloatMatrix:
        return self.calibration.transform(self.mixed_probabilities(features))

    def predict(self, features: pd.DataFrame | FloatMatrix) -> npt.NDArray[np.object_]:
        best = self.predict_proba(features).argmax(axis=1)
        names: npt.NDArray[np.object_] = np.asarray(self.classes_, dtype=object)[best]
        return names

    @property
    def feature_importances_(self) -> FloatMatrix:
        """The members' normalised gains, weighted like their votes."""
        total = np.zeros(len(self.feature_names))
        for name, weight in self.weights.items():
            total += weight * self.members[name].feature_importances_
        return total


def _train_ppo_member(
    data: TrainingSet,
    folds: Sequence[PurgedSplit],
    member: EnsembleMember,
    base_parameters: Mapping[str, Any],
    settings: ModelSettings,
    closes: npt.ArrayLike | None,
) -> tuple[ppo_member.PPOVoteMember, FloatMatrix]:
    """The final agent on the whole window and the fold agents' out-of-fold votes.

    Not tuned by Optuna (one study would cost ``trials x folds`` agents); its parameters are
    those of its block.
    """
    if closes is None or len(np.asarray(closes)) != len(data.labels):
        raise ValueError("The ppo ensemble member needs one close per training row.")
    member_settings = ppo_member.ppo_member_settings(member.parameters, base_parameters)

    def trainer(
        fold_data: TrainingSet, _parameters: dict[str, Any], model: ModelSettings
    ) -> ppo_member.PPOVoteMember:
        return ppo_member.train_ppo_member(fold_data, closes, member_settings, model)

    every_row = PurgedSplit(np.arange(len(data.labels), dtype=np.int64), NO_ROWS)
    whole = TrainingSet(data.features, data.labels, data.weights, every_row)
    final = trainer(whole, {}, settings)
    votes = out_of_fold_probabilities(trainer, data, folds, {}, settings)
    return final, votes


def _prior_log_loss(labels: npt.NDArray[np.int64]) -> float:
    counts = np.bincount(labels, minlength=len(CLASS_ORDER)) + 1.0
    return float(-np.log((counts / counts.sum())[labels]).mean())


def train_ensemble(
    data: TrainingSet,
    dates: pd.Series,
    members: Sequence[EnsembleMember],
    base_parameters: Mapping[str, Mapping[str, Any]],
    settings: ModelSettings,
    *,
    folds: int,
    purge_candles: int,
    embargo_candles: int,
    candle_seconds: int,
    calibration: str,
    optuna_settings: OptunaSettings,
    closes: npt.ArrayLike | None = None,
) -> SwingEnsemble:
    """Train the members, learn their weights and the calibration out of fold.

    ``data.split`` is the final members' early-stopping split (the window's purged tail);
    the folds are the window cut in ``folds`` time blocks with purge and embargo. ``closes``
    (one per row of ``data``) are the ``ppo`` member's prices; only that member needs them.
    """
    started = time.monotonic()
    fold_splits = purged_folds(dates, folds, purge_candles, embargo_candles, candle_seconds)
    final: dict[str, Any] = {}
    out_of_fold: dict[str, FloatMatrix] = {}
    tuning: dict[str, TuningResult] = {}
    for member in members:
        if member.name == PPO_MEMBER:
            final[member.name], out_of_fold[member.name] = _train_ppo_member(
                data, fold_splits, member, base_parameters.get(PPO_MEMBER, {}), settings, closes
            )
            continue
        parameters = {**base_parameters.get(member.name, {}), **member.parameters}
        if optuna_settings.enabled:
            tuning[member.name] = tune_member(
                member.name, data, fold_splits, parameters, settings, optuna_settings
            )
            parameters = tuning[member.name].parameters
        final[member.name] = TRAINERS[member.name](data, dict(parameters), settings)
        # the folds reuse the rounds the final member early-stopped at
        fold_parameters = {**parameters, "n_estimators": final[member.name].best_iteration + 1}
        out_of_fold[member.name] = out_of_fold_probabilities(
            TRAINERS[member.name], data, fold_splits, fold_parameters, settings
        )
    covered = np.all([np.isfinite(p).all(axis=1) for p in out_of_fold.values()], axis=0)
    labels = data.labels[covered]
    member_oof = [out_of_fold[m.name][covered] for m in members]
    weights = nonnegative_weights(member_oof, labels)
    mixed = np.tensordot(weights, np.stack(member_oof), axes=1)
    calibrator = fit_calibration(calibration, mixed, labels)
    metrics = {
        m.name: classification_metrics(p, labels) for m, p in zip(members, member_oof, strict=True)
    }
    metrics["mix"] = classification_metrics(mixed, labels)
    metrics["ensemble"] = classification_metrics(calibrator.transform(mixed), labels)
    ensemble = SwingEnsemble(
        feature_names=list(data.features.columns),
        weights={m.name: float(w) for m, w in zip(members, weights, strict=True)},
        calibration=calibrator,
        members=final,
        tuning=tuning,
        out_of_fold_metrics=metrics,
        validation_skill=_prior_log_loss(labels) - metrics["mix"]["log_loss"],
        training_seconds=time.monotonic() - started,
    )
    logger.info(
        "Ensemble weights %s from %d out-of-fold rows; log loss %s -> ensemble %.4f.",
        {k: round(v, 3) for k, v in ensemble.weights.items()},
        int(covered.sum()),
        {name: round(m["log_loss"], 4) for name, m in metrics.items() if name != "ensemble"},
        metrics["ensemble"]["log_loss"],
    )
    return ensemble

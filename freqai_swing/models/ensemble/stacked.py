"""Stacked ensemble of the swing boosters, weighted and calibrated out of sample.

Each member is trained once per fold of the training window on rows kept apart from the
fold by a purge gap (before it: their labels would read the fold's prices) and an embargo
(after it: their features would). The members' out-of-fold probabilities are the only rows
the meta-learner's weights and the calibration are fitted on, so no part of the ensemble is
fitted on a row that the same part later predicts. The final members are then trained on the
whole window, as the single classifiers are, and saved as their boosters' own files next to
FreqAI's model file, each with its SHA-256 so a corrupt file is caught on reload.

The optional ``ppo`` member (:mod:`freqai_swing.models.ppo.ensemble_member`) follows the same
rule: one
agent per fold trained on that fold's purged rows votes on the fold, and a final agent trained on
the whole window is saved as its stable-baselines3 zip file with its hash.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import pandas as pd
import xgboost as xgb
from scipy.optimize import minimize
from sklearn.isotonic import IsotonicRegression

from freqai_swing.labels import CLASS_ORDER
from freqai_swing.metrics import PROBABILITY_FLOOR, classification_metrics, log_loss
from freqai_swing.models.boosting.cores import (
    LightGBMCore,
    XGBoostCore,
    train_lightgbm,
    train_xgboost,
)
from freqai_swing.models.common.classifier import (
    ClassifierCore,
    FloatMatrix,
    PurgedSplit,
    TrainingSet,
)
from freqai_swing.models.ppo import ensemble_member as ppo_member
from freqai_swing.settings import EnsembleMember, ModelSettings, OptunaSettings

logger = logging.getLogger(__name__)

#: A fold whose training rows are fewer than this is skipped (its rows get no vote).
MIN_FOLD_TRAINING_ROWS: Final = 200

FloatVector = npt.NDArray[np.float64]
Trainer = Callable[[TrainingSet, dict[str, Any], ModelSettings], ClassifierCore]
TRAINERS: Final[dict[str, Trainer]] = {"xgboost": train_xgboost, "lightgbm": train_lightgbm}
MEMBER_FILE_SUFFIX: Final[dict[str, str]] = {"xgboost": "json", "lightgbm": "txt", "ppo": "zip"}
#: Members trained by :mod:`freqai_swing.models.ppo.ensemble_member`, not by a booster trainer.
PPO_MEMBER: Final = "ppo"


class EnsembleMemberError(RuntimeError):
    """A member file of a saved ensemble is missing, altered or unreadable."""


def purged_folds(
    dates: pd.Series | None,
    folds: int,
    purge_candles: int,
    embargo_candles: int,
    candle_seconds: int,
) -> list[PurgedSplit]:
    """Contiguous validation folds in time order, each with its purged training rows.

    A training row ends ``purge_candles`` before the fold begins (its label reads that far
    ahead) or starts ``embargo_candles`` after the fold ends (its features read back into it).
    Gaps are measured in time, because FreqAI has already dropped rows with NaN features.
    """
    if dates is None:
        raise ValueError("Purged folds need the training rows' dates.")
    stamps = pd.to_datetime(pd.Series(dates).reset_index(drop=True), utc=True)
    if not stamps.is_monotonic_increasing:
        raise ValueError("Training rows are not in time order; purged folds need them to be.")
    positions = np.arange(len(stamps), dtype=np.int64)
    purge = pd.Timedelta(seconds=purge_candles * candle_seconds)
    embargo = pd.Timedelta(seconds=embargo_candles * candle_seconds)
    splits = []
    for block in np.array_split(positions, folds):
        if not len(block):
            continue
        start, end = stamps.iloc[block[0]], stamps.iloc[block[-1]]
        keep = ((stamps < start - purge) | (stamps > end + embargo)).to_numpy()
        splits.append(PurgedSplit(positions[keep], block))
    return splits


def nonnegative_weights(
    member_probabilities: Sequence[FloatMatrix], labels: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """Weights ≥ 0 summing to 1 that minimise the log loss of the weighted probabilities.

    The loss is convex in the weights (a mix's true-class probability is linear in them), so
    the optimum is unique up to ties and the solver needs no restarts.
    """
    rows = np.arange(len(labels))
    picked = np.stack([p[rows, labels] for p in member_probabilities])  # members × rows
    count = len(member_probabilities)

    def loss(weights: npt.NDArray[np.float64]) -> tuple[float, npt.NDArray[np.float64]]:
        mixed = np.clip(weights @ picked, PROBABILITY_FLOOR, None)
        return float(-np.log(mixed).mean()), -(picked / mixed).mean(axis=1)

    result = minimize(
        loss,
        np.full(count, 1.0 / count),
        jac=True,
        method="SLSQP",
        bounds=[(0.0, 1.0)] * count,
        constraints=({"type": "eq", "fun": lambda w: w.sum() - 1.0},),
    )
    weights = np.clip(result.x, 0.0, None)
    return weights / weights.sum()


class Calibrator(Protocol):
    def transform(self, probabilities: FloatMatrix) -> FloatMatrix: ...


class IdentityCalibration:
    """No calibration (``calibration: none``)."""

    def transform(self, probabilities: FloatMatrix) -> FloatMatrix:
        return probabilities


class SigmoidCalibration:
    """Multiclass Platt scaling: a softmax over ``scale_k · log p_k + shift_k``.

    Six parameters, fitted by log loss with a light pull towards the identity, so a few
    thousand out-of-fold rows pin them down without the overfitting isotonic steps risk.
    """

    def __init__(self, scale: FloatVector, shift: FloatVector) -> None:
        self.scale = scale
        self.shift = shift

    @staticmethod
    def _apply(
        log_probabilities: FloatMatrix, scale: FloatVector, shift: FloatVector
    ) -> FloatMatrix:
        logits = log_probabilities * scale + shift
        logits -= logits.max(axis=1, keepdims=True)
        exponent = np.exp(logits)
        return exponent / exponent.sum(axis=1, keepdims=True)

    @classmethod
    def fit(
        cls, probabilities: FloatMatrix, labels: npt.NDArray[np.int64], ridge: float = 1e-3
    ) -> SigmoidCalibration:
        classes = len(CLASS_ORDER)
        log_p = np.log(np.clip(probabilities, PROBABILITY_FLOOR, 1.0))
        truth = np.eye(classes)[labels]
        identity = np.concatenate([np.ones(classes), np.zeros(classes)])

        def loss(params: npt.NDArray[np.float64]) -> tuple[float, npt.NDArray[np.float64]]:
            scale, shift = params[:classes], params[classes:]
            calibrated = cls._apply(log_p, scale, shift)
            value = log_loss(calibrated, labels) + ridge * ((params - identity) ** 2).sum()
            residual = (calibrated - truth) / len(labels)
            gradient = np.concatenate([(residual * log_p).sum(axis=0), residual.sum(axis=0)])
            return value, gradient + 2 * ridge * (params - identity)

        result = minimize(loss, identity, jac=True, method="L-BFGS-B")
        return cls(result.x[:classes], result.x[classes:])

    def transform(self, probabilities: FloatMatrix) -> FloatMatrix:
        log_p = np.log(np.clip(probabilities, PROBABILITY_FLOOR, 1.0))
        return self._apply(log_p, self.scale, self.shift)


class IsotonicCalibration:
    """One monotone map per class (one-vs-rest), then rows renormalised to sum to 1."""

    def __init__(self, maps: list[IsotonicRegression]) -> None:
        self.maps = maps

    @classmethod
    def fit(cls, probabilities: FloatMatrix, labels: npt.NDArray[np.int64]) -> IsotonicCalibration:
        maps = []
        for k in range(len(CLASS_ORDER)):
            regression = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
            maps.append(regression.fit(probabilities[:, k], (labels == k).astype(float)))
        return cls(maps)

    def transform(self, probabilities: FloatMatrix) -> FloatMatrix:
        columns = [m.predict(probabilities[:, k]) for k, m in enumerate(self.maps)]
        calibrated = np.clip(np.column_stack(columns), PROBABILITY_FLOOR, None)
        return calibrated / calibrated.sum(axis=1, keepdims=True)


def fit_calibration(
    method: str, probabilities: FloatMatrix, labels: npt.NDArray[np.int64]
) -> Calibrator:
    if method == "sigmoid":
        return SigmoidCalibration.fit(probabilities, labels)
    if method == "isotonic":
        return IsotonicCalibration.fit(probabilities, labels)
    return IdentityCalibration()


def out_of_fold_probabilities(
    trainer: Trainer,
    data: TrainingSet,
    folds: Sequence[PurgedSplit],
    parameters: Mapping[str, Any],
    settings: ModelSettings,
) -> FloatMatrix:
    """Each fold's rows predicted by the member trained on that fold's purged training rows.

    The rounds are fixed by ``parameters`` (no early stopping on the fold itself, which would
    tune the member on the rows it then predicts). Rows of a skipped fold stay NaN.
    """
    result = np.full((len(data.labels), len(CLASS_ORDER)), np.nan)
    for fold in folds:
        if len(fold.fit_rows) < MIN_FOLD_TRAINING_ROWS:
            logger.info("Ensemble fold skipped: %d training rows.", len(fold.fit_rows))
            continue
        fold_data = TrainingSet(
            data.features, data.labels, data.weights, PurgedSplit(fold.fit_rows, _NO_ROWS)
        )
        member = trainer(fold_data, dict(parameters), settings)
        rows = fold.validation_rows
        result[rows] = member.predict_proba(data.features.iloc[rows])
    return result


_NO_ROWS: Final = np.array([], dtype=np.int64)


def _search_space(name: str, trial: Any) -> dict[str, Any]:
    """The tuned parameters of each booster; rounds are tuned too since folds don't stop early."""
    common = {
        "max_depth": trial.suggest_int("max_depth", 2, 8),
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.2, log=True),
        "n_estimators": trial.suggest_int("n_estimators", 50, 400, step=50),
    }
    if name == "xgboost":
        return common | {
            "subsample": trial.suggest_float("subsample", 0.5, 1.0),
            "colsample_bytree": trial.suggest_float("colsample_bytree", 0.3, 1.0),
            "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True),
            "min_child_weight": trial.suggest_float("min_child_weight", 1.0, 50.0, log=True),
        }
    return common | {
        "num_leaves": trial.suggest_int("num_leaves", 7, 63),
        "bagging_fraction": trial.suggest_float("bagging_fraction", 0.5, 1.0),
        "feature_fraction": trial.suggest_float("feature_fraction", 0.3, 1.0),
        "lambda_l2": trial.suggest_float("lambda_l2", 1e-3, 10.0, log=True),
        "min_child_samples": trial.suggest_int("min_child_samples", 10, 200, log=True),
    }


@dataclass(frozen=True)
class TrialRecord:
    """One finished trial of a member study: its number, state, parameters and loss."""

    number: int
    state: str
    parameters: dict[str, Any]
    value: float | None


@dataclass(frozen=True)
class TuningResult:
    """What one member's study found, saved with the model."""

    parameters: dict[str, Any]
    best_log_loss: float
    trials: int
    pruned: int
    seconds: float
    #: Every trial in number order (what a parallel run is compared with a serial one by).
    history: tuple[TrialRecord, ...] = ()


def _fold_objective(
    name: str,
    data: TrainingSet,
    folds: Sequence[PurgedSplit],
    parameters: Mapping[str, Any],
    settings: ModelSettings,
    prune: bool,
) -> Callable[[Any], float]:
    """The study's objective: the mean log loss of the member over the purged folds.

    With ``prune``, each trial reports its running mean after every fold, so the median
    pruner stops trials that are already worse than most before all folds are trained.
    """
    import optuna

    trainer = TRAINERS[name]
    usable = [fold for fold in folds if len(fold.fit_rows) >= MIN_FOLD_TRAINING_ROWS]

    def objective(trial: optuna.Trial) -> float:
        trial.set_user_attr("process", os.getpid())  # which worker ran it
        trial_parameters = {**parameters, **_search_space(name, trial)}
        losses = []
        for step, fold in enumerate(usable):
            fold_data = TrainingSet(
                data.features, data.labels, data.weights, PurgedSplit(fold.fit_rows, _NO_ROWS)
            )
            member = trainer(fold_data, trial_parameters, settings)
            rows = fold.validation_rows
            predicted = member.predict_proba(data.features.iloc[rows])
            losses.append(log_loss(predicted, data.labels[rows]))
            if prune:
                trial.report(float(np.mean(losses)), step)
                if trial.should_prune():
                    raise optuna.TrialPruned()
        return float(np.mean(losses))

    return objective


def drawn_trials(name: str, trials: int, seed: int) -> list[dict[str, Any]]:
    """``trials`` parameter sets of ``name``'s search space: seeded, scrambled Sobol points.

    Drawn up front, so trial ``k`` gets the same parameters whichever worker runs it and
    whenever; the draws do not look at any loss.
    """
    return [parameters for parameters, _ in _draws(name, trials, seed)]


def _draws(name: str, trials: int, seed: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The drawn parameter sets with their Optuna distributions (to record finished trials)."""
    import warnings

    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.QMCSampler(
            seed=seed, scramble=True, warn_independent_sampling=False
        )
    draft = optuna.create_study(sampler=sampler)
    drawn = []
    for _ in range(trials):
        trial = draft.ask()
        _search_space(name, trial)
        drawn.append((dict(trial.params), dict(trial.distributions)))
        draft.tell(trial, 0.0)
    return drawn


def _storage(url: str) -> Any:
    import optuna

    # several processes write one SQLite file: wait for its lock rather than fail at once
    engine = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
    return optuna.storages.RDBStorage(url, engine_kwargs=engine)


def _study_worker(
    url: str,
    study_name: str,
    name: str,
    data: TrainingSet,
    folds: Sequence[PurgedSplit],
    parameters: Mapping[str, Any],
    settings: ModelSettings,
    draws: Sequence[int],
    seed: int,
    timeout_seconds: float,
) -> int:
    """One worker process: runs its own draws and records each as a finished trial.

    Each worker evaluates a fixed list of draw numbers and *adds* the finished trial to the
    shared study. Optuna's queue of waiting trials is not used: two processes can pop the same
    waiting trial from an RDB storage and the second fails on telling it
    (``UpdateFinishedTrialError``).
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=study_name, storage=_storage(url))
    objective = _fold_objective(name, data, folds, parameters, settings, prune=False)
    drawn = _draws(name, max(draws) + 1, seed) if draws else []
    started = time.monotonic()
    done = 0
    for draw in draws:
        if time.monotonic() - started > timeout_seconds:
            break
        trial_parameters, distributions = drawn[draw]
        fixed = optuna.trial.FixedTrial(trial_parameters, number=draw)
        value = objective(fixed)
        study.add_trial(
            optuna.trial.create_trial(
                params=trial_parameters,
                distributions=distributions,
                value=value,
                user_attrs={**fixed.user_attrs, "draw": draw},
            )
        )
        done += 1
    return done


def _worker_draws(trials: int, workers: int) -> list[list[int]]:
    """Draw numbers per worker (round robin), together exactly the budget."""
    shares = [list(range(worker, trials, workers)) for worker in range(workers)]
    return [share for share in shares if share]


def _run_shared_study(
    name: str,
    data: TrainingSet,
    folds: Sequence[PurgedSplit],
    parameters: Mapping[str, Any],
    settings: ModelSettings,
    budget: OptunaSettings,
    storage_url: str,
) -> _ReadStudy:
    """The ``qmc`` study in RDB storage: each worker runs its draws and records them.

    Trials are numbered by their draw (``user_attrs["draw"]``), not by the order they reached
    the storage, and the best is the lowest loss with the lowest draw first among ties, as
    the serial study picks it: the result does not depend on which worker finished first.
    """
    import multiprocessing
    import uuid
    from concurrent.futures import ProcessPoolExecutor

    import optuna

    study_name = f"freqai-swing-{name}-{uuid.uuid4().hex[:12]}"
    optuna.create_study(study_name=study_name, storage=_storage(storage_url), direction="minimize")
    arguments = (storage_url, study_name, name, data, folds, parameters, settings)
    shares = _worker_draws(budget.trials, budget.workers)
    if len(shares) == 1:
        _study_worker(*arguments, shares[0], budget.seed, budget.timeout_seconds)
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(len(shares), mp_context=context) as pool:
            futures = [
                pool.submit(_study_worker, *arguments, share, budget.seed, budget.timeout_seconds)
                for share in shares
            ]
            for future in futures:
                future.result()
    logger.info(
        "Optuna %s: study %s in %s, %d worker(s).", name, study_name, storage_url, len(shares)
    )
    trials = optuna.load_study(study_name=study_name, storage=_storage(storage_url)).trials
    for trial in trials:
        trial.number = int(trial.user_attrs["draw"])
    trials.sort(key=lambda trial: trial.number)
    if not trials:
        raise ValueError(f"Optuna {name}: no trial finished within the time budget")
    best = min(trials, key=lambda trial: (trial.value, trial.number))
    return _ReadStudy(trials, dict(best.params), float(best.value))


def tune_member(
    name: str,
    data: TrainingSet,
    folds: Sequence[PurgedSplit],
    parameters: Mapping[str, Any],
    settings: ModelSettings,
    budget: OptunaSettings,
) -> TuningResult:
    """A seeded, budgeted Optuna study of one member on the purged folds.

    ``tpe``: an adaptive TPE study with median pruning, in this process. ``qmc``: the
    parameters of every trial drawn up front; ``workers`` processes each run their own draws
    and record them in one RDB study (in memory for one worker without ``storage``); no
    pruning, since a
    median pruner's verdict depends on which trials happened to finish first. With a trial
    budget (no timeout hit) the ``qmc`` result is the same for any number of workers.
    """
    import tempfile

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    started = time.monotonic()
    if budget.sampler == "tpe":
        study = optuna.create_study(
            direction="minimize",
            sampler=optuna.samplers.TPESampler(seed=budget.seed),
            pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=0),
            storage=_storage(budget.storage) if budget.storage else None,
        )
        objective = _fold_objective(name, data, folds, parameters, settings, prune=True)
        study.optimize(objective, n_trials=budget.trials, timeout=budget.timeout_seconds)
    elif budget.storage or budget.workers > 1:
        with tempfile.TemporaryDirectory(prefix="freqai-swing-optuna-") as folder:
            url = budget.storage or f"sqlite:///{Path(folder) / 'optuna.db'}"
            # read into memory: a temporary database is gone after this block
            study = _run_shared_study(name, data, folds, parameters, settings, budget, url)
    else:
        study = optuna.create_study(direction="minimize", pruner=optuna.pruners.NopPruner())
        for trial_parameters in drawn_trials(name, budget.trials, budget.seed):
            study.enqueue_trial(trial_parameters)
        objective = _fold_objective(name, data, folds, parameters, settings, prune=False)
        study.optimize(objective, n_trials=budget.trials, timeout=budget.timeout_seconds)
    # a timeout can leave queued trials waiting: they never ran
    finished = sorted((t for t in study.trials if t.state.is_finished()), key=lambda t: t.number)
    pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in finished)
    history = tuple(TrialRecord(t.number, t.state.name, dict(t.params), t.value) for t in finished)
    result = TuningResult(
        parameters={**parameters, **study.best_params},
        best_log_loss=float(study.best_value),
        trials=len(finished),
        pruned=int(pruned),
        seconds=time.monotonic() - started,
        history=history,
    )
    logger.info(
        "Optuna %s: best fold log loss %.4f after %d trials (%d pruned, %.0f s): %s",
        name,
        result.best_log_loss,
        result.trials,
        result.pruned,
        result.seconds,
        study.best_params,
    )
    return result


@dataclass(frozen=True)
class _ReadStudy:
    """What tune_member reads of a finished study whose storage is already removed."""

    trials: list[Any]
    best_params: dict[str, Any]
    best_value: float


@dataclass
class MemberFile:
    """Where a saved member's booster lies, relative to the model folder, and its hash."""

    name: str
    file_name: str
    sha256: str
    best_iteration: int
    device: str
    #: The ``ppo`` member's settings (its window and vote rule) and its feature scaling;
    #: ``None`` for the boosters.
    settings: ppo_member.PPOMemberSettings | None = None
    scaling: ppo_member.MinMaxScaling | None = None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _save_booster(member: ClassifierCore, path: Path) -> None:
    if isinstance(member, ppo_member.PPOVoteMember):
        member.save(path)
    elif isinstance(member, XGBoostCore):
        member.booster.save_model(str(path))
    elif isinstance(member, LightGBMCore):
        member.booster.save_model(str(path))
    else:
        raise TypeError(f"Cannot save ensemble member of type {type(member).__name__}")


def _load_booster(record: MemberFile, path: Path, feature_names: list[str]) -> ClassifierCore:
    if record.name == PPO_MEMBER:
        if record.settings is None or record.scaling is None:
            raise EnsembleMemberError(f"Ensemble member ppo has no settings saved: {path}")
        return ppo_member.load_ppo_member(  # type: ignore[return-value]
            path, record.settings, record.scaling, record.device
        )
    if record.name == "xgboost":
        return XGBoostCore(
            xgb.Booster(model_file=str(path)), feature_names, record.best_iteration, record.device
        )
    return LightGBMCore(
        lgb.Booster(model_file=str(path)), feature_names, record.best_iteration, record.device
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
    members: dict[str, ClassifierCore | ppo_member.PPOVoteMember] = field(default_factory=dict)
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
            _save_booster(member, folder / file_name)
            self.member_files[name] = MemberFile(
                name,
                file_name,
                _sha256(folder / file_name),
                member.best_iteration,
                member.device,
                getattr(member, "settings", None),
                getattr(member, "scaling", None),
            )

    def load_members(self, folder: Path) -> None:
        """Load every member from ``folder``; a missing or altered file raises, naming it."""
        members = {}
        for name in self.weights:
            record = self.member_files.get(name)
            if record is None:
                raise EnsembleMemberError(f"Ensemble member {name} was never saved")
            path = folder / record.file_name
            if not path.is_file():
                raise EnsembleMemberError(f"Ensemble member file missing: {path}")
            if _sha256(path) != record.sha256:
                raise EnsembleMemberError(f"Ensemble member file altered or corrupt: {path}")
            try:
                members[name] = _load_booster(record, path, self.feature_names)
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
        return np.asarray(self.classes_, dtype=object)[self.predict_proba(features).argmax(axis=1)]

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

    every_row = PurgedSplit(np.arange(len(data.labels), dtype=np.int64), _NO_ROWS)
    whole = TrainingSet(data.features, data.labels, data.weights, every_row)
    final = trainer(whole, {}, settings)
    votes = out_of_fold_probabilities(
        trainer,  # type: ignore[arg-type]
        data,
        folds,
        {},
        settings,
    )
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

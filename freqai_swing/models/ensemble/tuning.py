"""Seeded, budgeted Optuna studies of one booster member on the purged folds.

``tpe`` runs an adaptive study in this process; ``qmc`` draws every trial's parameters up front
so that any number of worker processes sharing one RDB study find what the serial study finds.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from freqai_swing.metrics import log_loss
from freqai_swing.models.common.classifier import PurgedSplit, TrainingSet
from freqai_swing.models.ensemble.stacking import MIN_FOLD_TRAINING_ROWS, NO_ROWS, TRAINERS
from freqai_swing.settings import ModelSettings, OptunaSettings

if TYPE_CHECKING:  # at run time, only the functions that run a study import optuna
    import optuna

logger = logging.getLogger(__name__)


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
                data.features, data.labels, data.weights, PurgedSplit(fold.fit_rows, NO_ROWS)
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
    if best.value is None:  # every trial was added complete, with its loss
        raise ValueError(f"Optuna {name}: trial {best.number} has no loss")
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
    study: optuna.Study | _ReadStudy
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

    trials: list[optuna.trial.FrozenTrial]
    best_params: dict[str, Any]
    best_value: float

"""``swing.model``, ``swing.regime_filter`` and ``swing.ensemble``: how the classifiers train."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Annotated, Any, Final, Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic.dataclasses import dataclass

from freqai_swing.settings.errors import SETTINGS_CONFIG, from_config

DeviceRequest = Literal["auto", "cpu", "cuda"]
#: The members a config may list; code may train others (a trainer registered under its name).
MEMBER_NAMES: Final[tuple[str, ...]] = ("xgboost", "lightgbm", "ppo")


@dataclass(frozen=True, config=SETTINGS_CONFIG)
class ModelSettings:
    """Training settings shared by the gradient-boosting classifiers."""

    validation_fraction: Annotated[
        float,
        Field(
            gt=0,
            le=0.5,
            description="Share of the training window's last rows held out for early stopping.",
        ),
    ] = 0.2
    purge_candles: Annotated[
        Annotated[int, Field(ge=0)] | None,
        Field(
            description="Candles dropped between the fitted rows and the validation rows so that "
            "no fitted label overlaps a validation candle; ``null`` = the label horizon."
        ),
    ] = None
    early_stopping_rounds: Annotated[
        int,
        Field(ge=1, description="Rounds without a better validation log loss before stopping."),
    ] = 50
    device: Annotated[
        DeviceRequest,
        Field(
            description="``auto`` uses CUDA when a GPU is visible, ``cuda`` asks for it (and "
            "falls back to CPU with one log line when none is there), ``cpu`` never tries."
        ),
    ] = "auto"
    seed: Annotated[
        int,
        Field(ge=0, description="Seed of every random draw, so a rerun gives the same backtest."),
    ] = 42
    threads: Annotated[
        int, Field(ge=0, description="Worker threads of the boosters (0 = all cores).")
    ] = 0
    min_validation_skill: Annotated[
        float | None,
        Field(
            description="A window's model predicts (``do_predict`` 1) only when it beat the class "
            "prior on the purged validation rows by more than this log loss (nats per row); "
            "``null`` switches the check off."
        ),
    ] = 0.0


@dataclass(frozen=True, config=SETTINGS_CONFIG)
class RegimeSettings:
    """The daily trend gate on long entries (:mod:`freqai_swing.regime`)."""

    enabled: Annotated[bool, Field(description="Gate entries at all.")] = True
    period_days: Annotated[
        int,
        Field(ge=2, le=400, description="The daily moving average the close must be above."),
    ] = 200
    require_market: Annotated[
        bool,
        Field(description="The market pair (BTC) must be above its own average too."),
    ] = True


@dataclass(frozen=True, config=SETTINGS_CONFIG)
class EnsembleMember:
    """One member model of the ensemble and its own parameters."""

    name: Annotated[
        str,
        Field(
            json_schema_extra={"enum": list(MEMBER_NAMES)},
            description="The booster (``xgboost`` or ``lightgbm``), or ``ppo`` for the RL agent.",
        ),
    ]
    parameters: Annotated[
        Mapping[str, Any],
        Field(
            description="Overrides of ``freqai.model_training_parameters.<name>`` for this member "
            "(for ``ppo``: its own block, "
            ":class:`~freqai_swing.settings.ppo.PPOMemberSettings`)."
        ),
    ] = dataclasses.field(default_factory=dict)
    enabled: Annotated[
        bool,
        Field(
            description="``false`` keeps the member's block in the config without training it "
            "(the settings hold the enabled members only)."
        ),
    ] = True

    @field_validator("name")
    @classmethod
    def _listed_in_a_config(cls, name: str, info: ValidationInfo) -> str:
        if from_config(info) and name not in MEMBER_NAMES:
            known = ", ".join(repr(known) for known in MEMBER_NAMES)
            raise ValueError(f"Input should be one of {known}, got {name!r}")
        return name


@dataclass(frozen=True, config=SETTINGS_CONFIG)
class OptunaSettings:
    """Per-retrain hyperparameter search of each member (off by default: it multiplies the
    training time by about ``trials``)."""

    enabled: Annotated[bool, Field(description="Run a study per member at every retrain.")] = False
    trials: Annotated[int, Field(ge=1, description="Most trials per member study.")] = 20
    timeout_seconds: Annotated[
        float, Field(gt=0, description="Wall-clock budget per member study.")
    ] = 120.0
    seed: Annotated[
        int,
        Field(
            ge=0, description="Seed of the sampler, so the same window gives the same parameters."
        ),
    ] = 42
    sampler: Annotated[
        Literal["tpe", "qmc"],
        Field(
            description="``tpe`` (adaptive, with median pruning; one process) or ``qmc`` (seeded, "
            "scrambled Sobol draws made up front, no pruning: each trial's parameters depend on "
            "its number only, so any number of workers finds the same result)."
        ),
    ] = "tpe"
    workers: Annotated[
        int,
        Field(
            ge=1,
            le=256,
            description="Processes that share one study through Optuna's RDB storage "
            "(``qmc`` only).",
        ),
    ] = 1
    storage: Annotated[
        Annotated[str, Field(pattern=r"^[A-Za-z0-9+_-]+://")] | None,
        Field(
            description="SQLAlchemy URL of that storage (``sqlite:///…``, ``postgresql://…``), "
            "kept after the study; ``null`` = in memory, or a temporary SQLite file for "
            "workers > 1."
        ),
    ] = None

    @field_validator("workers")
    @classmethod
    def _parallel_needs_qmc(cls, workers: int, info: ValidationInfo) -> int:
        if workers > 1 and info.data.get("sampler") != "qmc":
            raise ValueError(
                f'{workers} workers need "sampler": "qmc" (TPE and its pruner draw from the '
                "trials already finished, so parallel workers would not give the serial result)"
            )
        return workers


_DEFAULT_MEMBERS = (EnsembleMember("xgboost"), EnsembleMember("lightgbm"))


@dataclass(frozen=True, config=SETTINGS_CONFIG)
class EnsembleSettings:
    """The stacked ensemble (:mod:`freqai_swing.models.ensemble.stacked`)."""

    members: Annotated[
        tuple[EnsembleMember, ...],
        Field(
            min_length=1,
            description="The member models, each with its own parameter block; each name once, "
            "at least one enabled.",
        ),
    ] = _DEFAULT_MEMBERS
    folds: Annotated[
        int,
        Field(
            ge=2,
            le=20,
            description="Time-ordered folds inside the training window that give out-of-fold "
            "probabilities for the meta-learner and the calibration.",
        ),
    ] = 4
    embargo_candles: Annotated[
        Annotated[int, Field(ge=0)] | None,
        Field(
            description="Training candles skipped after each validation fold, because their "
            "features read prices of the fold; ``null`` = the label horizon."
        ),
    ] = None
    calibration: Annotated[
        Literal["sigmoid", "isotonic", "none"],
        Field(
            description="``sigmoid`` (per-class scaling of log-probabilities), ``isotonic`` or "
            "``none``, fitted on out-of-fold predictions only."
        ),
    ] = "sigmoid"
    optuna: Annotated[
        OptunaSettings, Field(description="The per-retrain tuning of each member.")
    ] = dataclasses.field(default_factory=OptunaSettings)

    @field_validator("members")
    @classmethod
    def _enabled_members(cls, members: tuple[EnsembleMember, ...]) -> tuple[EnsembleMember, ...]:
        names = [member.name for member in members]
        if len(set(names)) != len(names):
            raise ValueError(f"each member once, got {names}")
        enabled = tuple(member for member in members if member.enabled)
        if not enabled:
            raise ValueError("no member is enabled")
        return enabled

"""The bundle's own config block (``"swing"``), validated at load, and the FreqAI identifier.

Freqtrade's schema lets unknown keys through silently, so a typo such as
``"train_period_day"`` would quietly fall back to a default. The bundle checks its own block
with ``additionalProperties: false`` and the ``freqai`` block against FreqAI's known keys, and
names the offending key in the error.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from jsonschema import Draft202012Validator

from freqai_swing.labels import LabelConfig
from freqai_swing.lifecycle.config import SELFTRAIN_SCHEMA, SelfTrainSettings, selftrain_settings
from freqai_swing.portfolio.settings import PORTFOLIO_SCHEMA, PortfolioSettings, portfolio_settings
from freqai_swing.risk import RISK_SCHEMA, RiskSettings

DeviceRequest = Literal["auto", "cpu", "cuda"]

_LABEL_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "horizon_candles": {"type": "integer", "minimum": 1, "maximum": 500},
        "barrier_pct": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "barrier_mode": {"enum": ["fixed", "volatility"]},
        "volatility_multiplier": {"type": "number", "exclusiveMinimum": 0},
        "volatility_window": {"type": "integer", "minimum": 2},
        "min_barrier_pct": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "max_barrier_pct": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
    },
}

_MODEL_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "validation_fraction": {"type": "number", "exclusiveMinimum": 0, "maximum": 0.5},
        "purge_candles": {"type": ["integer", "null"], "minimum": 0},
        "early_stopping_rounds": {"type": "integer", "minimum": 1},
        "device": {"enum": ["auto", "cpu", "cuda"]},
        "seed": {"type": "integer", "minimum": 0},
        "threads": {"type": "integer", "minimum": 0},
        "min_validation_skill": {"type": ["number", "null"]},
    },
}

_REGIME_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "enabled": {"type": "boolean"},
        "period_days": {"type": "integer", "minimum": 2, "maximum": 400},
        "require_market": {"type": "boolean"},
    },
}

_BOOSTER_NAMES: Final[tuple[str, ...]] = ("xgboost", "lightgbm")

#: ``parameters`` of the optional ``ppo`` member (see ``freqai_swing.models.ppo.ensemble_member``).
_PPO_MEMBER_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "total_timesteps": {"type": "integer", "minimum": 1},
        "window": {"type": "integer", "minimum": 1, "maximum": 200},
        "seed": {"type": ["integer", "null"], "minimum": 0},
        "device": {"enum": ["auto", "cpu", "cuda", None]},
        "vote_smoothing": {"type": "number", "minimum": 0, "maximum": 1},
        "probe_exposure": {"type": "number", "minimum": 0, "maximum": 1},
        "fee": {"type": "number", "minimum": 0, "exclusiveMaximum": 0.1},
        "reward": {"type": "object"},
        "ppo": {"type": "object"},
    },
}

_ENSEMBLE_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "members": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name"],
                "properties": {
                    "name": {"enum": [*_BOOSTER_NAMES, "ppo"]},
                    "enabled": {"type": "boolean"},
                    "parameters": {"type": "object"},
                },
                "if": {"properties": {"name": {"const": "ppo"}}},
                "then": {"properties": {"parameters": _PPO_MEMBER_SCHEMA}},
            },
        },
        "folds": {"type": "integer", "minimum": 2, "maximum": 20},
        "embargo_candles": {"type": ["integer", "null"], "minimum": 0},
        "calibration": {"enum": ["sigmoid", "isotonic", "none"]},
        "optuna": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "enabled": {"type": "boolean"},
                "trials": {"type": "integer", "minimum": 1},
                "timeout_seconds": {"type": "number", "exclusiveMinimum": 0},
                "seed": {"type": "integer", "minimum": 0},
                "sampler": {"enum": ["tpe", "qmc"]},
                "workers": {"type": "integer", "minimum": 1, "maximum": 256},
                "storage": {
                    "type": ["string", "null"],
                    "pattern": "^[A-Za-z0-9+_-]+://",
                    "description": "an SQLAlchemy URL such as sqlite:///optuna.db",
                },
            },
        },
    },
}

SWING_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "labels": _LABEL_SCHEMA,
        "model": _MODEL_SCHEMA,
        "regime_filter": _REGIME_SCHEMA,
        "risk": RISK_SCHEMA,
        "ensemble": _ENSEMBLE_SCHEMA,
        "selftrain": SELFTRAIN_SCHEMA,
        "portfolio": PORTFOLIO_SCHEMA,
        "market_pair": {"type": "string", "pattern": "^[A-Z0-9]+/[A-Z0-9]+$"},
        "feature_families": {
            "type": "array",
            "items": {
                "enum": ["trend", "momentum", "volatility", "volume", "price-action", "returns"]
            },
            "minItems": 1,
            "uniqueItems": True,
        },
    },
}

#: FreqAI keys that its documentation lists but its JSON schema does not.
_FREQAI_DOCUMENTED_EXTRAS: Final[frozenset[str]] = frozenset(
    {"model_save_type", "reduce_df_footprint", "record_learning_curves", "extra_returns_per_train"}
)
_FEATURE_PARAMETER_DOCUMENTED_EXTRAS: Final[frozenset[str]] = frozenset(
    {
        "noise_standard_deviation",
        "outlier_protection_percentage",
        "reverse_train_test_order",
        "use_DBSCAN_to_remove_outliers",
        "inlier_metric_window",
    }
)


class SwingConfigError(ValueError):
    """A config key or value of the bundle is wrong; the message names it."""


@dataclass(frozen=True)
class ModelSettings:
    """Training settings shared by the gradient-boosting classifiers.

    Attributes:
        validation_fraction: share of the training window's last rows held out for early
            stopping.
        purge_candles: candles dropped between the fitted rows and the validation rows so that
            no fitted label overlaps a validation candle; ``None`` = the label horizon.
        early_stopping_rounds: rounds without a better validation log loss before stopping.
        device: ``auto`` uses CUDA when a GPU is visible, ``cuda`` asks for it (and falls back
            to CPU with one log line when none is there), ``cpu`` never tries.
        seed: seed of every random draw, so a rerun gives the same backtest.
        threads: worker threads of the boosters (0 = all cores).
        min_validation_skill: a window's model predicts (``do_predict`` 1) only when it beat
            the class prior on the purged validation rows by more than this log loss (nats
            per row); ``null`` switches the check off.
    """

    validation_fraction: float = 0.2
    purge_candles: int | None = None
    early_stopping_rounds: int = 50
    device: DeviceRequest = "auto"
    seed: int = 42
    threads: int = 0
    min_validation_skill: float | None = 0.0


@dataclass(frozen=True)
class RegimeSettings:
    """The daily trend gate on long entries (:mod:`freqai_swing.regime`).

    Attributes:
        enabled: gate entries at all.
        period_days: the daily moving average the close must be above.
        require_market: the market pair (BTC) must be above its own average too.
    """

    enabled: bool = True
    period_days: int = 200
    require_market: bool = True


@dataclass(frozen=True)
class EnsembleMember:
    """One member model of the ensemble and its own booster parameters.

    Attributes:
        name: the booster (``xgboost`` or ``lightgbm``), or ``ppo`` for the RL agent.
        parameters: overrides of ``freqai.model_training_parameters.<name>`` for this member
            (for ``ppo``: its own block, see ``freqai_swing.models.ppo.ensemble_member``).
    """

    name: str
    parameters: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OptunaSettings:
    """Per-retrain hyperparameter search of each member (off by default: it multiplies the
    training time by about ``trials``).

    Attributes:
        enabled: run a study per member at every retrain.
        trials: most trials per member study.
        timeout_seconds: wall-clock budget per member study.
        seed: seed of the sampler, so the same window gives the same parameters.
        sampler: ``tpe`` (adaptive, with median pruning; one process) or ``qmc`` (seeded,
            scrambled Sobol draws made up front, no pruning: each trial's parameters depend
            on its number only, so any number of workers finds the same result).
        workers: processes that share one study through Optuna's RDB storage (``qmc`` only).
        storage: SQLAlchemy URL of that storage (``sqlite:///…``, ``postgresql://…``), kept
            after the study; ``None`` = in memory, or a temporary SQLite file for workers > 1.
    """

    enabled: bool = False
    trials: int = 20
    timeout_seconds: float = 120.0
    seed: int = 42
    sampler: Literal["tpe", "qmc"] = "tpe"
    workers: int = 1
    storage: str | None = None


@dataclass(frozen=True)
class EnsembleSettings:
    """The stacked ensemble (:mod:`freqai_swing.models.ensemble.stacked`).

    Attributes:
        members: the member models, each with its own parameter block.
        folds: time-ordered folds inside the training window that give out-of-fold
            probabilities for the meta-learner and the calibration.
        embargo_candles: training candles skipped after each validation fold, because their
            features read prices of the fold; ``None`` = the label horizon.
        calibration: ``sigmoid`` (per-class scaling of log-probabilities), ``isotonic`` or
            ``none``, fitted on out-of-fold predictions only.
        optuna: the per-retrain tuning of each member.
    """

    members: tuple[EnsembleMember, ...] = (EnsembleMember("xgboost"), EnsembleMember("lightgbm"))
    folds: int = 4
    embargo_candles: int | None = None
    calibration: Literal["sigmoid", "isotonic", "none"] = "sigmoid"
    optuna: OptunaSettings = field(default_factory=OptunaSettings)


@dataclass(frozen=True)
class SwingSettings:
    """Everything the bundle adds on top of FreqAI's own settings."""

    labels: LabelConfig = field(default_factory=LabelConfig)
    model: ModelSettings = field(default_factory=ModelSettings)
    regime_filter: RegimeSettings = field(default_factory=RegimeSettings)
    risk: RiskSettings = field(default_factory=RiskSettings)
    ensemble: EnsembleSettings = field(default_factory=EnsembleSettings)
    selftrain: SelfTrainSettings = field(default_factory=SelfTrainSettings)
    portfolio: PortfolioSettings = field(default_factory=PortfolioSettings)
    market_pair: str = "BTC/USDT"
    feature_families: tuple[str, ...] = (
        "trend",
        "momentum",
        "volatility",
        "volume",
        "price-action",
        "returns",
    )

    @property
    def purge_candles(self) -> int:
        """Rows between fitted and validation rows: at least the label horizon."""
        if self.model.purge_candles is None:
            return self.labels.horizon_candles
        return self.model.purge_candles

    @property
    def embargo_candles(self) -> int:
        """Candles skipped after an ensemble fold: at least the label horizon by default."""
        if self.ensemble.embargo_candles is None:
            return self.labels.horizon_candles
        return self.ensemble.embargo_candles


def _schema_errors(block: Mapping[str, Any], schema: Mapping[str, Any], where: str) -> list[str]:
    messages = []
    for error in sorted(Draft202012Validator(schema).iter_errors(block), key=str):
        path = ".".join([where, *(str(part) for part in error.absolute_path)])
        messages.append(f"{path}: {error.message}")
    return messages


def _freqai_unknown_keys(freqai: Mapping[str, Any]) -> list[str]:
    from freqtrade.config_schema.config_schema import CONF_SCHEMA

    freqai_schema = CONF_SCHEMA["definitions"]["freqai"]["properties"]
    known = set(freqai_schema) | _FREQAI_DOCUMENTED_EXTRAS
    messages = [
        f"freqai.{key}: unknown key (known: {', '.join(sorted(known))})"
        for key in freqai
        if key not in known
    ]
    feature_known = (
        set(freqai_schema["feature_parameters"]["properties"])
        | _FEATURE_PARAMETER_DOCUMENTED_EXTRAS
    )
    messages += [
        f"freqai.feature_parameters.{key}: unknown key"
        for key in freqai.get("feature_parameters", {})
        if key not in feature_known
    ]
    return messages


def load_swing_settings(config: Mapping[str, Any]) -> SwingSettings:
    """Validate the ``swing`` and ``freqai`` blocks of a Freqtrade config and build settings.

    Raises:
        SwingConfigError: naming every wrong key or value found.
    """
    block = config.get("swing", {})
    errors = _schema_errors(block, SWING_SCHEMA, "swing")
    if "freqai" in config:
        errors += _freqai_unknown_keys(config["freqai"])
    if errors:
        raise SwingConfigError("Invalid freqai-swing configuration:\n  " + "\n  ".join(errors))
    try:
        labels = LabelConfig(**block.get("labels", {}))
    except ValueError as error:
        raise SwingConfigError(f"Invalid freqai-swing configuration: swing.{error}") from error
    families = block.get("feature_families")
    return SwingSettings(
        ensemble=_ensemble_settings(block.get("ensemble", {})),
        labels=labels,
        model=ModelSettings(**block.get("model", {})),
        regime_filter=RegimeSettings(**block.get("regime_filter", {})),
        risk=RiskSettings(**block.get("risk", {})),
        selftrain=selftrain_settings(block.get("selftrain")),
        portfolio=portfolio_settings(block.get("portfolio")),
        market_pair=block.get("market_pair", "BTC/USDT"),
        feature_families=tuple(families) if families else SwingSettings().feature_families,
    )


def _ensemble_settings(block: Mapping[str, Any]) -> EnsembleSettings:
    listed = block.get("members")
    names = [member["name"] for member in listed or ()]
    if len(set(names)) != len(names):
        raise SwingConfigError(f"swing.ensemble.members: each member once, got {names}")
    members = [member for member in listed or () if member.get("enabled", True)]
    if listed and not members:
        raise SwingConfigError("swing.ensemble.members: no member is enabled")
    for index, member in enumerate(listed or ()):
        if member["name"] == "ppo" and member.get("enabled", True):
            # imported here: the RL stack loads only when the agent is a member
            from freqai_swing.models.ppo.ensemble_member import ppo_member_settings

            ppo_member_settings(
                member.get("parameters", {}), where=f"swing.ensemble.members.{index}.parameters"
            )
    return EnsembleSettings(
        members=(
            tuple(EnsembleMember(m["name"], dict(m.get("parameters", {}))) for m in members)
            if members
            else EnsembleSettings().members
        ),
        folds=block.get("folds", EnsembleSettings.folds),
        embargo_candles=block.get("embargo_candles"),
        calibration=block.get("calibration", EnsembleSettings.calibration),
        optuna=_optuna_settings(block.get("optuna", {})),
    )


def _optuna_settings(block: Mapping[str, Any]) -> OptunaSettings:
    settings = OptunaSettings(**block)
    if settings.workers > 1 and settings.sampler != "qmc":
        raise SwingConfigError(
            f"swing.ensemble.optuna.workers: {settings.workers} workers need "
            '"sampler": "qmc" (TPE and its pruner draw from the trials already finished, '
            "so parallel workers would not give the serial result)"
        )
    return settings


_CORE_SOURCES: Final[tuple[str, ...]] = ("features.py", "labels.py", "settings.py")
_IDENTIFIER_VOLATILE_KEYS: Final[frozenset[str]] = frozenset(
    {
        "identifier",
        "purge_old_models",
        "data_kitchen_thread_count",
        "write_metrics_to_disk",
        "activate_tensorboard",
        "wait_for_training_iteration_on_reload",
    }
)


_MODEL_SHAPING_PORTFOLIO_KEYS: Final[frozenset[str]] = frozenset(
    {"meta_horizon_days", "volatility_model", "meta_model"}
)


def _model_shaping_swing(block: Mapping[str, Any]) -> dict[str, Any]:
    """The ``swing`` block without what does not shape a model: the risk rules size and gate
    orders, the lifecycle's knobs pick models, and where and in how many processes an Optuna
    study runs does not change what it finds. Of the portfolio's settings only the meta-label's
    horizon and the two learners shape a model; the rest size and gate orders, so its ML
    ablation runners share their models."""
    shaped = {k: v for k, v in block.items() if k not in {"risk", "selftrain"}}
    portfolio = shaped.get("portfolio")
    if isinstance(portfolio, Mapping):
        shaped["portfolio"] = {
            k: v for k, v in portfolio.items() if k in _MODEL_SHAPING_PORTFOLIO_KEYS
        }
    ensemble = shaped.get("ensemble")
    optuna = ensemble.get("optuna") if isinstance(ensemble, Mapping) else None
    if isinstance(optuna, Mapping) and ({"workers", "storage"} & set(optuna)):
        trimmed = {k: v for k, v in optuna.items() if k not in {"workers", "storage"}}
        shaped["ensemble"] = {**shaped["ensemble"], "optuna": trimmed}
    return shaped


def settings_fingerprint(config: Mapping[str, Any]) -> str:
    """Eight hex digits that change whenever a setting or code that shapes a model changes.

    Covers the whole ``freqai`` block (but its identifier and run-time switches), the ``swing``
    block, the timeframe, the model class, the backtest timerange and the source of the
    bundle's feature, label, model and RL code, so that FreqAI never reuses predictions or models
    made under other settings.
    """
    freqai = {
        key: value
        for key, value in config.get("freqai", {}).items()
        if key not in _IDENTIFIER_VOLATILE_KEYS
    }
    shaped = {
        "freqai": freqai,
        "swing": _model_shaping_swing(config.get("swing", {})),
        "timeframe": config.get("timeframe"),
        "freqaimodel": config.get("freqaimodel"),
        # FreqAI breaks when one backtest mixes reused and freshly trained windows of a pair
        # (its feature check then sees duplicated columns), so a backtest reuses only a run of
        # the very same timerange.
        "timerange": config.get("timerange"),
        # the portfolio's meta-label is "beats the round-trip fee"
        "fee": config.get("fee"),
    }
    digest = hashlib.sha256(json.dumps(shaped, sort_keys=True, default=str).encode())
    package = Path(__file__).parent
    sources = [package / name for name in _CORE_SOURCES]
    sources += sorted((package / "models").glob("*.py"))
    sources += sorted((package / "rl").glob("*.py"))
    sources += [package / "portfolio" / name for name in ("labels.py", "model.py")]
    for source in sources:
        digest.update(source.read_bytes())
    return digest.hexdigest()[:8]


def candle_fingerprint(config: Mapping[str, Any]) -> str:
    """A digest of the contents of the candle files a backtest of ``config`` can read.

    Every file of ``config["datadir"]`` in the timeframes used (the strategy's and FreqAI's
    ``include_timeframes``), not only the whitelist's: per-pair runs and the run of all pairs
    over one datadir then share their predictions (tooling/evaluate.py's ``--per-pair``), and
    an edited, re-downloaded or added candle file means FreqAI trains anew instead of reusing
    predictions made from other candles. Contents, not modification times: a copy of the
    same candles keeps the identifier.
    """
    datadir = config.get("datadir")
    if not datadir or not Path(datadir).is_dir():
        return ""
    features = config.get("freqai", {}).get("feature_parameters", {})
    timeframes = sorted({config.get("timeframe"), *features.get("include_timeframes", [])} - {None})
    digest = hashlib.sha256()
    for timeframe in timeframes:
        for path in sorted(Path(datadir).glob(f"*-{timeframe}.*")):
            digest.update(path.name.encode())
            with path.open("rb") as candles:
                digest.update(hashlib.file_digest(candles, "sha256").digest())
    return digest.hexdigest()[:16]

"""Fingerprints of what shapes a model: FreqAI reuses a stored model only when they match."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from freqai_swing.settings.loader import SwingSettings, swing_settings
from freqai_swing.settings.ppo import ppo_member_settings

_PACKAGE: Final[Path] = Path(__file__).resolve().parent.parent
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


def _model_shaping_swing(settings: SwingSettings) -> dict[str, Any]:
    """The resolved ``swing`` settings without what does not shape a model: the risk rules size
    and gate orders, the lifecycle's knobs pick models, and where and in how many processes an
    Optuna study runs does not change what it finds. Of the portfolio's settings only the
    meta-label's horizon and the two learners shape a model; the rest size and gate orders, so
    its ML ablation runners share their models.

    Resolved, not as written: a config that spells out a default shapes the same model as one
    that leaves it out.
    """
    shaped = dataclasses.asdict(settings)
    del shaped["risk"], shaped["selftrain"]
    shaped["portfolio"] = {
        key: value
        for key, value in shaped["portfolio"].items()
        if key in _MODEL_SHAPING_PORTFOLIO_KEYS
    }
    for key in ("workers", "storage"):
        del shaped["ensemble"]["optuna"][key]
    for member in shaped["ensemble"]["members"]:
        if member["name"] == "ppo":
            member["parameters"] = dataclasses.asdict(ppo_member_settings(member["parameters"]))
    return shaped


def _sources() -> list[Path]:
    """The bundle's feature, label, settings and model code, and the portfolio's learners."""
    sources = [_PACKAGE / "features.py", _PACKAGE / "labels.py"]
    sources += sorted((_PACKAGE / "settings").glob("*.py"))
    sources += sorted((_PACKAGE / "models").rglob("*.py"))
    sources += [_PACKAGE / "portfolio" / name for name in ("labels.py", "model.py")]
    return sources


def settings_fingerprint(config: Mapping[str, Any]) -> str:
    """Eight hex digits that change whenever a setting or code that shapes a model changes.

    Covers the whole ``freqai`` block (but its identifier and run-time switches), the resolved
    ``swing`` settings that shape a model, the timeframe, the model class, the backtest
    timerange and the source of the bundle's feature, label, settings and model code, so that
    FreqAI never reuses predictions or models made under other settings.

    Raises:
        SwingConfigError: when the ``swing`` block is invalid.
    """
    freqai = {
        key: value
        for key, value in config.get("freqai", {}).items()
        if key not in _IDENTIFIER_VOLATILE_KEYS
    }
    shaped = {
        "freqai": freqai,
        "swing": _model_shaping_swing(swing_settings(config.get("swing"))),
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
    for source in _sources():
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

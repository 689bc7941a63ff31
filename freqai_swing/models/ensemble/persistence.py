"""Saved ensemble members: each in its library's own file, with the file's SHA-256.

A :class:`MemberFile` is pickled inside FreqAI's model file (by this module's path); the
members themselves are not, so a reload checks and reads each file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import lightgbm as lgb
import xgboost as xgb

from freqai_swing.models.boosting.cores import LightGBMCore, XGBoostCore
from freqai_swing.models.common.classifier import ClassifierCore
from freqai_swing.models.ppo import ensemble_member as ppo_member

MEMBER_FILE_SUFFIX: Final[dict[str, str]] = {"xgboost": "json", "lightgbm": "txt", "ppo": "zip"}
#: Members trained by :mod:`freqai_swing.models.ppo.ensemble_member`, not by a booster trainer.
PPO_MEMBER: Final = "ppo"

#: A trained member: a booster, or the ``ppo`` member's agent and vote rule.
TrainedMember = ClassifierCore | ppo_member.PPOVoteMember


class EnsembleMemberError(RuntimeError):
    """A member file of a saved ensemble is missing, altered or unreadable."""


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


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_member(member: TrainedMember, path: Path) -> None:
    if isinstance(member, ppo_member.PPOVoteMember):
        member.save(path)
    elif isinstance(member, XGBoostCore):
        member.booster.save_model(str(path))
    elif isinstance(member, LightGBMCore):
        member.booster.save_model(str(path))
    else:
        raise TypeError(f"Cannot save ensemble member of type {type(member).__name__}")


def load_member(record: MemberFile, path: Path, feature_names: list[str]) -> TrainedMember:
    if record.name == PPO_MEMBER:
        if record.settings is None or record.scaling is None:
            raise EnsembleMemberError(f"Ensemble member ppo has no settings saved: {path}")
        return ppo_member.load_ppo_member(path, record.settings, record.scaling, record.device)
    if record.name == "xgboost":
        return XGBoostCore(
            xgb.Booster(model_file=str(path)), feature_names, record.best_iteration, record.device
        )
    return LightGBMCore(
        lgb.Booster(model_file=str(path)), feature_names, record.best_iteration, record.device
    )

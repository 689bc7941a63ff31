"""The registry's records: a model version and a logged decision."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

Status = Literal["testing", "production", "retired"]


class RegistryError(RuntimeError):
    """A registry change that would break its rules (e.g. promoting an unknown version)."""


@dataclass(frozen=True)
class ModelVersion:
    """One trained model as the registry records it.

    Attributes:
        version_id: ``<FreqAI identifier>@<training end, unix seconds>``, FreqAI's own name
            for the model (the warehouse's ``model_version``).
        identifier: the FreqAI identifier (``models/<identifier>``).
        trained_at: end of the training data (UTC).
        train_start / train_end: the training window.
        parameters: what shaped the model (config blocks, tuned parameters).
        metrics: its walk-forward validation figures.
        file_hash: SHA-256 over the checkpoint's files.
        checkpoint: the checkpoint folder; ``None`` once pruned.
        status: ``testing`` (challenger), ``production`` (champion) or ``retired``.
        promoted_at / retired_at: when it last became / stopped being the champion.
        registered_at: when the registry first saw it.
    """

    version_id: str
    identifier: str
    trained_at: datetime
    train_start: datetime | None = None
    train_end: datetime | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    metrics: Mapping[str, Any] = field(default_factory=dict)
    file_hash: str | None = None
    checkpoint: Path | None = None
    status: Status = "testing"
    promoted_at: datetime | None = None
    retired_at: datetime | None = None
    registered_at: datetime | None = None


@dataclass(frozen=True)
class Decision:
    """One logged lifecycle decision (trigger, promotion, rejection, rollback, …)."""

    decision_id: int
    decided_at: datetime
    kind: str
    version_id: str | None
    champion_id: str | None
    figures: Mapping[str, Any]
    message: str

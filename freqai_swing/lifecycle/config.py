"""``swing.selftrain``: the lifecycle's settings, declared in
:mod:`freqai_swing.settings.lifecycle`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from freqai_swing.settings.errors import validate
from freqai_swing.settings.lifecycle import SelfTrainSettings

__all__ = ["SelfTrainSettings", "selftrain_settings"]


def selftrain_settings(block: Mapping[str, Any] | None) -> SelfTrainSettings:
    """Settings from a ``swing.selftrain`` block.

    Raises:
        SwingConfigError: naming a wrong key or value.
    """
    return validate(SelfTrainSettings, block, "swing.selftrain")

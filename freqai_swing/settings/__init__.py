"""The bundle's settings, each declared once, in a typed and validated dataclass.

Every setting is a field with its type, default, bounds and description (pydantic dataclasses:
frozen, unknown keys refused). The JSON schema of the ``swing`` block is derived from them
(:func:`swing_json_schema`), and so are the error messages, which name the key path and suggest
the closest known key. Nothing here imports model code.
"""

from __future__ import annotations

from typing import Any

from freqai_swing.settings.errors import SwingConfigError, json_schema, validate
from freqai_swing.settings.fingerprint import candle_fingerprint, settings_fingerprint
from freqai_swing.settings.labels import BarrierMode, LabelConfig
from freqai_swing.settings.lifecycle import SelfTrainSettings
from freqai_swing.settings.loader import (
    SwingSettings,
    load_swing_settings,
    swing_json_schema,
    swing_settings,
)
from freqai_swing.settings.model import (
    DeviceRequest,
    EnsembleMember,
    EnsembleSettings,
    ModelSettings,
    OptunaSettings,
    RegimeSettings,
)
from freqai_swing.settings.portfolio import PortfolioSettings
from freqai_swing.settings.ppo import (
    PPOMemberSettings,
    RewardParameters,
    RLSettings,
    load_rl_settings,
    ppo_member_settings,
)
from freqai_swing.settings.risk import RiskSettings

__all__ = [
    "BarrierMode",
    "DeviceRequest",
    "EnsembleMember",
    "EnsembleSettings",
    "LabelConfig",
    "ModelSettings",
    "OptunaSettings",
    "PPOMemberSettings",
    "PortfolioSettings",
    "RLSettings",
    "RegimeSettings",
    "RewardParameters",
    "RiskSettings",
    "SWING_SCHEMA",
    "SelfTrainSettings",
    "SwingConfigError",
    "SwingSettings",
    "candle_fingerprint",
    "json_schema",
    "load_rl_settings",
    "load_swing_settings",
    "ppo_member_settings",
    "settings_fingerprint",
    "swing_json_schema",
    "swing_settings",
    "validate",
]


def __getattr__(name: str) -> Any:
    # derived on first use: building the schema costs more than importing the settings
    if name == "SWING_SCHEMA":
        return swing_json_schema()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

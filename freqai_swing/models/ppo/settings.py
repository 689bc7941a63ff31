"""Settings of the swing RL agent, declared in :mod:`freqai_swing.settings.ppo`."""

from __future__ import annotations

from freqai_swing.settings.ppo import (
    ACTION_SETS,
    FREQAI_REWARD_KEYS,
    RewardParameters,
    RLSettings,
    load_rl_settings,
)

__all__ = [
    "ACTION_SETS",
    "FREQAI_REWARD_KEYS",
    "RLSettings",
    "RewardParameters",
    "load_rl_settings",
]

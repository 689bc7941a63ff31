"""Settings of the swing RL agent: the action set and the reward coefficients, validated once.

They live in FreqAI's own ``freqai.rl_config`` block (``action_set``, ``total_timesteps`` and
``model_reward_parameters``) so that a user edits one place. FreqAI does not check them; a
negative penalty or a typo would silently train a different agent, so this module refuses them
with a message naming the key.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Final

from freqai_swing.settings import SwingConfigError

#: The action sets this bundle implements (only the seed's seven actions so far).
ACTION_SETS: Final[tuple[str, ...]] = ("swing7",)
#: Keys of FreqAI's example reward (``rr``, ``profit_aim``, ``win_reward_factor``): accepted so a
#: config shared with FreqAI's ``ReinforcementLearner`` loads, but unused by this environment.
FREQAI_REWARD_KEYS: Final[frozenset[str]] = frozenset({"rr", "profit_aim", "win_reward_factor"})
_WHERE: Final[str] = "freqai.rl_config"


@dataclass(frozen=True)
class RewardParameters:
    """Coefficients of the per-step reward (``rl_config.model_reward_parameters``).

    reward = 100 x portfolio return
             - risk_penalty_factor x std of the last ``volatility_window`` returns (in %)
             - drawdown_penalty x increase of the drawdown from the peak (in % points)
             - holding_penalty (when flat after the step's trade)
             - transaction_cost x traded fraction (traded notional / portfolio value)

    Attributes:
        risk_penalty_factor: weight of recent portfolio volatility.
        drawdown_penalty: weight of a deeper drawdown.
        holding_penalty: cost of sitting flat for one candle, so that doing nothing is not free.
        transaction_cost: reward cost per unit of traded fraction, on top of the fee that the
            simulated account really pays (which already lowers the return).
        volatility_window: number of recent step returns whose standard deviation is the risk.
    """

    risk_penalty_factor: float = 0.5
    drawdown_penalty: float = 2.0
    holding_penalty: float = 0.001
    transaction_cost: float = 0.001
    volatility_window: int = 24

    def __post_init__(self) -> None:
        for name in (
            "risk_penalty_factor",
            "drawdown_penalty",
            "holding_penalty",
            "transaction_cost",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise SwingConfigError(
                    f"{_WHERE}.model_reward_parameters.{name}: must be a number, got {value!r}"
                )
            if not math.isfinite(value) or value < 0:
                raise SwingConfigError(
                    f"{_WHERE}.model_reward_parameters.{name}: must be a finite number >= 0 "
                    f"(it is subtracted from the reward), got {value!r}"
                )
        window = self.volatility_window
        if isinstance(window, bool) or not isinstance(window, int) or window < 2:
            raise SwingConfigError(
                f"{_WHERE}.model_reward_parameters.volatility_window: must be an integer >= 2, "
                f"got {window!r}"
            )

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> RewardParameters:
        """Build from ``model_reward_parameters``; an unknown key is an error naming it."""
        known = {item.name for item in fields(cls)}
        unknown = sorted(set(mapping) - known - FREQAI_REWARD_KEYS)
        if unknown:
            raise SwingConfigError(
                f"{_WHERE}.model_reward_parameters.{unknown[0]}: unknown key "
                f"(known: {', '.join(sorted(known))})"
            )
        return cls(**{key: value for key, value in mapping.items() if key in known})


@dataclass(frozen=True)
class RLSettings:
    """The agent's settings read from ``freqai.rl_config``.

    Attributes:
        action_set: which actions the agent has; ``swing7`` = hold, buy 25/50/75 % of capital,
            sell 25/50 % of the position, sell all.
        reward: the reward coefficients.
        total_timesteps: PPO timesteps per training window; ``None`` = ``train_cycles`` x the
            window's training rows (FreqAI's rule).
        train_cycles: passes over the training rows when ``total_timesteps`` is not set.
        max_training_drawdown_pct: an episode ends when the simulated account has lost this
            share (FreqAI's key and default).
    """

    action_set: str = "swing7"
    reward: RewardParameters = field(default_factory=RewardParameters)
    total_timesteps: int | None = None
    train_cycles: int = 25
    max_training_drawdown_pct: float = 0.8

    def timesteps(self, training_rows: int) -> int:
        if self.total_timesteps is not None:
            return self.total_timesteps
        return self.train_cycles * training_rows


def _positive_int(rl_config: Mapping[str, Any], key: str, default: int | None) -> int | None:
    value = rl_config.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SwingConfigError(f"{_WHERE}.{key}: must be an integer >= 1, got {value!r}")
    return value


def load_rl_settings(rl_config: Mapping[str, Any] | None) -> RLSettings:
    """Validate the parts of ``freqai.rl_config`` that this agent reads.

    Raises:
        SwingConfigError: naming the wrong key.
    """
    if rl_config is None:
        raise SwingConfigError(
            f"{_WHERE}: missing; SwingPPO needs it (see config/rl.json for the defaults)"
        )
    action_set = rl_config.get("action_set", "swing7")
    if action_set not in ACTION_SETS:
        raise SwingConfigError(
            f"{_WHERE}.action_set: unknown action set {action_set!r} "
            f"(known: {', '.join(ACTION_SETS)})"
        )
    parameters = rl_config.get("model_reward_parameters", {})
    if not isinstance(parameters, Mapping):
        raise SwingConfigError(f"{_WHERE}.model_reward_parameters: must be an object")
    drawdown = rl_config.get("max_training_drawdown_pct", 0.8)
    if isinstance(drawdown, bool) or not isinstance(drawdown, int | float) or not 0 < drawdown <= 1:
        raise SwingConfigError(
            f"{_WHERE}.max_training_drawdown_pct: must be a number in (0, 1], got {drawdown!r}"
        )
    return RLSettings(
        action_set=action_set,
        reward=RewardParameters.from_mapping(parameters),
        total_timesteps=_positive_int(rl_config, "total_timesteps", None),
        train_cycles=_positive_int(rl_config, "train_cycles", 25) or 25,
        max_training_drawdown_pct=float(drawdown),
    )

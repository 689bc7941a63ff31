"""The PPO agent's settings: ``freqai.rl_config`` of ``SwingPPO`` and the ``ppo`` ensemble member.

The agent's settings live in FreqAI's own ``freqai.rl_config`` block (``action_set``,
``total_timesteps`` and ``model_reward_parameters``) so that a user edits one place. FreqAI does
not check them; a negative penalty or a typo would silently train a different agent, so they are
refused here with a message naming the key. Nothing here imports the RL stack: only a config
that overrides PPO hyperparameters loads stable-baselines3, to read which ones PPO accepts.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Mapping
from typing import Annotated, Any, Final, Literal

from pydantic import Field, field_validator
from pydantic.dataclasses import dataclass

from freqai_swing.settings.errors import SETTINGS_CONFIG, SwingConfigError, unknown_key, validate
from freqai_swing.settings.model import DeviceRequest

#: The action sets this bundle implements (only the seed's seven actions so far).
ACTION_SETS: Final[tuple[str, ...]] = ("swing7",)
#: Keys of FreqAI's example reward (``rr``, ``profit_aim``, ``win_reward_factor``): accepted so a
#: config shared with FreqAI's ``ReinforcementLearner`` loads, but unused by this environment.
FREQAI_REWARD_KEYS: Final[frozenset[str]] = frozenset({"rr", "profit_aim", "win_reward_factor"})
#: PPO arguments the agent sets itself (:func:`freqai_swing.models.ppo.agent.build_ppo`).
RESERVED_PPO_ARGUMENTS: Final[frozenset[str]] = frozenset(
    {"policy", "env", "seed", "device", "policy_kwargs"}
)
_WHERE: Final[str] = "freqai.rl_config"
_Penalty = Annotated[float, Field(ge=0)]


@dataclass(frozen=True, config=SETTINGS_CONFIG)
class RewardParameters:
    """Coefficients of the per-step reward (``rl_config.model_reward_parameters``).

    reward = 100 x portfolio return
             - risk_penalty_factor x std of the last ``volatility_window`` returns (in %)
             - drawdown_penalty x increase of the drawdown from the peak (in % points)
             - holding_penalty (when flat after the step's trade)
             - transaction_cost x traded fraction (traded notional / portfolio value)

    Every coefficient is subtracted from the reward, so none may be negative.
    """

    risk_penalty_factor: Annotated[
        _Penalty, Field(description="Weight of recent portfolio volatility.")
    ] = 0.5
    drawdown_penalty: Annotated[_Penalty, Field(description="Weight of a deeper drawdown.")] = 2.0
    holding_penalty: Annotated[
        _Penalty,
        Field(
            description="Cost of sitting flat for one candle, so that doing nothing is not free."
        ),
    ] = 0.001
    transaction_cost: Annotated[
        _Penalty,
        Field(
            description="Reward cost per unit of traded fraction, on top of the fee that the "
            "simulated account really pays (which already lowers the return)."
        ),
    ] = 0.001
    volatility_window: Annotated[
        int,
        Field(
            ge=2,
            description="Number of recent step returns whose standard deviation is the risk.",
        ),
    ] = 24

    @classmethod
    def from_mapping(
        cls, mapping: Mapping[str, Any], where: str = f"{_WHERE}.model_reward_parameters"
    ) -> RewardParameters:
        """Build from ``model_reward_parameters``; a wrong key or value is an error naming it."""
        return validate(cls, _without_freqai_keys(mapping), where)


def _without_freqai_keys(mapping: Any) -> Any:
    if not isinstance(mapping, Mapping):
        return mapping
    return {key: value for key, value in mapping.items() if key not in FREQAI_REWARD_KEYS}


@dataclass(frozen=True, config=SETTINGS_CONFIG)
class RLSettings:
    """The agent's settings read from ``freqai.rl_config``."""

    action_set: Annotated[
        Literal["swing7"],
        Field(
            description="Which actions the agent has; ``swing7`` = hold, buy 25/50/75 % of "
            "capital, sell 25/50 % of the position, sell all."
        ),
    ] = "swing7"
    reward: Annotated[
        RewardParameters,
        Field(description="The reward coefficients (``model_reward_parameters``)."),
    ] = dataclasses.field(default_factory=RewardParameters)
    total_timesteps: Annotated[
        Annotated[int, Field(ge=1)] | None,
        Field(
            description="PPO timesteps per training window; ``null`` = ``train_cycles`` x the "
            "window's training rows (FreqAI's rule)."
        ),
    ] = None
    train_cycles: Annotated[
        int,
        Field(
            ge=1, description="Passes over the training rows when ``total_timesteps`` is not set."
        ),
    ] = 25
    max_training_drawdown_pct: Annotated[
        float,
        Field(
            gt=0,
            le=1,
            description="An episode ends when the simulated account has lost this share "
            "(FreqAI's key and default).",
        ),
    ] = 0.8

    def timesteps(self, training_rows: int) -> int:
        if self.total_timesteps is not None:
            return self.total_timesteps
        return self.train_cycles * training_rows


#: ``rl_config`` keys this agent reads, by field name (FreqAI's other keys are FreqAI's).
_RL_KEYS: Final[dict[str, str]] = {
    "action_set": "action_set",
    "reward": "model_reward_parameters",
    "total_timesteps": "total_timesteps",
    "train_cycles": "train_cycles",
    "max_training_drawdown_pct": "max_training_drawdown_pct",
}


def load_rl_settings(rl_config: Mapping[str, Any] | None) -> RLSettings:
    """Validate the parts of ``freqai.rl_config`` that this agent reads.

    Raises:
        SwingConfigError: naming the wrong key.
    """
    if rl_config is None:
        raise SwingConfigError(
            f"{_WHERE}: missing; SwingPPO needs it (see config/rl.json for the defaults)"
        )
    block = {name: rl_config[key] for name, key in _RL_KEYS.items() if key in rl_config}
    if "reward" in block:
        block["reward"] = _without_freqai_keys(block["reward"])
    return validate(RLSettings, block, _WHERE, renamed=_RL_KEYS)


def ppo_argument_names() -> frozenset[str]:
    """The PPO constructor's arguments a config may set (loads stable-baselines3)."""
    from stable_baselines3 import PPO

    return frozenset(inspect.signature(PPO.__init__).parameters) - {"self"} - RESERVED_PPO_ARGUMENTS


@dataclass(frozen=True, config=SETTINGS_CONFIG)
class PPOMemberSettings:
    """The ``parameters`` block of the ``ppo`` ensemble member
    (:mod:`freqai_swing.models.ppo.ensemble_member`)."""

    total_timesteps: Annotated[
        int,
        Field(
            ge=1,
            description="PPO timesteps per agent; the ensemble trains ``folds + 1`` agents per "
            "window (one per fold, one final).",
        ),
    ] = 20480
    window: Annotated[
        int,
        Field(
            ge=1,
            le=200,
            description="Feature rows the agent observes (the environment's ``window_size``).",
        ),
    ] = 1
    seed: Annotated[
        Annotated[int, Field(ge=0)] | None,
        Field(description="Seed of the agents; ``null`` = ``swing.model.seed``."),
    ] = None
    device: Annotated[
        DeviceRequest | None,
        Field(
            description="``auto`` / ``cpu`` / ``cuda``; ``null`` = ``swing.model.device``. CUDA "
            "falls back to CPU when no GPU is visible."
        ),
    ] = None
    vote_smoothing: Annotated[
        float,
        Field(ge=0, le=1, description="Share of the vote's mass spread evenly over the classes."),
    ] = 0.1
    probe_exposure: Annotated[
        float,
        Field(ge=0, le=1, description="Exposure of the account the agent is shown when it votes."),
    ] = 0.5
    fee: Annotated[
        float,
        Field(ge=0, lt=0.1, description="Fee of the simulated account on every exposure change."),
    ] = 0.0015
    reward: Annotated[
        Mapping[str, Any],
        Field(
            description="The environment's reward coefficients (``model_reward_parameters`` keys)."
        ),
    ] = dataclasses.field(default_factory=dict)
    ppo: Annotated[
        Mapping[str, Any],
        Field(
            description="PPO hyperparameters over the seed's "
            "(``freqai.model_training_parameters.ppo``, then this block)."
        ),
    ] = dataclasses.field(default_factory=dict)

    @field_validator("ppo")
    @classmethod
    def _known_ppo_arguments(cls, parameters: Mapping[str, Any]) -> Mapping[str, Any]:
        if parameters:
            accepted = ppo_argument_names()
            for key in parameters:
                if key not in accepted:
                    raise unknown_key(key, accepted)
        return parameters

    def reward_parameters(self) -> RewardParameters:
        return RewardParameters.from_mapping(self.reward)


def ppo_member_settings(
    parameters: Mapping[str, Any],
    base_ppo: Mapping[str, Any] | None = None,
    where: str = "swing.ensemble.members.ppo.parameters",
) -> PPOMemberSettings:
    """Build (and check) the member's settings; a bad key or value names its path."""
    values = dict(parameters)
    if isinstance(values.get("ppo", {}), Mapping):
        values["ppo"] = {**(base_ppo or {}), **values.get("ppo", {})}
    settings = validate(PPOMemberSettings, values, where)
    RewardParameters.from_mapping(settings.reward, where=f"{where}.reward")
    return settings

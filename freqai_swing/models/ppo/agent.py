"""The PPO agent: the seed's hyperparameters, network, seeding and device, in one place."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping
from typing import Any, Final

import gymnasium as gym
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.utils import set_random_seed

from freqai_swing.models.common.device import resolve_device
from freqai_swing.settings import SwingConfigError
from freqai_swing.settings.ppo import RESERVED_PPO_ARGUMENTS

logger = logging.getLogger(__name__)

#: The seed's PPO settings; ``freqai.model_training_parameters.ppo`` overrides any of them.
SEED_PPO_PARAMETERS: Final[dict[str, Any]] = {
    "learning_rate": 3e-4,
    "n_steps": 2048,
    "batch_size": 64,
    "n_epochs": 10,
    "gamma": 0.99,
    "gae_lambda": 0.95,
    "clip_range": 0.2,
    "ent_coef": 0.01,
    "vf_coef": 0.5,
    "max_grad_norm": 0.5,
}
#: Separate policy and value networks of two 256-unit ReLU layers each.
SEED_NET_ARCH: Final[dict[str, list[int]]] = {"pi": [256, 256], "vf": [256, 256]}


def ppo_parameters(overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """The seed's PPO settings updated by ``overrides``; an unknown key is an error naming it."""
    overrides = dict(overrides or {})
    accepted = set(inspect.signature(PPO.__init__).parameters) - {"self"} - RESERVED_PPO_ARGUMENTS
    for key in overrides:
        if key not in accepted:
            raise SwingConfigError(
                f"freqai.model_training_parameters.ppo.{key}: not a PPO setting "
                f"(known: {', '.join(sorted(accepted))})"
            )
    return {**SEED_PPO_PARAMETERS, **overrides}


def build_ppo(
    env: gym.Env | Any,
    parameters: Mapping[str, Any],
    seed: int,
    device: str = "auto",
    net_arch: Any = None,
    tensorboard_log: str | None = None,
) -> PPO:
    """A seeded PPO on ``env``: same seed, same CPU training, same actions."""
    set_random_seed(seed)
    used_device = resolve_device(device, "SwingPPO")
    policy_kwargs = {
        "net_arch": net_arch if net_arch is not None else SEED_NET_ARCH,
        "activation_fn": torch.nn.ReLU,
    }
    return PPO(
        "MlpPolicy",
        env,
        policy_kwargs=policy_kwargs,
        seed=seed,
        device=used_device,
        tensorboard_log=tensorboard_log,
        verbose=0,
        **parameters,
    )

"""PPO on the environment: seeding, the honest prediction roll, and config errors."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from freqtrade.exceptions import OperationalException

from freqai_swing.models.ppo.agent import SEED_PPO_PARAMETERS, build_ppo, ppo_parameters
from freqai_swing.models.ppo.environment import AgentRoller, SwingTradingEnv
from freqai_swing.models.ppo.freqai_model import _prepare_rl_config
from freqai_swing.models.ppo.settings import RewardParameters, load_rl_settings
from freqai_swing.settings import SwingConfigError
from tooling.bench.rl_env import environment_config, environment_inputs

WINDOW = 4
TINY = {"n_steps": 64, "batch_size": 32, "n_epochs": 2}


@pytest.fixture(scope="module")
def candles() -> tuple[pd.DataFrame, pd.DataFrame]:
    return environment_inputs("ETH/USDT", rows=600)


def make_env(features: pd.DataFrame, prices: pd.DataFrame, fee: float = 0.0015):
    config = environment_config(fee=fee)
    return SwingTradingEnv(
        df=features.reset_index(drop=True),
        prices=prices.reset_index(drop=True),
        reward_kwargs=config["freqai"]["rl_config"]["model_reward_parameters"],
        window_size=WINDOW,
        config=config,
        df_raw=features,
        seed=3,
    )


def train(candles, seed: int):
    features, prices = candles
    model = build_ppo(
        make_env(features.iloc[:400], prices.iloc[:400]), ppo_parameters(TINY), seed, "cpu"
    )
    model.learn(total_timesteps=128)
    return model


class StatePolicy:
    """A stand-in policy whose choice depends on the features *and* the account state.

    A barely trained PPO often picks one action whatever it sees, which would let a roll that
    feeds the wrong state pass; this one reacts to every input.
    """

    def predict(self, observation: np.ndarray, deterministic: bool = True):
        exposure, pnl, value = observation[-3:]
        mix = 1000 * observation[0] + 7 * exposure + 300 * pnl + 50 * value
        return int(abs(mix)) % 7, None


def roll(model, candles) -> np.ndarray:
    features, prices = candles
    return AgentRoller(model, WINDOW, 0.0015).extend(features.iloc[400:], prices["close"][400:])


@pytest.fixture(scope="module")
def agent(candles):
    return train(candles, seed=7)


def test_same_seed_gives_the_same_actions_twice_on_cpu(agent, candles) -> None:
    again = train(candles, seed=7)
    first, second = roll(agent, candles), roll(again, candles)
    np.testing.assert_array_equal(first, second)
    for name, weight in agent.policy.state_dict().items():
        assert np.array_equal(weight.numpy(), again.policy.state_dict()[name].numpy()), name


def test_seed_ppo_settings_and_network(agent) -> None:
    assert ppo_parameters(None) == SEED_PPO_PARAMETERS
    assert SEED_PPO_PARAMETERS["n_steps"] == 2048 and SEED_PPO_PARAMETERS["gamma"] == 0.99
    assert agent.gae_lambda == 0.95 and agent.ent_coef == 0.01 and agent.max_grad_norm == 0.5
    layers = [str(layer) for layer in agent.policy.mlp_extractor.policy_net]
    assert layers == [str(layer) for layer in agent.policy.mlp_extractor.value_net], (
        "separate nets of the same shape"
    )
    assert layers[0].startswith("Linear") and "out_features=256" in layers[0]
    assert layers[1] == "ReLU()" and "out_features=256" in layers[2]
    assert agent.device.type == "cpu"


def test_the_roll_gives_the_policy_the_account_the_environment_would(candles) -> None:
    """Prediction = the training environment stepped by the policy's own actions."""
    agent = StatePolicy()
    features, prices = candles
    rows = slice(400, 600)
    actions = roll(agent, candles)
    env = make_env(features.iloc[rows], prices.iloc[rows])
    observation, _ = env.reset()
    expected, done = [], False
    while True:
        action, _ = agent.predict(observation, deterministic=True)
        expected.append(int(action))
        if done:
            break
        observation, _, done, _, _ = env.step(int(action))
    assert actions[: WINDOW - 1].tolist() == [0] * (WINDOW - 1), "no full window yet: hold"
    assert actions[WINDOW - 1 :].tolist() == expected
    assert len(set(expected)) == 7, "every action occurs on these candles"


def test_the_roll_never_uses_later_candles(candles) -> None:
    agent = StatePolicy()
    features, prices = candles
    actions = roll(agent, candles)
    changed = prices.copy()
    changed.loc[changed.index[500:], "close"] *= 1.5  # a different future
    altered_features = features.copy()
    altered_features.iloc[500:] = -altered_features.iloc[500:]
    later = AgentRoller(agent, WINDOW, 0.0015).extend(
        altered_features.iloc[400:], changed["close"][400:]
    )
    np.testing.assert_array_equal(actions[:100], later[:100])
    assert not np.array_equal(actions[100:], later[100:])


def test_a_live_roller_continues_its_account_across_calls(candles) -> None:
    """Dry/live get the newest rows per candle; the carried account gives the same actions."""
    agent = StatePolicy()
    features, prices = candles
    dates = pd.date_range("2024-01-01", periods=len(features), freq="1h").to_numpy()
    whole = AgentRoller(agent, WINDOW, 0.0015).extend(
        features.iloc[400:], prices["close"][400:], dates[400:]
    )
    live = AgentRoller(agent, WINDOW, 0.0015)
    pieces = [live.extend(features.iloc[400:500], prices["close"][400:500], dates[400:500])]
    for end in range(501, 601):  # FreqAI then passes the last conv_width rows each candle
        rows = slice(end - WINDOW, end)
        pieces.append(live.extend(features.iloc[rows], prices["close"][rows], dates[rows])[-1:])
    np.testing.assert_array_equal(whole, np.concatenate(pieces))


@pytest.mark.parametrize(
    ("rl_config", "message"),
    [
        ({"action_set": "swing5"}, "freqai.rl_config.action_set: Input should be 'swing7'"),
        (
            {"model_reward_parameters": {"drawdown_penalty": -2.0}},
            "freqai.rl_config.model_reward_parameters.drawdown_penalty: Input should be greater "
            "than or equal to 0",
        ),
        (
            {"model_reward_parameters": {"holding_penalty": "0.001"}},
            "freqai.rl_config.model_reward_parameters.holding_penalty: Input should be a valid "
            "number",
        ),
        (
            {"model_reward_parameters": {"risk_penalty": 0.5}},
            "Unknown key freqai.rl_config.model_reward_parameters.risk_penalty; did you mean "
            "risk_penalty_factor?",
        ),
        (
            {"total_timesteps": 0},
            "freqai.rl_config.total_timesteps: Input should be greater than or equal to 1",
        ),
        ({"max_training_drawdown_pct": 1.5}, "freqai.rl_config.max_training_drawdown_pct"),
    ],
)
def test_bad_rl_config_is_refused_naming_the_key(rl_config: dict, message: str) -> None:
    with pytest.raises(SwingConfigError, match=re.escape(message)):
        load_rl_settings(rl_config)


def test_defaults_and_freqai_reward_keys_are_accepted() -> None:
    settings = load_rl_settings({"model_reward_parameters": {"rr": 1, "profit_aim": 0.02}})
    assert settings.reward == RewardParameters()
    assert settings.action_set == "swing7" and settings.timesteps(100) == 2500
    assert load_rl_settings({"total_timesteps": 300}).timesteps(100) == 300


def test_the_model_refuses_bad_ppo_settings_and_another_algorithm() -> None:
    with pytest.raises(SwingConfigError, match=r"model_training_parameters\.ppo\.n_step:"):
        ppo_parameters({"n_step": 128})
    config = {"freqai": {"rl_config": {"model_type": "DQN"}}}
    with pytest.raises(OperationalException, match="model_type must be 'PPO'"):
        _prepare_rl_config(config)
    with pytest.raises(OperationalException, match="freqai.rl_config: missing"):
        _prepare_rl_config({"freqai": {}})


def test_the_shipped_overlay_holds_the_seed_defaults() -> None:
    import json

    from tests.conftest import CONFIG_DIR

    freqai = json.loads((CONFIG_DIR / "rl.json").read_text())["freqai"]
    settings = load_rl_settings(freqai["rl_config"])
    assert settings.reward == RewardParameters()
    assert settings.reward.risk_penalty_factor == 0.5 and settings.reward.drawdown_penalty == 2.0
    assert settings.reward.holding_penalty == 0.001 and settings.reward.transaction_cost == 0.001
    assert freqai["rl_config"]["model_type"] == "PPO"
    assert ppo_parameters(freqai["model_training_parameters"]["ppo"]) == SEED_PPO_PARAMETERS


def test_the_device_is_cuda_when_visible_else_cpu(candles) -> None:
    from freqai_swing.models.common.device import cuda_available

    features, prices = candles
    env = make_env(features.iloc[:100], prices.iloc[:100])
    model = build_ppo(env, ppo_parameters(TINY), seed=1, device="cuda")
    assert model.device.type == ("cuda" if cuda_available() else "cpu")
    assert build_ppo(env, ppo_parameters(TINY), seed=1, device="cpu").device.type == "cpu"

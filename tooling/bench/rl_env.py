"""Benchmark: steps/s of the swing environment vs FreqAI's ``Base5ActionRLEnv``, PPO timesteps/s.

Both environments run on the same real candles and the same scaled features, with random
actions, in one process. Not a test: figures depend on the machine and its load.

    python -m tooling.bench.rl_env [--steps 20000] [--ppo-timesteps 4096] [--output FILE]
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from freqai_swing.features import basic_features

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DATADIR = REPO_ROOT / "user_data" / "data" / "binance"
WINDOW = 4
FEE = 0.0015


def environment_inputs(
    pair: str = "BTC/USDT",
    rows: int | None = 4000,
    datadir: Path = SAMPLE_DATADIR,
    start: int = 300,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Real candles of ``pair``: features min-max scaled to [-1, 1] on these rows, and prices.

    The first ``start`` candles are skipped so that every lookback is warm (no NaN features).
    """
    candles = pd.read_feather(datadir / f"{pair.replace('/', '_')}-1h.feather")
    features = basic_features(candles).iloc[start:]
    prices = candles[["open", "high", "low", "close"]].iloc[start:]
    if rows is not None:
        features, prices = features.iloc[:rows], prices.iloc[:rows]
    features = features.replace([np.inf, -np.inf], np.nan).fillna(0.0)
    low, high = features.min(), features.max()
    span = (high - low).replace(0.0, 1.0)
    scaled = (2 * (features - low) / span - 1).add_prefix("%-").reset_index(drop=True)
    return scaled.astype(np.float32), prices.reset_index(drop=True)


def environment_config(reward: dict[str, Any] | None = None, fee: float = FEE) -> dict[str, Any]:
    """The slice of a Freqtrade config that both environments read."""
    parameters = {"rr": 1, "profit_aim": 0.025, "win_reward_factor": 2, **(reward or {})}
    return {
        "stake_amount": "unlimited",
        "fee": fee,
        "timeframe": "1h",
        "freqai": {
            "rl_config": {
                "model_type": "PPO",
                "max_trade_duration_candles": 300,
                "max_training_drawdown_pct": 0.8,
                "model_reward_parameters": parameters,
            }
        },
    }


def make_environment(kind: str, features: pd.DataFrame, prices: pd.DataFrame, seed: int = 1):
    """``swing`` (this bundle) or ``freqai`` (``ReinforcementLearner.MyRLEnv``, 5 actions)."""
    if kind == "swing":
        from freqai_swing.models.ppo.environment import SwingTradingEnv as environment_class
    else:
        from freqtrade.freqai.prediction_models.ReinforcementLearner import ReinforcementLearner

        environment_class = ReinforcementLearner.MyRLEnv
    config = environment_config()
    return environment_class(
        df=features,
        prices=prices,
        reward_kwargs=config["freqai"]["rl_config"]["model_reward_parameters"],
        window_size=WINDOW,
        seed=seed,
        config=config,
        df_raw=features,
    )


def steps_per_second(environment: Any, steps: int, seed: int = 0) -> float:
    actions = np.random.default_rng(seed).integers(0, environment.action_space.n, size=steps)
    environment.reset()
    started = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = environment.step(int(action))
        if terminated or truncated:
            environment.reset()
    return steps / (time.perf_counter() - started)


def ppo_timesteps_per_second(environment: Any, timesteps: int, seed: int = 0) -> float:
    import torch

    from freqai_swing.models.ppo.agent import build_ppo, ppo_parameters

    torch.set_num_threads(1)
    model = build_ppo(environment, ppo_parameters({}), seed=seed, device="cpu")
    started = time.perf_counter()
    model.learn(total_timesteps=timesteps)
    return model.num_timesteps / (time.perf_counter() - started)


def run(steps: int, ppo_timesteps: int, repeats: int) -> dict[str, Any]:
    features, prices = environment_inputs()
    result: dict[str, Any] = {
        "candles": f"BTC/USDT 1h, {len(features)} rows, {features.shape[1]} features",
        "window": WINDOW,
        "steps": steps,
        "machine": platform.platform(),
        "python": platform.python_version(),
    }
    for kind in ("freqai", "swing"):
        environment = make_environment(kind, features, prices)
        figures = [steps_per_second(environment, steps, seed) for seed in range(repeats)]
        result[f"{kind}_env_steps_per_s"] = max(figures)
    result["speedup"] = result["swing_env_steps_per_s"] / result["freqai_env_steps_per_s"]
    result["ppo_timesteps"] = ppo_timesteps
    result["ppo_cpu_timesteps_per_s"] = ppo_timesteps_per_second(
        make_environment("swing", features, prices), ppo_timesteps
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=3, help="best of N per environment")
    parser.add_argument("--ppo-timesteps", type=int, default=4096)
    parser.add_argument(
        "--output", type=Path, default=REPO_ROOT / "user_data" / "bench" / "rl_env.json"
    )
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    result = run(arguments.steps, arguments.ppo_timesteps, arguments.repeats)
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(json.dumps(result, indent=2))
    print(f"{'measure':<36}{'value':>14}")
    for key in (
        "freqai_env_steps_per_s",
        "swing_env_steps_per_s",
        "speedup",
        "ppo_cpu_timesteps_per_s",
    ):
        print(f"{key:<36}{result[key]:>14,.1f}")
    print(f"({result['candles']}, window {WINDOW}; written to {arguments.output})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

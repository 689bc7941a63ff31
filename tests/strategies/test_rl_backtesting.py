"""A real ``freqtrade backtesting`` run of SwingRLStrategy + SwingPPO on two pairs."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import CONFIG_DIR, FreqtradeRun, overlay_factory, run_freqtrade
from tooling.offline import backtesting_arguments

pytestmark = pytest.mark.slow

PAIRS = ["ETH/USDT", "SOL/USDT"]
TIMERANGE = "20240301-20240401"
START, END = pd.Timestamp("2024-03-01", tz="UTC"), pd.Timestamp("2024-04-01", tz="UTC")
RL_CONFIGS = (CONFIG_DIR / "base.json", CONFIG_DIR / "freqai.json", CONFIG_DIR / "rl.json")
#: A tiny budget: one PPO update per window, so the run tests the plumbing, not the agent.
TINY_TRAINING = {
    "freqai": {
        "train_period_days": 45,
        "backtest_period_days": 31,
        "rl_config": {"total_timesteps": 256},
        "model_training_parameters": {"ppo": {"n_steps": 256, "batch_size": 64, "n_epochs": 2}},
    }
}


def backtest(userdir: Path, offline_overlay: Path, overlays) -> FreqtradeRun:
    return run_freqtrade(
        backtesting_arguments("SwingPPO", TIMERANGE, strategy="SwingRLStrategy"),
        userdir=userdir,
        configs=RL_CONFIGS,
        overlays=[overlays(PAIRS, **TINY_TRAINING), offline_overlay],
    )


@pytest.fixture(scope="module")
def rl_run(tmp_path_factory: pytest.TempPathFactory, offline_overlay: Path) -> FreqtradeRun:
    overlays = overlay_factory(tmp_path_factory.mktemp("overlays"))
    run = backtest(tmp_path_factory.mktemp("rl"), offline_overlay, overlays)
    assert run.returncode == 0, run.output[-4000:]
    return run


def test_ppo_trains_per_pair_and_trades_partial_positions(rl_run: FreqtradeRun) -> None:
    assert len(re.findall(r"PPO trained 256 timesteps", rl_run.output)) == len(PAIRS)
    trades = rl_run.trades()
    assert len(trades) > 0
    assert set(trades["pair"]) <= set(PAIRS)
    assert (trades["open_date"] >= START).all() and (trades["close_date"] <= END).all()
    orders = trades["orders"]
    entries = orders.map(lambda trade_orders: sum(o["ft_is_entry"] for o in trade_orders))
    exits = orders.map(lambda trade_orders: sum(not o["ft_is_entry"] for o in trade_orders))
    assert ((entries > 1) | (exits > 1)).any(), "a position increase or a partial exit"
    first_tags = {trade_orders[0].get("ft_order_tag") for trade_orders in orders}
    assert first_tags <= {"buy_small", "buy_medium", "buy_large"}, first_tags
    # every order is charged the config's fee (0.15 % per side)
    assert (trades["fee_open"] == 0.0015).all() and (trades["fee_close"] == 0.0015).all()


def test_backtest_predictions_are_whole_actions(rl_run: FreqtradeRun) -> None:
    """The saved backtest predictions hold the seven actions as whole numbers, not all one."""
    predictions = pd.concat(
        pd.read_feather(path) for path in rl_run.userdir.glob("models/*/backtesting_predictions/*")
    )
    actions = predictions["&-action"]
    assert ((actions >= 0) & (actions <= 6) & (actions == actions.round())).all()
    assert actions.nunique() > 1


def test_bad_reward_parameter_stops_the_run_with_a_clear_error(
    tmp_path: Path, offline_overlay: Path, pairs_overlay
) -> None:
    bad = pairs_overlay(
        PAIRS,
        freqai={"rl_config": {"model_reward_parameters": {"drawdown_penalty": -1}}},
    )
    run = run_freqtrade(
        backtesting_arguments("SwingPPO", TIMERANGE, strategy="SwingRLStrategy", export=False),
        userdir=tmp_path,
        configs=RL_CONFIGS,
        overlays=[bad, offline_overlay],
        timeout=300,
    )
    assert run.returncode != 0
    assert "freqai.rl_config.model_reward_parameters.drawdown_penalty" in run.output
    assert "Traceback" not in run.output


def test_with_a_test_split_the_best_evaluated_agent_trades(
    tmp_path: Path, offline_overlay: Path, pairs_overlay
) -> None:
    """FreqAI's evaluation callback path: the agent best on the held-out rows is kept."""
    training = {
        "freqai": {
            **TINY_TRAINING["freqai"],
            "rl_config": {"total_timesteps": 1024},
            "data_split_parameters": {"test_size": 0.2, "shuffle": False},
        }
    }
    run = run_freqtrade(
        backtesting_arguments("SwingPPO", TIMERANGE, strategy="SwingRLStrategy", export=False),
        userdir=tmp_path,
        configs=RL_CONFIGS,
        overlays=[pairs_overlay(PAIRS, **training), offline_overlay],
    )
    assert run.returncode == 0, run.output[-4000:]
    assert len(re.findall(r"PPO trained 1024 timesteps on 864 rows", run.output)) == len(PAIRS)
    assert len(re.findall(r"using the best agent on the test split", run.output)) == len(PAIRS)


def test_the_risk_layer_sizes_the_agents_orders(rl_run: FreqtradeRun) -> None:
    """First stakes follow the risk layer's fixed 5 % of equity until enough trades exist, and
    no position grows past its 20 % cap, whatever share of its slot the agent asked for."""
    trades = rl_run.trades().sort_values("open_date")
    assert len(trades) < 20, "still in the risk layer's fixed-stake phase"
    for trade in trades.itertuples():
        closed_before = trades.loc[trades["close_date"] <= trade.open_date, "profit_abs"].sum()
        equity = 10_000 + closed_before  # dry_run_wallet plus realised profit (at cost)
        entries = [order for order in trade.orders if order["ft_is_entry"]]
        assert entries[0]["cost"] <= 0.05 * equity * 1.005, (trade.pair, trade.open_date)
        assert sum(order["cost"] for order in entries) <= 0.20 * equity * 1.005
    asked_more = trades["orders"].map(lambda orders: orders[0]["ft_order_tag"] != "buy_small")
    assert asked_more.any(), "an order where the agent asked for more than the layer gave"

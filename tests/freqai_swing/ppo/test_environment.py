"""The 7-action environment on real BTC candles: reward terms by hand, fees, caps, check_env."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from stable_baselines3.common.env_checker import check_env

from freqai_swing.models.ppo.environment import SwingActions, SwingTradingEnv
from tooling.bench.rl_env import environment_config, environment_inputs

HOLD, BUY_S, BUY_M, BUY_L, SELL_S, SELL_M, SELL_ALL = (action.value for action in SwingActions)
ZERO = {
    "risk_penalty_factor": 0.0,
    "drawdown_penalty": 0.0,
    "holding_penalty": 0.0,
    "transaction_cost": 0.0,
}


@pytest.fixture(scope="module")
def candles() -> tuple[pd.DataFrame, pd.DataFrame]:
    return environment_inputs("BTC/USDT", rows=400)


def make_env(
    candles: tuple[pd.DataFrame, pd.DataFrame],
    fee: float = 0.0,
    start: int = 0,
    window: int = 1,
    **reward: Any,
) -> tuple[SwingTradingEnv, np.ndarray]:
    """The environment from row ``start`` on, and the closes it trades at (``close[t - 1]``)."""
    features, prices = candles
    features = features.iloc[start:].reset_index(drop=True)
    prices = prices.iloc[start:].reset_index(drop=True)
    parameters = {**ZERO, **reward}
    config = environment_config(parameters, fee=fee)
    env = SwingTradingEnv(
        df=features,
        prices=prices,
        reward_kwargs=config["freqai"]["rl_config"]["model_reward_parameters"],
        window_size=window,
        config=config,
        df_raw=features,
    )
    env.reset()
    return env, prices["close"].to_numpy()


def first_fall(candles: tuple[pd.DataFrame, pd.DataFrame]) -> int:
    """First row whose next close is lower: a real candle that makes a drawdown."""
    close = candles[1]["close"].to_numpy()
    return int(np.argmax(close[1:] < close[:-1]))


def test_return_term_alone_is_the_marked_portfolio_return_in_percent(candles) -> None:
    env, close = make_env(candles)
    _, reward, *_ = env.step(BUY_L)
    # window 1: trade at close[0], mark at close[1]; 75 % invested, 25 % cash
    assert reward == pytest.approx(100 * 0.75 * (close[1] / close[0] - 1), rel=1e-9)
    _, reward, *_ = env.step(HOLD)
    value_1 = 0.25 + 0.75 * close[1] / close[0]
    value_2 = 0.25 + 0.75 * close[2] / close[0]
    assert reward == pytest.approx(100 * (value_2 / value_1 - 1), rel=1e-9)


def test_risk_term_alone_is_the_std_of_recent_returns(candles) -> None:
    env, close = make_env(candles, risk_penalty_factor=0.5)
    _, first, *_ = env.step(BUY_L)
    r1 = 100 * 0.75 * (close[1] / close[0] - 1)
    assert first == pytest.approx(r1, rel=1e-9), "one return has no volatility yet"
    _, second, *_ = env.step(HOLD)
    value_1 = 0.25 + 0.75 * close[1] / close[0]
    r2 = 100 * ((0.25 + 0.75 * close[2] / close[0]) / value_1 - 1)
    assert second == pytest.approx(r2 - 0.5 * abs(r1 - r2) / 2, rel=1e-9)


def test_drawdown_term_alone_charges_only_a_deeper_drawdown(candles) -> None:
    start = first_fall(candles)
    env, close = make_env(candles, start=start, drawdown_penalty=2.0)
    _, reward, *_ = env.step(BUY_L)
    value = 0.25 + 0.75 * close[1] / close[0]
    assert value < 1
    assert reward == pytest.approx(100 * (value - 1) - 2.0 * 100 * (1 - value), rel=1e-9)
    env.step(SELL_ALL)  # flat: the drawdown stays where it is
    _, reward, *_ = env.step(HOLD)
    assert reward == 0.0, "no deeper drawdown, no return, no other term"


def test_holding_term_alone_costs_only_when_flat(candles) -> None:
    env, _ = make_env(candles, holding_penalty=0.001)
    _, reward, *_ = env.step(HOLD)
    assert reward == -0.001
    _, reward, *_ = env.step(SELL_S)  # a sell while flat trades nothing
    assert reward == -0.001
    _, invested, _, _, info = env.step(BUY_S)
    assert info["flat"] == 0.0 and invested == pytest.approx(info["return_pct"], rel=1e-12)


def test_transaction_cost_term_alone_scales_with_the_traded_fraction(candles) -> None:
    env, close = make_env(candles, transaction_cost=0.001)
    _, reward, _, _, info = env.step(BUY_M)
    assert info["traded_fraction"] == pytest.approx(0.5)
    assert reward == pytest.approx(100 * 0.5 * (close[1] / close[0] - 1) - 0.001 * 0.5, rel=1e-9)


def test_all_terms_together(candles) -> None:
    """Three steps with every coefficient and a fee, computed by hand."""
    fee, start = 0.001, first_fall(candles)
    env, close = make_env(
        candles,
        fee=fee,
        start=start,
        risk_penalty_factor=0.5,
        drawdown_penalty=2.0,
        holding_penalty=0.001,
        transaction_cost=0.001,
    )
    rewards = [env.step(action)[1] for action in (BUY_L, SELL_ALL, HOLD)]

    # step 1: buy to 75 % exposure after the fee: spend n with (n (1 - fee)) / (1 - n fee) = .75
    spent = 0.75 / (1 - fee + 0.75 * fee)
    cash, coins = 1 - spent, spent * (1 - fee) * close[1] / close[0]
    value_1 = cash + coins
    r1 = 100 * (value_1 - 1)
    drawdown_1 = 1 - value_1  # the peak is the start
    expected_1 = r1 - 0 - 2.0 * 100 * drawdown_1 - 0 - 0.001 * spent
    # step 2: sell everything at close[1] (fee on the notional), flat afterwards
    value_2 = cash + coins * (1 - fee)
    r2 = 100 * (value_2 / value_1 - 1)
    drawdown_2 = 1 - value_2
    expected_2 = (
        r2
        - 0.5 * np.std([r1, r2])
        - 2.0 * 100 * (drawdown_2 - drawdown_1)
        - 0.001
        - 0.001 * coins / value_1
    )
    # step 3: hold while flat: no return, no new drawdown, but the risk and the flat cost
    expected_3 = 0.0 - 0.5 * np.std([r1, r2, 0.0]) - 0.001
    assert rewards == pytest.approx([expected_1, expected_2, expected_3], rel=1e-9, abs=1e-12)


def test_a_fee_is_charged_on_every_exposure_change_and_only_then(candles) -> None:
    fee = 0.0015
    env, _ = make_env(candles, fee=fee)
    free, _ = make_env(candles, fee=0.0)
    actions = (BUY_S, HOLD, BUY_M, SELL_S, HOLD, SELL_M, BUY_L, SELL_ALL, HOLD, SELL_S)
    fees = []
    for action in actions:
        free.step(action)
        account = env.account
        value, exposure = account.value, account.exposure
        _, _, _, _, info = env.step(action)
        notional = info["traded_fraction"] * value
        changed = action not in (HOLD,) and not (action == SELL_S and exposure == 0)
        assert (notional > 0) == changed, SwingActions(action).name
        assert info["fee_paid"] == pytest.approx(fee * notional, rel=1e-12)
        fees.append(info["fee_paid"])
    # both end flat after the same trades on the same candles: only the fees differ
    assert env.account.asset == free.account.asset == 0.0
    assert sum(fee > 0 for fee in fees) == 6
    # (up to the small price moves of these candles on the smaller positions fees leave)
    assert free.account.value - env.account.value == pytest.approx(sum(fees), rel=0.05)


def test_exposure_is_capped_at_zero_and_one_hundred_percent(candles) -> None:
    env, _ = make_env(candles, fee=0.0015)
    env.step(SELL_ALL)
    assert env.account.exposure == 0.0 and env.account.cash == 1.0
    env.step(BUY_L)
    assert 0.7 < env.account.exposure < 0.8, "75 % at the trade, then marked to the next close"
    _, _, _, _, info = env.step(BUY_L)
    assert info["traded_fraction"] > 0
    assert env.account.cash == 0.0, "fully invested; 75 % + 75 % is capped at 100 %"
    _, _, _, _, info = env.step(BUY_S)
    assert info["traded_fraction"] == 0.0 and info["fee_paid"] == 0.0
    assert env.account.exposure == 1.0
    env.step(SELL_M)
    assert 0.0 < env.account.exposure < 1.0
    env.step(SELL_ALL)
    assert env.account.exposure == 0.0 and env.account.asset == 0.0
    _, _, _, _, info = env.step(SELL_M)
    assert info["traded_fraction"] == 0.0 and env.account.value == env.account.cash


def test_buy_reaches_exactly_the_target_exposure_after_the_fee(candles) -> None:
    env, close = make_env(candles, fee=0.0015)
    _, _, _, _, info = env.step(BUY_M)
    # exposure is measured at the next mark; undo the price move to read it at the trade
    coins_at_trade = env.account.asset * close[0] / close[1]
    assert coins_at_trade / (coins_at_trade + env.account.cash) == pytest.approx(0.5, rel=1e-12)


def test_observation_holds_the_window_and_the_account_state(candles) -> None:
    env, _ = make_env(candles, window=4)
    features = candles[0].to_numpy(dtype=np.float32)
    observation, _ = env.reset()
    width = features.shape[1]
    assert observation.shape == (4 * width + 3,)
    np.testing.assert_array_equal(observation[: 4 * width], features[0:4].ravel())
    assert tuple(observation[-3:]) == (0.0, 0.0, 1.0)
    observation, *_ = env.step(BUY_M)
    np.testing.assert_array_equal(observation[: 4 * width], features[1:5].ravel())
    exposure, pnl, value = observation[-3:]
    assert exposure == pytest.approx(env.account.exposure, rel=1e-6)
    assert pnl == pytest.approx(env.account.unrealized_pnl, rel=1e-5, abs=1e-7)
    assert value == pytest.approx(env.account.value, rel=1e-6)


def test_the_episode_ends_at_the_last_candle(candles) -> None:
    env, _ = make_env(candles, window=4)
    steps, done = 0, False
    while not done:
        *_, done, _, _ = env.step(HOLD)
        steps += 1
    assert steps == len(candles[0]) - 4


def test_stable_baselines3_check_env_passes(candles) -> None:
    env, _ = make_env(candles, fee=0.0015, window=4, risk_penalty_factor=0.5)
    check_env(env, warn=True, skip_render_check=True)

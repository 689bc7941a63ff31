"""The seed's 7-action swing environment on FreqAI's ``BaseEnvironment`` (gymnasium API).

Time convention (the same in training and in prediction, so the agent never sees the future):
at tick ``t`` the agent observes the scaled feature rows ``t - window .. t - 1`` and its account
marked at ``close[t - 1]``; its action trades at ``close[t - 1]`` (Freqtrade fills it at the next
candle's open, one tick later in wall time but the same price up to the gap) and the step marks
the account to ``close[t]``. Prediction rows map one to one: row ``i``'s action is the action at
tick ``i + 1``.

The account is a few floats and every per-step quantity is read from arrays computed once per
environment, so a step is scalar numpy arithmetic without pandas (see the benchmark
``python -m tooling.bench.rl_env``).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from freqtrade.freqai.RL.BaseEnvironment import BaseEnvironment
from gymnasium import spaces
from pandas import DataFrame

from freqai_swing.models.ppo.settings import RewardParameters, RLSettings, load_rl_settings

#: Observed features are clipped to this magnitude (FreqAI scales training rows to [-1, 1];
#: a prediction row far outside is an outlier whose exact size should not steer the policy).
FEATURE_BOUND: Final[float] = 5.0
STATE_BOUND: Final[float] = 100.0
STATE_FEATURES: Final[tuple[str, ...]] = ("exposure", "unrealized_pnl", "portfolio_value")


class SwingActions(Enum):
    """The seed's seven actions; the value is the action index the policy outputs."""

    hold = 0
    buy_small = 1
    buy_medium = 2
    buy_large = 3
    sell_small = 4
    sell_medium = 5
    sell_all = 6


#: Exposure added by a buy, as a share of the portfolio value (capped at 100 %).
BUY_FRACTIONS: Final[dict[int, float]] = {1: 0.25, 2: 0.5, 3: 0.75}
#: Share of the held position a sell closes.
SELL_FRACTIONS: Final[dict[int, float]] = {4: 0.25, 5: 0.5, 6: 1.0}
BUY_ACTIONS: Final[frozenset[int]] = frozenset(BUY_FRACTIONS)
SELL_ACTIONS: Final[frozenset[int]] = frozenset(SELL_FRACTIONS)


@dataclass
class Account:
    """A long-only spot account in units of its start value (1.0).

    ``asset`` is the market value of the held coins at the last mark, ``cost`` the cash paid
    (fees included) for the coins still held, so ``asset / cost - 1`` is the unrealized PnL.
    """

    cash: float = 1.0
    asset: float = 0.0
    cost: float = 0.0
    peak: float = 1.0
    drawdown: float = 0.0
    returns: deque[float] = field(default_factory=deque)
    _sum: float = 0.0
    _square_sum: float = 0.0

    def record_return(self, return_pct: float, window: int) -> float:
        """Keep the last ``window`` step returns; return their (population) std.

        Running sums make this O(1) per step (``np.std`` was half of a step's time).
        """
        returns = self.returns
        returns.append(return_pct)
        self._sum += return_pct
        self._square_sum += return_pct * return_pct
        if len(returns) > window:
            old = returns.popleft()
            self._sum -= old
            self._square_sum -= old * old
        count = len(returns)
        if count < 2:
            return 0.0
        mean = self._sum / count
        return math.sqrt(max(self._square_sum / count - mean * mean, 0.0))

    @property
    def value(self) -> float:
        return self.cash + self.asset

    @property
    def exposure(self) -> float:
        value = self.value
        return self.asset / value if value > 0 else 0.0

    @property
    def unrealized_pnl(self) -> float:
        return self.asset / self.cost - 1.0 if self.asset > 0 and self.cost > 0 else 0.0

    def state(self) -> tuple[float, float, float]:
        """The three state features the agent observes."""
        return (self.exposure, self.unrealized_pnl, self.value)


def trade(account: Account, action: int, fee: float) -> float:
    """Apply ``action`` at the current mark; return the traded notional (fee included).

    A buy spends cash so that the exposure *after* the fee is the old exposure plus the buy's
    fraction, capped at 100 % (so cash never goes negative); a sell sells that share of the
    coins. Both pay ``fee`` on the notional.
    """
    if action in BUY_FRACTIONS:
        value = account.value
        target = min(1.0, account.exposure + BUY_FRACTIONS[action])
        # (asset + n (1 - fee)) / (value - n fee) = target, solved for the cash spent n
        notional = (target * value - account.asset) / (1.0 - fee + target * fee)
        notional = min(max(notional, 0.0), account.cash)
        if notional <= 0.0:
            return 0.0
        account.cash -= notional
        account.asset += notional * (1.0 - fee)
        account.cost += notional
        if target >= 1.0:  # no rounding dust: fully invested means no cash left
            account.cash = 0.0
        return notional
    if action in SELL_FRACTIONS and account.asset > 0.0:
        share = SELL_FRACTIONS[action]
        notional = account.asset * share
        account.cash += notional * (1.0 - fee)
        if share >= 1.0:
            account.asset = 0.0
            account.cost = 0.0
        else:
            account.asset -= notional
            account.cost *= 1.0 - share
        return notional
    return 0.0


def mark(account: Account, price_ratio: float) -> float:
    """Mark the coins to a new price; return the increase of the drawdown (a fraction)."""
    account.asset *= price_ratio
    value = account.value
    account.peak = max(account.peak, value)
    drawdown = 1.0 - value / account.peak
    increase = max(0.0, drawdown - account.drawdown)
    account.drawdown = drawdown
    return increase


def step_account(
    account: Account,
    action: int,
    price_ratio: float,
    fee: float,
    reward: RewardParameters,
) -> tuple[float, dict[str, float]]:
    """One candle: trade at the last close, mark to this close, and score it.

    Returns the reward and its terms (percent units for return, volatility and drawdown).
    """
    value_before = account.value
    notional = trade(account, action, fee)
    traded_fraction = notional / value_before if value_before > 0 else 0.0
    flat = account.asset <= 0.0
    drawdown_increase = mark(account, price_ratio)
    return_pct = 100.0 * (account.value / value_before - 1.0) if value_before > 0 else 0.0
    volatility = account.record_return(return_pct, reward.volatility_window)
    terms = {
        "return_pct": return_pct,
        "volatility_pct": volatility,
        "drawdown_increase_pct": 100.0 * drawdown_increase,
        "flat": 1.0 if flat else 0.0,
        "traded_fraction": traded_fraction,
        "fee_paid": notional * fee,
    }
    value = (
        return_pct
        - reward.risk_penalty_factor * volatility
        - reward.drawdown_penalty * terms["drawdown_increase_pct"]
        - reward.holding_penalty * terms["flat"]
        - reward.transaction_cost * traded_fraction
    )
    return value, terms


def observation(
    features: npt.NDArray[np.float32], tick: int, window: int, account: Account
) -> npt.NDArray[np.float32]:
    """Rows ``tick - window .. tick - 1`` of the (clipped) features, then the account state."""
    width = features.shape[1]
    result = np.empty(window * width + len(STATE_FEATURES), dtype=np.float32)
    result[: window * width] = features[tick - window : tick].ravel()
    exposure, pnl, value = account.state()
    result[window * width :] = (
        exposure,
        min(max(pnl, -STATE_BOUND), STATE_BOUND),
        min(value, STATE_BOUND),
    )
    return result


def feature_array(features: DataFrame | npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    """Features as a clipped float32 array without NaNs (FreqAI fills them with 0 too)."""
    array = np.asarray(features, dtype=np.float32)
    return np.clip(np.nan_to_num(array, nan=0.0), -FEATURE_BOUND, FEATURE_BOUND)


def price_ratios(closes: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """``close[t] / close[t - 1]`` with index ``t`` (1.0 at 0), checked for bad prices."""
    closes = np.asarray(closes, dtype=np.float64)
    if closes.ndim != 1 or not np.all(np.isfinite(closes)) or np.any(closes <= 0):
        raise ValueError("close prices must be finite and positive")
    ratios = np.ones_like(closes)
    ratios[1:] = closes[1:] / closes[:-1]
    return ratios


class SwingTradingEnv(BaseEnvironment):
    """Partial long positions with fees, marked to market each candle, scored per step.

    Built by FreqAI with ``df`` (scaled features) and ``prices`` (a ``close`` column, raw);
    ``reward_kwargs`` is ``rl_config.model_reward_parameters``.
    """

    def __init__(self, **kwargs: Any) -> None:
        self.settings: RLSettings = load_rl_settings(kwargs["config"]["freqai"].get("rl_config"))
        super().__init__(**kwargs)
        self.actions = SwingActions

    def reset_env(
        self,
        df: DataFrame,
        prices: DataFrame,
        window_size: int,
        reward_kwargs: dict[str, Any],
        starting_point: bool = True,
    ) -> None:
        if len(df) != len(prices):
            raise ValueError(f"{len(df)} feature rows but {len(prices)} price rows")
        if window_size < 1 or len(df) < window_size + 1:
            raise ValueError(
                f"the environment needs more than window_size={window_size} rows, got {len(df)}"
            )
        self.signal_features = df
        self.prices = prices
        self.window_size = window_size
        self.starting_point = starting_point
        self.reward_parameters = RewardParameters.from_mapping(reward_kwargs or {})
        self._features = feature_array(df)
        self._ratios = price_ratios(prices["close"].to_numpy())
        self.total_features = self._features.shape[1] + len(STATE_FEATURES)
        size = window_size * self._features.shape[1] + len(STATE_FEATURES)
        self.shape = (size,)
        self.set_action_space()
        self.observation_space = spaces.Box(
            low=-STATE_BOUND, high=STATE_BOUND, shape=self.shape, dtype=np.float32
        )
        self._start_tick = window_size
        self._end_tick = len(df)
        self._current_tick = window_size
        self._done = False
        self.account = Account()
        self.total_reward = 0.0
        self.history: dict[str, list[Any]] = {}
        self.trade_history: list[dict[str, Any]] = []

    def set_action_space(self) -> None:
        self.action_space = spaces.Discrete(len(SwingActions))

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[npt.NDArray[np.float32], dict[str, Any]]:
        if seed is not None:
            self.seed(seed)
        self.reset_tensorboard_log()
        start = self.window_size
        if self.starting_point and self.rl_config.get("randomize_starting_position", False):
            last_start = max(start, (self._end_tick - 1) // 4)
            start = int(self.np_random.integers(start, last_start + 1))
        self._start_tick = start
        self._current_tick = start
        self._done = False
        self.account = Account()
        self.total_reward = 0.0
        return self._get_observation(), {}

    def _get_observation(self) -> npt.NDArray[np.float32]:
        return observation(self._features, self._current_tick, self.window_size, self.account)

    def step(
        self, action: int
    ) -> tuple[npt.NDArray[np.float32], float, bool, bool, dict[str, Any]]:
        action = int(action)
        tick = self._current_tick
        reward, terms = step_account(
            self.account, action, float(self._ratios[tick]), self.fee, self.reward_parameters
        )
        self.total_reward += reward
        self._current_tick = tick + 1
        lost = self.account.value < 1.0 - self.settings.max_training_drawdown_pct
        self._done = self._current_tick >= self._end_tick or lost
        info = {
            "tick": tick,
            "action": action,
            "exposure": self.account.exposure,
            "portfolio_value": self.account.value,
            **terms,
        }
        return self._get_observation(), float(reward), self._done, False, info

    # FreqAI's abstract hooks: every action is allowed (a sell when flat or a buy when fully
    # invested simply trades nothing), so masking has nothing to remove.
    def is_tradesignal(self, action: int) -> bool:
        return action != SwingActions.hold.value

    def _is_valid(self, action: int) -> bool:
        return True

    def calculate_reward(self, action: int) -> float:
        """The reward is computed inside :meth:`step` (see :func:`step_account`)."""
        raise NotImplementedError("SwingTradingEnv scores a step in step()")

    def get_unrealized_profit(self) -> float:
        return self.account.unrealized_pnl


class AgentRoller:
    """Walks a trained policy through candles with the environment's own simulated account.

    FreqAI's default RL prediction shows the policy each window without any account state. This
    feeds the policy the state that its own earlier actions produced on the same candles (never
    later prices), exactly as in training. In backtesting a fresh roller walks each prediction
    window; in dry/live one roller per pair keeps its account between candles (:meth:`extend`).
    """

    def __init__(
        self, policy: Any, window: int, fee: float, reward: RewardParameters | None = None
    ) -> None:
        self.policy = policy
        self.window = window
        self.fee = fee
        self.reward = reward or RewardParameters()
        self.account = Account()
        self.last_date: Any = None
        self._last_close: float | None = None
        self._pending_action = SwingActions.hold.value

    def _act(self, features: npt.NDArray[np.float32], end: int) -> int:
        obs = observation(features, end, self.window, self.account)
        action, _ = self.policy.predict(obs, deterministic=True)
        return int(action)

    def extend(
        self,
        features: DataFrame | npt.NDArray[Any],
        closes: npt.ArrayLike,
        dates: npt.ArrayLike | None = None,
    ) -> npt.NDArray[np.int64]:
        """Actions for the given rows (0 = hold where fewer than ``window`` rows precede).

        Rows at or before the last date already processed are returned as hold and not
        replayed, so a live bot calling this with overlapping candles never steps twice.
        """
        array = feature_array(features)
        closes = np.asarray(closes, dtype=np.float64)
        price_ratios(closes)  # validates
        rows = len(array)
        actions = np.zeros(rows, dtype=np.int64)
        dates_array = None if dates is None else np.asarray(dates)
        for row in range(rows):
            if dates_array is not None and self.last_date is not None:
                if dates_array[row] <= self.last_date:
                    continue
            if self._last_close is not None:
                step_account(
                    self.account,
                    self._pending_action,
                    closes[row] / self._last_close,
                    self.fee,
                    self.reward,
                )
            self._last_close = float(closes[row])
            self._pending_action = SwingActions.hold.value
            if row + 1 >= self.window:
                actions[row] = self._pending_action = self._act(array, row + 1)
            if dates_array is not None:
                self.last_date = dates_array[row]
        return actions

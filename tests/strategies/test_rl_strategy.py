"""SwingRLStrategy's action-to-order mapping on Freqtrade's own trade objects and real candles.

The end-to-end backtest shows the plumbing with a barely trained agent, whose choices are
whatever its seed gives; these tests pin every action's order on a real trade.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from freqtrade.persistence import LocalTrade, Order

from freqai_swing.models.ppo.environment import SwingActions
from strategies.SwingRLStrategy import SwingRLStrategy
from tests.conftest import CONFIG_DIR, load_candles

SLOT = 10_000 * 0.99 / 5  # dry_run_wallet x tradable_balance_ratio / max_open_trades


class Wallets:
    def get_total_stake_amount(self) -> float:
        return 10_000 * 0.99


class DataProvider:
    """The analyzed dataframe up to the last closed candle, as Freqtrade's provider returns it."""

    def __init__(self, dataframe: pd.DataFrame) -> None:
        self.dataframe = dataframe

    def get_analyzed_dataframe(self, pair: str, timeframe: str):
        return self.dataframe, self.dataframe["date"].iloc[-1]


def load_config() -> dict[str, Any]:
    config: dict[str, Any] = {}
    for name in ("base.json", "freqai.json", "rl.json"):
        for key, value in json.loads((CONFIG_DIR / name).read_text()).items():
            if isinstance(value, dict) and isinstance(config.get(key), dict):
                config[key] = {**config[key], **value}
            else:
                config[key] = value
    return config


def analyzed(action: SwingActions, do_predict: int = 1, regime: bool = True) -> pd.DataFrame:
    candles = load_candles("ETH/USDT").iloc[-48:].reset_index(drop=True)
    candles["&-action"] = float(action.value)
    candles["do_predict"] = do_predict
    candles["regime_long_ok"] = regime
    return candles


def strategy_for(dataframe: pd.DataFrame) -> SwingRLStrategy:
    strategy = SwingRLStrategy(load_config())
    strategy.dp = DataProvider(dataframe)  # type: ignore[assignment]
    strategy.wallets = Wallets()  # type: ignore[assignment]
    # the action-to-order mapping alone; the risk layer's caps on these orders are asserted in
    # the real RL backtest (tests/strategies/test_rl_backtesting.py)
    strategy.risk = replace(strategy.risk, enabled=False)
    return strategy


def open_trade(dataframe: pd.DataFrame, stake: float, entered_candles_ago: int = 5) -> LocalTrade:
    price = float(dataframe["open"].iloc[-entered_candles_ago])
    entered = dataframe["date"].iloc[-entered_candles_ago].to_pydatetime()
    trade = LocalTrade(
        id=1,
        pair="ETH/USDT",
        base_currency="ETH",
        stake_currency="USDT",
        open_rate=price,
        open_date=entered,
        stake_amount=stake,
        amount=stake / price,
        fee_open=0.0015,
        fee_close=0.0015,
        is_open=True,
        exchange="binance",
        is_short=False,
        leverage=1.0,
    )
    trade.orders.append(
        Order(
            ft_trade_id=1,
            ft_order_side="buy",
            ft_pair="ETH/USDT",
            ft_is_open=False,
            ft_amount=stake / price,
            ft_price=price,
            order_id="1",
            status="closed",
            symbol="ETH/USDT",
            order_type="limit",
            side="buy",
            price=price,
            average=price,
            amount=stake / price,
            filled=stake / price,
            remaining=0,
            cost=stake,
            order_date=entered,
            order_filled_date=entered,
            ft_order_tag="buy_small",
        )
    )
    return trade


def adjust(strategy: SwingRLStrategy, trade: LocalTrade, max_stake: float = 5000.0):
    now = strategy.dp.dataframe["date"].iloc[-1].to_pydatetime() + timedelta(hours=1)
    rate = float(strategy.dp.dataframe["close"].iloc[-1])
    return strategy.adjust_trade_position(
        trade=trade,
        current_time=now,
        current_rate=rate,
        current_profit=0.0,
        min_stake=5.0,
        max_stake=max_stake,
        current_entry_rate=rate,
        current_exit_rate=rate,
        current_entry_profit=0.0,
        current_exit_profit=0.0,
    )


@pytest.mark.parametrize(
    ("action", "share"),
    [
        (SwingActions.buy_small, 0.25),
        (SwingActions.buy_medium, 0.5),
        (SwingActions.buy_large, 0.75),
    ],
)
def test_a_buy_opens_with_its_share_of_the_pair_slot(action: SwingActions, share: float) -> None:
    strategy = strategy_for(analyzed(action))
    stake = strategy.custom_stake_amount(
        pair="ETH/USDT",
        current_time=datetime.now(UTC),
        current_rate=3000.0,
        proposed_stake=1234.0,
        min_stake=5.0,
        max_stake=5000.0,
        leverage=1.0,
        entry_tag=action.name,
        side="long",
    )
    assert stake == pytest.approx(share * SLOT)


def test_a_buy_in_a_trade_adds_its_share_capped_at_the_slot() -> None:
    dataframe = analyzed(SwingActions.buy_medium)
    strategy = strategy_for(dataframe)
    assert adjust(strategy, open_trade(dataframe, 0.25 * SLOT)) == pytest.approx(
        (0.5 * SLOT, "buy_medium")
    )
    capped = adjust(strategy, open_trade(dataframe, 0.75 * SLOT))
    assert capped == pytest.approx((0.25 * SLOT, "buy_medium")), "75 % + 50 % is capped at 100 %"
    assert adjust(strategy, open_trade(dataframe, SLOT)) is None, "fully invested: no order"


@pytest.mark.parametrize(
    ("action", "share"), [(SwingActions.sell_small, 0.25), (SwingActions.sell_medium, 0.5)]
)
def test_a_partial_sell_exits_that_share_of_the_position(
    action: SwingActions, share: float
) -> None:
    dataframe = analyzed(action)
    trade = open_trade(dataframe, 1000.0)
    stake, tag = adjust(strategy_for(dataframe), trade)
    assert tag == action.name
    # Freqtrade sells trade.amount x |stake| / trade.stake_amount coins
    assert trade.amount * -stake / trade.stake_amount == pytest.approx(share * trade.amount)


def test_hold_sell_all_and_stale_candles_place_no_adjustment() -> None:
    for action in (SwingActions.hold, SwingActions.sell_all):
        dataframe = analyzed(action)
        assert adjust(strategy_for(dataframe), open_trade(dataframe, 1000.0)) is None
    dataframe = analyzed(SwingActions.buy_small, do_predict=0)
    assert adjust(strategy_for(dataframe), open_trade(dataframe, 1000.0)) is None
    dataframe = analyzed(SwingActions.buy_small, regime=False)
    assert adjust(strategy_for(dataframe), open_trade(dataframe, 1000.0)) is None


def test_a_candle_is_traded_once() -> None:
    """The candle that opened the trade does not also add to it."""
    dataframe = analyzed(SwingActions.buy_small)
    strategy = strategy_for(dataframe)
    entered_on_this_candle = open_trade(dataframe, 1000.0, entered_candles_ago=1)
    entered_on_this_candle.orders[0].order_date += timedelta(hours=1)  # filled at the next open
    assert adjust(strategy, entered_on_this_candle) is None
    assert adjust(strategy, open_trade(dataframe, 1000.0, entered_candles_ago=2)) is not None


def test_signals_map_buys_to_entries_and_sell_all_to_the_exit() -> None:
    actions = [action.value for action in SwingActions] * 4
    dataframe = load_candles("ETH/USDT").iloc[-len(actions) :].reset_index(drop=True)
    dataframe["&-action"] = [float(action) for action in actions]
    dataframe["do_predict"] = 1
    dataframe.loc[dataframe.index[-7:], "do_predict"] = 0
    dataframe["regime_long_ok"] = True
    strategy = strategy_for(dataframe)
    entries = strategy.populate_entry_trend(dataframe.copy(), {"pair": "ETH/USDT"})
    exits = strategy.populate_exit_trend(dataframe.copy(), {"pair": "ETH/USDT"})
    valid = dataframe["do_predict"] == 1
    buys = dataframe["&-action"].isin([1, 2, 3])
    assert (entries["enter_long"] == 1).tolist() == (valid & buys).tolist()
    assert set(entries.loc[entries["enter_long"] == 1, "enter_tag"]) == {
        "buy_small",
        "buy_medium",
        "buy_large",
    }
    assert (exits["exit_long"] == 1).tolist() == (valid & (dataframe["&-action"] == 6)).tolist()

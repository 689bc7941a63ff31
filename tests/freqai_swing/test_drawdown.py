"""One drawdown for the risk rules, the operator messages, the evaluation and the rollback rule."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from freqai_swing.drawdown import drawdown_curve
from freqai_swing.lifecycle.promotion import drawdown_since
from freqai_swing.notifications import OperationsNotifier
from freqai_swing.risk import realized_drawdown
from freqai_swing.trades import ClosedTrade
from freqai_swing.walk_forward import equity_figures
from tests.conftest import load_candles

START = datetime(2024, 3, 1, tzinfo=UTC)
#: 10 000 -> 10 500 -> 10 200 -> 11 000 -> 9 800 -> 9 700: the last point is the deepest.
PROFITS = (500.0, -300.0, 800.0, -1_200.0, -100.0)


def one_trade_a_day(profits: tuple[float, ...]) -> list[ClosedTrade]:
    return [
        ClosedTrade("BTC/USDT", START + timedelta(days=day + 1), profit / 10_000, profit)
        for day, profit in enumerate(profits)
    ]


def warns(level: float, trades: list[ClosedTrade]) -> bool:
    return bool(OperationsNotifier(drawdown_warning=level).drawdown(trades, 10_000.0))


def test_the_four_drawdowns_agree_on_one_curve() -> None:
    trades = one_trade_a_day(PROFITS)
    balances = np.cumsum([10_000.0, *PROFITS])
    days = pd.date_range(START, periods=len(balances), freq="D")
    expected = (11_000 - 9_700) / 11_000
    assert drawdown_curve(balances).largest == drawdown_curve(balances).current == expected

    assert equity_figures(pd.Series(balances, index=days))["max_drawdown"] == expected
    assert drawdown_since(pd.Series(balances, index=days), days[0]) == expected
    realized = realized_drawdown(trades, 9_700.0, None)
    assert (realized.ratio, realized.peak, realized.equity) == (expected, 11_000.0, 9_700.0)
    # the notifier warns above its level only: exactly at the drawdown it is silent
    assert not warns(expected, trades)
    assert warns(float(np.nextafter(expected, 0.0)), trades)


def test_a_fall_to_exactly_a_threshold_equals_it() -> None:
    # 10 000 -> 9 500 is 5 % to the last bit, so the 5 % warning level is not crossed
    trades = one_trade_a_day((-500.0,))
    assert drawdown_curve([10_000.0, 9_500.0]).current == 0.05
    assert realized_drawdown(trades, 9_500.0, None).ratio == 0.05
    assert not warns(0.05, trades)


def test_the_running_peak_on_real_prices_and_its_edge_cases() -> None:
    closes = load_candles("BTC/USDT", "1d").set_index("date")["close"]
    curve = drawdown_curve(closes.to_numpy())
    previous = (1 - closes / closes.cummax()).to_numpy()  # the evaluation's former arithmetic
    assert curve.drawdown == pytest.approx(previous, rel=1e-12, abs=1e-15)
    assert curve.largest == pytest.approx(previous.max(), rel=1e-12) and curve.largest > 0.1

    gap = drawdown_curve([100.0, math.nan, 80.0])
    assert list(gap.peak) == [100.0, 100.0, 100.0] and math.isnan(gap.drawdown[1])
    assert gap.largest == pytest.approx(0.2)
    assert math.isnan(drawdown_curve([]).largest)
    assert drawdown_since(pd.Series(dtype=float, index=pd.DatetimeIndex([], tz="UTC")), START) == 0
    # a realized equity that never was positive has no meaningful share: infinite
    assert realized_drawdown(one_trade_a_day((-50.0,)), -60.0, None).ratio == math.inf
    assert OperationsNotifier().drawdown(one_trade_a_day(PROFITS), 0.0) == []

"""The evaluation's wallet for positions the portfolio adjusts, order by order."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from tooling.evaluate import RUNNERS, _overlay, daily_equity


def _ms(text: str) -> int:
    return int(pd.Timestamp(text, tz="UTC").timestamp() * 1000)


def _order(side: str, amount: float, cost: float, filled: str) -> dict:
    return {
        "ft_order_side": side,
        "amount": amount,
        "cost": cost,
        "order_filled_timestamp": _ms(filled),
    }


def test_an_adjusted_position_is_valued_order_by_order() -> None:
    fee = 0.001
    orders = [
        _order("buy", 10.0, 1000.0, "2024-01-01 00:00"),
        _order("buy", 5.0, 600.0, "2024-01-02 00:00"),
        _order("sell", 7.0, 700.0, "2024-01-03 00:00"),
        _order("sell", 8.0, 960.0, "2024-01-04 00:00"),
    ]
    trade = {
        "pair": "X/USDT",
        "open_date": pd.Timestamp("2024-01-01", tz="UTC"),
        "close_date": pd.Timestamp("2024-01-04", tz="UTC"),
        "amount": 8.0,
        "open_rate": 100.0,
        "fee_open": fee,
        "fee_close": fee,
        "profit_abs": 0.0,
        "orders": orders,
    }
    closes = pd.DataFrame(
        {"X/USDT": [100.0, 120.0, 100.0, 120.0, 130.0]},
        index=pd.date_range("2024-01-01", periods=5, freq="D", tz="UTC"),
    )
    span = SimpleNamespace(
        test_start=pd.Timestamp("2024-01-01", tz="UTC"),
        test_end=pd.Timestamp("2024-01-05", tz="UTC"),
    )
    equity = daily_equity(pd.DataFrame([trade]), closes, span, 10_000.0)
    cash = 10_000.0 - 1000 * (1 + fee)
    assert equity.iloc[0] == pytest.approx(cash + 10 * 100 * (1 - fee))
    cash -= 600 * (1 + fee)
    assert equity.iloc[1] == pytest.approx(cash + 15 * 120 * (1 - fee))
    cash += 700 * (1 - fee)
    assert equity.iloc[2] == pytest.approx(cash + 8 * 100 * (1 - fee))
    cash += 960 * (1 - fee)
    assert equity.iloc[3] == pytest.approx(cash) == equity.iloc[4]


def test_portfolio_runners_hold_one_slot_per_pair(tmp_path) -> None:
    request = SimpleNamespace(
        pairs=("BTC/USDT", "ETH/USDT", "SOL/USDT"),
        walk_forward=SimpleNamespace(train_days=365, test_days=30),
    )
    for name in ("trend-portfolio", "portfolio-ml"):
        path = _overlay(RUNNERS[name], request, tmp_path / f"{name}.json")  # type: ignore[arg-type]
        assert '"max_open_trades": 3' in path.read_text()
    assert RUNNERS["trend-portfolio"].freqaimodel is None
    assert "portfolio-no-ml.json" in RUNNERS["trend-portfolio"].configs

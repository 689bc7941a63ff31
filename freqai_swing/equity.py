"""A backtest's wallet, day by day: trades and candles in, daily marked-to-market equity out.

The same valuation for every runner of ``freqai-swing evaluate``, for the self-training loop's
A/B tests and for the portfolio's evidence: cash plus open positions at each day's last close,
positions the portfolio adjusted followed order by order.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from freqai_swing.walk_forward import Split


def load_trades(userdir: Path) -> pd.DataFrame:
    from freqtrade.data.btanalysis import load_backtest_data

    return load_backtest_data(userdir / "backtest_results")


def load_closes(datadir: Path, pairs: Sequence[str]) -> pd.DataFrame:
    """Hourly closes, one column per pair."""
    closes = {}
    for pair in pairs:
        candles = pd.read_feather(datadir / f"{pair.replace('/', '_')}-1h.feather")
        closes[pair] = candles.set_index("date")["close"]
    return pd.DataFrame(closes).sort_index().ffill()


def daily_equity(
    trades: pd.DataFrame, closes: pd.DataFrame, split: Split, starting_balance: float
) -> pd.Series:
    """Wallet value at each day's last close: cash plus open positions marked to market.

    A position's value is ``amount × close × (1 − exit fee)``; its cost ``amount × open rate ×
    (1 + entry fee)`` left the cash when it opened. A trade with later adjustments counts at
    its final amount when it has one entry and one exit; a position the portfolio adjusted
    is followed order by order (:func:`adjusted_trade_values`).
    """
    days = pd.date_range(split.test_start, split.test_end, freq="D", tz="UTC")
    marks = closes.reindex(closes.index.union(days)).ffill().reindex(days)
    values = np.full(len(days), starting_balance, dtype=float)
    for trade in trades.itertuples():
        if len(getattr(trade, "orders", None) or ()) > 2:
            values += adjusted_trade_values(trade, days, marks[trade.pair].to_numpy())
            continue
        opened = pd.Timestamp(trade.open_date)
        closed = pd.Timestamp(trade.close_date)
        cost = trade.amount * trade.open_rate * (1 + trade.fee_open)
        is_open = np.asarray((days > opened) & (days < closed))
        is_closed = np.asarray(days >= closed)
        held_value = trade.amount * marks[trade.pair].to_numpy() * (1 - trade.fee_close)
        values += np.where(is_open, held_value - cost, 0.0)
        values += np.where(is_closed, trade.profit_abs, 0.0)
    return pd.Series(values, index=days)


def adjusted_trade_values(trade: Any, days: pd.DatetimeIndex, marks: np.ndarray) -> np.ndarray:
    """A position's effect on the wallet each day, from its filled orders: cash paid for each
    buy (with its fee), cash received for each sell (less its fee), and what is still held at
    the day's close less the exit fee."""
    effect = np.zeros(len(days))
    held = np.zeros(len(days))
    for order in trade.orders:
        filled = pd.Timestamp(order["order_filled_timestamp"], unit="ms", tz="UTC")
        after = np.asarray(days >= filled)
        cost = float(order["cost"])
        if order["ft_order_side"] == "buy":
            effect -= np.where(after, cost * (1 + trade.fee_open), 0.0)
            held += np.where(after, float(order["amount"]), 0.0)
        else:
            effect += np.where(after, cost * (1 - trade.fee_close), 0.0)
            held -= np.where(after, float(order["amount"]), 0.0)
    values: npt.NDArray[Any] = effect + np.clip(held, 0.0, None) * np.nan_to_num(marks) * (
        1 - trade.fee_close
    )
    return values


def chain_equity(curves: Sequence[pd.Series]) -> pd.Series:
    """Back-to-back split equity curves as one, each split compounding on the last."""
    level = 1.0
    parts: list[pd.Series] = []
    for curve in curves:
        normalised = curve / curve.iloc[0] * level
        parts.append(normalised if not parts else normalised.iloc[1:])
        level = float(normalised.iloc[-1])
    return pd.concat(parts)

"""The bundle's operator messages: each event said once, from real-price trades."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pandas as pd

from freqai_swing.notifications import OperationsNotifier
from freqai_swing.trades import ClosedTrade
from tests.conftest import load_candles


def daily_long_trades(pair: str, start: str, end: str, stake: float) -> list[ClosedTrade]:
    """One-day long trades at real closes (no fee): the equity path of a simple holder."""
    closes = load_candles(pair).set_index("date")["close"]
    closes = closes[
        (closes.index >= pd.Timestamp(start, tz="UTC"))
        & (closes.index < pd.Timestamp(end, tz="UTC"))
    ].iloc[::24]
    return [
        ClosedTrade(pair, closed.to_pydatetime(), close / open_ - 1, stake * (close / open_ - 1))
        for (_, open_), (closed, close) in zip(
            closes.iloc[:-1].items(), closes.iloc[1:].items(), strict=True
        )
    ]


def test_drawdown_warning_once_above_five_percent_and_rearmed() -> None:
    # SOL fell about a third from mid-March to mid-April 2024: a full-stake holder is in a
    # drawdown well beyond 5 %.
    falling = daily_long_trades("SOL/USDT", "2024-03-18", "2024-04-20", 10_000.0)
    notifier = OperationsNotifier()
    first = notifier.drawdown(falling, 10_000.0)
    assert len(first) == 1 and "drawdown warning" in first[0]
    assert notifier.drawdown(falling, 10_000.0) == [], "said once"
    # A small stake on the same trades stays within the level: re-armed.
    small = [replace(t, profit_abs=t.profit_abs / 100) for t in falling]
    assert notifier.drawdown(small, 10_000.0) == []
    assert notifier.drawdown(falling, 10_000.0) != [], "warned again after recovering"


def test_retrained_names_each_new_model_once() -> None:
    notifier = OperationsNotifier()
    stamp = datetime(2024, 2, 20, 3, tzinfo=UTC).timestamp()
    first = notifier.retrained({"ETH/USDT": stamp, "SOL/USDT": 0})
    assert first == ["freqai-swing: ETH/USDT model trained (data up to 2024-02-20 03:00 UTC)"]
    assert notifier.retrained({"ETH/USDT": stamp}) == []
    again = notifier.retrained({"ETH/USDT": stamp + 86_400})
    assert again and "retrained" in again[0]


def test_daily_summary_of_the_day_that_ended() -> None:
    trades = daily_long_trades("BTC/USDT", "2024-02-01", "2024-02-05", 1000.0)
    notifier = OperationsNotifier()
    assert notifier.daily_summary(datetime(2024, 2, 3, 5, tzinfo=UTC), trades) == []
    assert notifier.daily_summary(datetime(2024, 2, 3, 23, tzinfo=UTC), trades) == []
    summary = notifier.daily_summary(datetime(2024, 2, 4, 0, 5, tzinfo=UTC), trades)
    day = [t for t in trades if t.close_date.date().isoformat() == "2024-02-03"]
    assert len(summary) == 1 and "2024-02-03" in summary[0]
    assert f"{len(day)} closed trade(s)" in summary[0]
    assert f"{sum(t.profit_abs for t in day):+.2f}" in summary[0]


def test_selftrain_announcements_are_said_once_across_restarts(tmp_path) -> None:
    import json

    from freqai_swing.notifications import SELFTRAIN_QUEUE, selftrain_announcements

    assert selftrain_announcements(tmp_path) == []
    queue = tmp_path / SELFTRAIN_QUEUE
    queue.write_text(json.dumps({"message": "promoted a"}) + "\n")
    assert selftrain_announcements(tmp_path) == ["promoted a"]
    assert selftrain_announcements(tmp_path) == []
    with queue.open("a") as stream:
        stream.write(json.dumps({"message": "rollback to b"}) + "\n")
    # a reloaded bot (new strategy object) reads the same count file
    assert selftrain_announcements(tmp_path) == ["rollback to b"]

"""Build a dry-run-shaped trade database with Freqtrade's own persistence layer.

Run in a subprocess (``python -m tests.freqai_swing.warehouse.make_trade_db``) because
``init_db`` binds Freqtrade's models process-wide. The trades are the real trades of a backtest
result, written as ``freqtrade trade`` would store them (``Trade``/``Order`` rows).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from freqtrade.data.btanalysis import load_backtest_stats
from freqtrade.persistence import Trade, init_db


def backtest_trades(result: Path) -> list[dict]:
    stats = load_backtest_stats(result)
    (strategy,) = stats["strategy"].values()
    trades = sorted(strategy["trades"], key=lambda trade: (trade["open_timestamp"], trade["pair"]))
    return trades


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("result", type=Path, help="backtest result zip")
    parser.add_argument("database", type=Path)
    parser.add_argument("--first", type=int, default=None, help="only the first N trades")
    parser.add_argument("--open-last", action="store_true", help="leave the last one open")
    args = parser.parse_args()
    trades = backtest_trades(args.result)[: args.first]
    init_db(f"sqlite:///{args.database}")
    known = {trade.id for trade in Trade.get_trades_proxy()}
    for number, data in enumerate(trades, start=1):
        record = dict(
            data,
            trade_id=number,
            strategy="SwingClassifierStrategy",
            exchange="binance",
            timeframe=60,
            quote_currency="USDT",
        )
        for order in record["orders"]:
            order["status"] = "closed"
        if args.open_last and number == len(trades):
            record.update(
                is_open=True,
                close_timestamp=None,
                close_rate=None,
                profit_ratio=None,
                profit_abs=None,
                exit_reason=None,
            )
            record["orders"] = [order for order in record["orders"] if order["ft_is_entry"]]
        if number in known:
            existing = Trade.get_trades_proxy(is_open=None)
            stale = next(trade for trade in existing if trade.id == number)
            if stale.is_open and not record["is_open"]:
                Trade.session.delete(stale)
                Trade.commit()
            else:
                continue
        Trade.session.add(Trade.from_json(json.dumps(record)))
    Trade.commit()
    count = len(Trade.get_trades_proxy())
    # Close like a stopping bot: SQLite folds the write-ahead log into the file, so a plain copy
    # of the file holds every trade.
    engine = Trade.session.get_bind()
    Trade.session.remove()
    engine.dispose()
    print(json.dumps({"trades": count}))


if __name__ == "__main__":
    main()

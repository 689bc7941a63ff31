"""Trade databases of dry-run and live bots, opened read-only so a running bot is undisturbed."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pandas as pd

from freqai_swing.warehouse.errors import WarehouseInputError

#: Columns of freqtrade's ``trades`` table the export reads; older schemas lack some of them.
TRADE_COLUMNS: Final = (
    "id", "exchange", "pair", "is_open", "is_short", "leverage", "open_date", "close_date",
    "open_rate", "close_rate", "amount", "stake_amount", "fee_open", "fee_close",
    "close_profit_abs", "close_profit", "enter_tag", "exit_reason", "strategy", "timeframe",
)  # fmt: skip
ORDER_COLUMNS: Final = (
    "id", "ft_trade_id", "ft_pair", "ft_order_side", "side", "status", "order_type", "amount",
    "filled", "average", "price", "cost", "order_filled_date", "ft_order_tag",
)  # fmt: skip
MODES: Final = ("paper", "live")


@dataclass(frozen=True)
class TradeDbWatermark:
    """What an earlier export read: the highest trade id and the trades then still open."""

    max_id: int = 0
    open_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class TradeDbTables:
    trades: pd.DataFrame
    orders: pd.DataFrame
    watermark: TradeDbWatermark


@contextmanager
def open_read_only(path: Path, timeout: float) -> Iterator[sqlite3.Connection]:
    """A ``mode=ro`` connection: never writes or creates the file; waits ``timeout`` on locks."""
    if not path.is_file():
        raise WarehouseInputError(path, "trade database does not exist")
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout)
    try:
        yield connection
    finally:
        connection.close()


def _columns(connection: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}  # noqa: S608


def _check_schema(path: Path, connection: sqlite3.Connection) -> None:
    for table, wanted in (("trades", TRADE_COLUMNS), ("orders", ORDER_COLUMNS)):
        present = _columns(connection, table)
        if not present:
            raise WarehouseInputError(path, f"no '{table}' table: not a freqtrade trade database")
        missing = [column for column in wanted if column not in present]
        if missing:
            raise WarehouseInputError(
                path,
                f"'{table}' lacks columns {missing}: an older freqtrade schema. Start this "
                "freqtrade version on the database once (it migrates it), then export again.",
            )


def _utc_naive(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True, format="ISO8601").dt.tz_localize(None)


def read_trade_db(
    path: Path, mode: str, since: TradeDbWatermark, lock_timeout: float = 5.0
) -> TradeDbTables:
    """Trades newer than the watermark plus those open at the last export, with their orders."""
    if mode not in MODES:
        raise ValueError(f"trade database mode must be one of {MODES}, got {mode!r}")
    source = f"{mode}:{path.resolve()}"
    try:
        with open_read_only(path, lock_timeout) as connection:
            _check_schema(path, connection)
            wanted = ",".join(str(int(trade_id)) for trade_id in (since.open_ids or (-1,)))
            condition = f"id > {int(since.max_id)} OR id IN ({wanted})"
            trades = pd.read_sql_query(
                f"SELECT {', '.join(TRADE_COLUMNS)} FROM trades WHERE {condition}",  # noqa: S608
                connection,
            )
            trade_ids = ",".join(str(int(i)) for i in trades["id"]) or "-1"
            orders = pd.read_sql_query(
                f"SELECT {', '.join(ORDER_COLUMNS)} FROM orders "  # noqa: S608
                f"WHERE ft_trade_id IN ({trade_ids}) ORDER BY ft_trade_id, id",
                connection,
            )
    except sqlite3.DatabaseError as error:
        raise WarehouseInputError(path, f"cannot read trade database ({error})") from None
    open_ids = tuple(int(i) for i in trades.loc[trades["is_open"].astype(bool), "id"])
    still_open = tuple(i for i in since.open_ids if i not in set(trades["id"]))
    watermark = TradeDbWatermark(
        max(since.max_id, int(trades["id"].max()) if len(trades) else 0),
        tuple(sorted(set(open_ids) | set(still_open))),
    )
    trade_frame = _trade_frame(trades, source, mode)
    return TradeDbTables(trade_frame, _order_frame(orders, trade_frame, source), watermark)


def signal_dates(open_dates: pd.Series, timeframe: pd.Series | pd.Timedelta) -> pd.Series:
    """The candle whose close gave the entry signal: the last closed candle at the open."""
    if isinstance(timeframe, pd.Timedelta):
        floored = open_dates.dt.floor(timeframe)
    else:
        period = timeframe.dt.total_seconds().astype("int64")
        seconds = open_dates.astype("datetime64[s]").astype("int64")
        floored = pd.to_datetime(seconds // period * period, unit="s")
    return floored - timeframe


def _trade_frame(trades: pd.DataFrame, source: str, mode: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": source,
            "trade_id": trades["id"].astype("int64"),
            "mode": mode,
            "strategy": trades["strategy"],
            "exchange": trades["exchange"],
            "pair": trades["pair"],
            "is_open": trades["is_open"].astype(bool),
            "is_short": trades["is_short"].astype(bool),
            "leverage": trades["leverage"],
            "open_date": _utc_naive(trades["open_date"]),
            "close_date": _utc_naive(trades["close_date"]),
            "signal_date": signal_dates(
                _utc_naive(trades["open_date"]),
                pd.to_timedelta(trades["timeframe"].fillna(60).astype("int64"), unit="min"),
            ),
            "open_rate": trades["open_rate"],
            "close_rate": trades["close_rate"],
            "amount": trades["amount"],
            "stake_amount": trades["stake_amount"],
            "fee_open": trades["fee_open"],
            "fee_close": trades["fee_close"],
            "profit_abs": trades["close_profit_abs"],
            "profit_ratio": trades["close_profit"],
            "enter_tag": trades["enter_tag"],
            "exit_reason": trades["exit_reason"],
            "identifier": None,
        }
    )


def _order_frame(orders: pd.DataFrame, trades: pd.DataFrame, source: str) -> pd.DataFrame:
    short = orders["ft_trade_id"].map(trades.set_index("trade_id")["is_short"]).fillna(False)
    entry_side = short.map({True: "sell", False: "buy"})
    return pd.DataFrame(
        {
            "source": source,
            "trade_id": orders["ft_trade_id"].astype("int64"),
            "order_index": orders.groupby("ft_trade_id").cumcount().astype("int32"),
            "pair": orders["ft_pair"],
            "side": orders["ft_order_side"],
            "is_entry": orders["ft_order_side"] == entry_side,
            "status": orders["status"],
            "order_type": orders["order_type"],
            "amount": orders["amount"],
            "filled": orders["filled"],
            "price": orders["average"].fillna(orders["price"]),
            "cost": orders["cost"],
            "filled_at": _utc_naive(orders["order_filled_date"]),
            "tag": orders["ft_order_tag"],
        }
    )

"""Backtest result zips (``user_data/backtest_results/backtest-result-*.zip``) as tables."""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from freqtrade.data.btanalysis import load_backtest_metadata
from freqtrade.exceptions import OperationalException
from freqtrade.exchange import timeframe_to_seconds

from freqai_swing.warehouse.errors import WarehouseInputError
from freqai_swing.warehouse.label_settings import label_columns
from freqai_swing.warehouse.trade_db import signal_dates


@dataclass(frozen=True)
class BacktestTables:
    runs: pd.DataFrame
    trades: pd.DataFrame
    orders: pd.DataFrame


def find_backtest_results(folder: Path) -> list[Path]:
    """The result zips of a ``backtest_results`` folder, oldest first (names carry the time)."""
    if not folder.is_dir():
        raise WarehouseInputError(folder, "backtest results folder does not exist")
    return sorted(folder.glob("backtest-result-*.zip"))


def load_result(path: Path) -> dict[str, Any]:
    """The result JSON inside the zip, with a clear error for anything unreadable."""
    try:
        with zipfile.ZipFile(path) as archive:
            name = path.with_suffix(".json").name
            if name not in archive.namelist():
                raise WarehouseInputError(path, f"result zip lacks {name}")
            data = json.loads(archive.read(name))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, zipfile.LargeZipFile) as error:
        if isinstance(error, WarehouseInputError):
            raise
        raise WarehouseInputError(
            path, f"corrupt or unreadable backtest result zip ({error})"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("strategy"), dict):
        raise WarehouseInputError(path, "not a freqtrade backtest result (no 'strategy' block)")
    return data


def _metadata(path: Path) -> dict[str, Any]:
    """Freqtrade's ``.meta.json`` beside the zip (run ids); empty when it is missing."""
    try:
        metadata = load_backtest_metadata(path)
    except OperationalException as error:
        raise WarehouseInputError(path.with_suffix(".meta.json"), f"unreadable ({error})") from None
    return metadata if isinstance(metadata, dict) else {}


def _label_settings(path: Path) -> dict[str, Any]:
    """The run's label columns, from the config stored beside the result."""
    name = f"{path.stem}_config.json"
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read(name)) if name in archive.namelist() else {}
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise WarehouseInputError(path, f"unreadable config in result zip ({error})") from None
    return label_columns(config if isinstance(config, dict) else {})


def source_name(path: Path, strategy: str) -> str:
    """``backtest:<file stem>:<strategy>``: stable when the results folder moves."""
    return f"backtest:{path.stem}:{strategy}"


def _timestamp(value: Any) -> pd.Timestamp | None:
    if value is None or value == "":
        return None
    stamp = pd.Timestamp(value)
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp


def read_backtest(path: Path) -> BacktestTables:
    """Runs, trades and orders of every strategy in one result zip (bulk, via DataFrames)."""
    data = load_result(path)
    labels = _label_settings(path)
    metadata = _metadata(path)
    runs, trades, orders = [], [], []
    for strategy, stats in data["strategy"].items():
        source = source_name(path, strategy)
        try:
            run_id = metadata.get(strategy, {}).get("run_id")
            runs.append(_run_row(source, strategy, stats) | labels | {"run_id": run_id})
            frame = pd.DataFrame(stats.get("trades", []))
        except (KeyError, TypeError, ValueError) as error:
            raise WarehouseInputError(
                path, f"strategy {strategy}: unexpected result ({error})"
            ) from None
        if frame.empty:
            continue
        frame = _trade_frame(frame, source, strategy, stats.get("freqai_identifier"))
        timeframe = pd.Timedelta(seconds=timeframe_to_seconds(stats.get("timeframe") or "1h"))
        frame.insert(11, "signal_date", signal_dates(frame["open_date"], timeframe))
        trades.append(frame.drop(columns=["orders"]))
        orders.append(_order_frame(frame))
    return BacktestTables(
        pd.DataFrame(runs),
        pd.concat(trades, ignore_index=True) if trades else pd.DataFrame(),
        pd.concat(orders, ignore_index=True) if orders else pd.DataFrame(),
    )


def _run_row(source: str, strategy: str, stats: dict[str, Any]) -> dict[str, Any]:
    return {
        "source": source,
        "strategy": strategy,
        "run_id": None,
        "freqaimodel": stats.get("freqaimodel"),
        "identifier": stats.get("freqai_identifier"),
        "timeframe": stats.get("timeframe"),
        "backtest_start": _timestamp(stats.get("backtest_start")),
        "backtest_end": _timestamp(stats.get("backtest_end")),
        "starting_balance": stats.get("starting_balance"),
        "final_balance": stats.get("final_balance"),
        "total_trades": stats.get("total_trades"),
        "profit_total": stats.get("profit_total"),
        "sharpe": stats.get("sharpe"),
        "sortino": stats.get("sortino"),
        "calmar": stats.get("calmar"),
        "max_drawdown": stats.get("max_drawdown_account"),
        "win_rate": stats.get("winrate"),
    }


def _trade_frame(
    frame: pd.DataFrame, source: str, strategy: str, identifier: str | None
) -> pd.DataFrame:
    frame = frame.assign(
        open_date=pd.to_datetime(frame["open_date"], utc=True).dt.tz_localize(None),
        close_date=pd.to_datetime(frame["close_date"], utc=True).dt.tz_localize(None),
    )
    # Backtest trades have no ids: number them in a stable order (open time, pair).
    frame = frame.sort_values(["open_date", "pair"], kind="stable").reset_index(drop=True)
    out = pd.DataFrame(
        {
            "source": source,
            "trade_id": frame.index.to_numpy() + 1,
            "mode": "backtest",
            "strategy": strategy,
            "exchange": None,
            "pair": frame["pair"],
            "is_open": frame.get("is_open", False),
            "is_short": frame.get("is_short", False),
            "leverage": frame.get("leverage", 1.0),
            "open_date": frame["open_date"],
            "close_date": frame["close_date"],
            "open_rate": frame["open_rate"],
            "close_rate": frame["close_rate"],
            "amount": frame["amount"],
            "stake_amount": frame["stake_amount"],
            "fee_open": frame["fee_open"],
            "fee_close": frame["fee_close"],
            "profit_abs": frame["profit_abs"],
            "profit_ratio": frame["profit_ratio"],
            "enter_tag": frame.get("enter_tag"),
            "exit_reason": frame.get("exit_reason"),
            "identifier": identifier,
            "orders": frame.get("orders"),
        }
    )
    return out


def _order_frame(trades: pd.DataFrame) -> pd.DataFrame:
    exploded = trades[["source", "trade_id", "pair", "orders"]].explode("orders", ignore_index=True)
    exploded = exploded[exploded["orders"].notna()]
    if exploded.empty:
        return pd.DataFrame()
    details = pd.json_normalize(exploded["orders"].tolist())
    filled = details.get("order_filled_timestamp")
    return pd.DataFrame(
        {
            "source": exploded["source"].to_numpy(),
            "trade_id": exploded["trade_id"].to_numpy(),
            "order_index": exploded.groupby("trade_id").cumcount().to_numpy(),
            "pair": exploded["pair"].to_numpy(),
            "side": details.get("ft_order_side"),
            "is_entry": details.get("ft_is_entry"),
            "status": "closed",
            "order_type": details.get("order_type"),
            "amount": details.get("amount"),
            "filled": details.get("amount"),
            "price": details.get("safe_price"),
            "cost": details.get("cost"),
            "filled_at": None
            if filled is None
            else pd.to_datetime(filled, unit="ms", utc=True).dt.tz_localize(None),
            "tag": details.get("ft_order_tag"),
        }
    )

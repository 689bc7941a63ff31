"""Freqtrade's candle files (``<PAIR>-<timeframe>[-<candle type>].feather``) as Arrow tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.feather as feather

from freqai_swing.warehouse.errors import WarehouseInputError

OHLCV_COLUMNS = ("date", "open", "high", "low", "close", "volume")


@dataclass(frozen=True)
class CandleFile:
    path: Path
    exchange: str
    pair: str
    timeframe: str
    candle_type: str


def parse_candle_file(path: Path, exchange: str) -> CandleFile | None:
    """Pair, timeframe and candle type from Freqtrade's file name; None for other files."""
    if path.suffix != ".feather":
        return None
    stem_parts = path.stem.split("-")
    if len(stem_parts) not in (2, 3):
        return None
    symbol, timeframe = stem_parts[0], stem_parts[1]
    candle_type = stem_parts[2] if len(stem_parts) == 3 else "spot"
    pieces = symbol.split("_")
    if len(pieces) == 2:
        pair = f"{pieces[0]}/{pieces[1]}"
    elif len(pieces) == 3:
        pair = f"{pieces[0]}/{pieces[1]}:{pieces[2]}"
    else:
        return None
    return CandleFile(path, exchange, pair, timeframe, candle_type)


def find_candle_files(datadir: Path) -> list[CandleFile]:
    """Every Freqtrade candle file under ``datadir`` (the exchange is the folder's name)."""
    if not datadir.is_dir():
        raise WarehouseInputError(datadir, "candle folder does not exist")
    exchange = datadir.name
    found = [parse_candle_file(path, exchange) for path in sorted(datadir.rglob("*.feather"))]
    return [candle_file for candle_file in found if candle_file is not None]


def read_candles(candle_file: CandleFile, after: str | None) -> pa.Table:
    """The file's candles newer than ``after`` (ISO UTC) as one Arrow table (UTC, naive)."""
    try:
        table = feather.read_table(candle_file.path, columns=list(OHLCV_COLUMNS))
    except (OSError, pa.ArrowInvalid, KeyError) as error:
        raise WarehouseInputError(
            candle_file.path, f"not a readable candle file ({error})"
        ) from None
    date = table["date"]
    if pa.types.is_timestamp(date.type) and date.type.tz is not None:
        date = date.cast(pa.timestamp(date.type.unit))  # same instants, UTC wall clock
    table = table.set_column(0, "date", date.cast(pa.timestamp("us")))
    if pc.count_distinct(table["date"]).as_py() != table.num_rows:
        raise WarehouseInputError(candle_file.path, "repeated candle dates (not a freqtrade file?)")
    if after is not None:
        table = table.filter(
            pc.greater(table["date"], pa.scalar(_parse(after), pa.timestamp("us")))
        )
    return table


def series_key(candle_file: CandleFile) -> tuple[str, str, str, str]:
    """The file's series in ``candle_series``: exchange, pair, timeframe, candle type."""
    return candle_file.exchange, candle_file.pair, candle_file.timeframe, candle_file.candle_type


def with_series_id(table: pa.Table, series_id: int) -> pa.Table:
    """The candles with their series id in front (no per-row Python work)."""
    ids = pa.array(np.full(table.num_rows, series_id, dtype=np.int32))
    return table.add_column(0, "series_id", ids)


def last_date(table: pa.Table) -> str | None:
    """The newest candle (ISO, UTC), the file's watermark; None for no rows."""
    newest = pc.max(table["date"]).as_py()
    return None if newest is None else newest.isoformat()


def _parse(timestamp: str) -> datetime:

    return datetime.fromisoformat(timestamp).replace(tzinfo=None)

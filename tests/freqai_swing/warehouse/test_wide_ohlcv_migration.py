"""A warehouse written before ``ohlcv`` became a view keeps every candle on the next export."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from freqai_swing.warehouse import ExportSources, export_warehouse
from freqai_swing.warehouse.schema import WIDE_OHLCV
from tests.conftest import SAMPLE_DATADIR


def test_wide_ohlcv_rows_move_into_the_series_tables_without_loss(tmp_path: Path) -> None:
    candles = pd.read_feather(SAMPLE_DATADIR / "SOL_USDT-1h.feather")
    candles["date"] = candles["date"].dt.tz_convert("UTC").dt.tz_localize(None)
    warehouse = tmp_path / "warehouse.duckdb"
    old = candles.iloc[:500]
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(WIDE_OHLCV)
        connection.register("old", old)
        connection.execute(
            "INSERT INTO ohlcv SELECT 'binance', 'SOL/USDT', '1h', 'spot', date, open, high, "
            "low, close, volume FROM old"
        )
    datadir = tmp_path / "binance"
    datadir.mkdir()
    candles.to_feather(datadir / "SOL_USDT-1h.feather")

    summary = export_warehouse(warehouse, ExportSources(datadir=datadir))

    with duckdb.connect(str(warehouse), read_only=True) as connection:
        kind = connection.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_name = 'ohlcv'"
        ).fetchall()
        rows = connection.execute("SELECT * FROM ohlcv ORDER BY date").df()
        series = connection.execute("SELECT * FROM candle_series").fetchall()
    assert kind == [("VIEW",)]
    assert series == [(1, "binance", "SOL/USDT", "1h", "spot")]
    # every candle once: the 500 old rows kept, the file's others added
    assert len(rows) == len(candles) and rows["date"].is_unique
    assert summary.rows_added["ohlcv"] == len(candles) - len(old)
    pd.testing.assert_frame_equal(
        rows[["date", "open", "high", "low", "close", "volume"]].reset_index(drop=True),
        candles[["date", "open", "high", "low", "close", "volume"]],
        check_dtype=False,
    )

"""Benchmark (not a test): candle export throughput against DuckDB reading the same files.

``python -m tooling.bench.export`` exports every bundled candle file into a fresh warehouse
(``export_warehouse`` with the candles only: series ids, the anti-join on the key, watermarks,
atomic copy and rename) and, in the same run, lets DuckDB load the same feather files straight
from an Arrow scan into a table without keys, and (for reference) DuckDB loading them into one
wide table with the four key columns on every row. Each runs ``--repeat`` times; the best
time counts. Goal: the export at 0.5x DuckDB's own (direct) speed or better.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.feather as feather

from freqai_swing.warehouse import ExportSources, candles, export_warehouse
from freqai_swing.warehouse.schema import WIDE_OHLCV
from tooling.offline import DEFAULT_DATADIR

GOAL = 0.5


def duckdb_direct(files: list[Path], database: Path) -> tuple[int, float]:
    """DuckDB's own load: Arrow scan of the feather files into one table."""
    started = time.perf_counter()
    connection = duckdb.connect(str(database))
    table = pa.concat_tables(feather.read_table(path) for path in files)
    connection.register("candles", table)
    connection.execute("CREATE TABLE ohlcv AS SELECT * FROM candles")
    rows = connection.execute("SELECT count(*) FROM ohlcv").fetchall()[0][0]
    connection.execute("CHECKPOINT")
    connection.close()
    return int(rows), time.perf_counter() - started


def duckdb_keyed(files: list[Path], database: Path) -> tuple[int, float]:
    """DuckDB loading the same files into one wide keyed table (key columns added in SQL per
    file): the cost of the layout the warehouse's ``candle_series`` + ``candles`` replaced."""
    started = time.perf_counter()
    connection = duckdb.connect(str(database))
    connection.execute(WIDE_OHLCV)
    connection.execute("BEGIN TRANSACTION")
    for candle_file in candles.find_candle_files(files[0].parent):
        connection.register("candles", feather.read_table(candle_file.path))
        connection.execute(
            "INSERT INTO ohlcv SELECT ?, ?, ?, ?, date::TIMESTAMP, open, high, low, close, volume "
            "FROM candles",
            [
                candle_file.exchange,
                candle_file.pair,
                candle_file.timeframe,
                candle_file.candle_type,
            ],
        )
        connection.unregister("candles")
    connection.execute("COMMIT")
    rows = connection.execute("SELECT count(*) FROM ohlcv").fetchall()[0][0]
    connection.execute("CHECKPOINT")
    connection.close()
    return int(rows), time.perf_counter() - started


def export(datadir: Path, warehouse: Path) -> tuple[int, float]:
    started = time.perf_counter()
    summary = export_warehouse(warehouse, ExportSources(datadir=datadir))
    return summary.rows_read["candles"], time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datadir", type=Path, default=DEFAULT_DATADIR)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    files = sorted(args.datadir.glob("*.feather"))
    results: dict[str, list[tuple[int, float]]] = {"export": [], "duckdb": [], "duckdb_keyed": []}
    with tempfile.TemporaryDirectory() as folder:
        for attempt in range(args.repeat):
            base = Path(folder) / str(attempt)
            base.mkdir()
            results["duckdb"].append(duckdb_direct(files, base / "direct.duckdb"))
            results["duckdb_keyed"].append(duckdb_keyed(files, base / "keyed.duckdb"))
            results["export"].append(export(args.datadir, base / "warehouse.duckdb"))
    figures = {}
    for name, runs in results.items():
        rows, seconds = min(runs, key=lambda run: run[1])
        figures[name] = {
            "rows": rows,
            "seconds": round(seconds, 4),
            "rows_per_second": round(rows / seconds),
        }
    ratio = figures["export"]["rows_per_second"] / figures["duckdb"]["rows_per_second"]
    keyed = figures["export"]["rows_per_second"] / figures["duckdb_keyed"]["rows_per_second"]
    report = {
        "files": len(files),
        "repeat": args.repeat,
        **figures,
        "export_vs_duckdb": round(ratio, 3),
        "export_vs_duckdb_keyed": round(keyed, 3),
        "goal": GOAL,
        "goal_met": ratio >= GOAL,
    }
    print(f"{'':12} {'rows':>8} {'seconds':>8} {'rows/s':>10}")
    for name in ("export", "duckdb", "duckdb_keyed"):
        row = figures[name]
        print(f"{name:12} {row['rows']:>8} {row['seconds']:>8.3f} {row['rows_per_second']:>10}")
    print(f"export / duckdb = {ratio:.2f}x (goal >= {GOAL}x); export / duckdb_keyed = {keyed:.2f}x")
    print(json.dumps(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

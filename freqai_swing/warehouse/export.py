"""``freqai-swing export``: Freqtrade's and FreqAI's files into one DuckDB warehouse.

Atomic: the export works on a copy of the warehouse beside it and renames the copy over the
original only after every source was read and the copy was checkpointed, so a kill at any point
leaves the previous warehouse as it was. Idempotent: every table has a unique key and rows are
inserted with ``INSERT OR IGNORE`` (or replaced where a source's row can change, such as an open
trade that closed). Incremental: the ``sources`` table remembers per file its size and
modification time (candle files also their last candle, trade databases their highest trade id
and the trades then open), so a re-run reads only what is new.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pandas as pd
import pyarrow as pa

from freqai_swing.warehouse import backtests, candles, model_folders, trade_db
from freqai_swing.warehouse.errors import WarehouseInputError
from freqai_swing.warehouse.lineage import link_trades_to_models
from freqai_swing.warehouse.performance import update_model_performance
from freqai_swing.warehouse.schema import COUNTED_AS, TABLES, create_tables
from freqai_swing.warehouse.source_log import SourceLog

logger = logging.getLogger(__name__)

#: New candles only: an anti-join on the key stands in for an index on the largest table.
CANDLES_INSERT = (
    "INSERT INTO candles SELECT i.series_id, i.date, i.open, i.high, i.low, i.close, i.volume "
    "FROM incoming i ANTI JOIN candles USING (series_id, date)"
)


class Progress(Protocol):
    """The part of ``rich.progress.Progress`` the export uses."""

    def add_task(self, description: str, total: float | None = ...) -> Any: ...

    def advance(self, task_id: Any, advance: float = ...) -> None: ...


@dataclass(frozen=True)
class ExportSources:
    """What to export; ``None`` leaves that kind of source out."""

    datadir: Path | None = None
    backtest_results: Path | None = None
    models: Path | None = None
    paper_dbs: Sequence[Path] = ()
    live_dbs: Sequence[Path] = ()
    #: Seconds to wait for a trade database another process holds locked, before failing.
    lock_timeout: float = 5.0

    @classmethod
    def from_userdir(cls, userdir: Path, exchange: str = "binance") -> ExportSources:
        """The folders of a Freqtrade user directory that exist (and its trade databases)."""

        def existing(path: Path) -> Path | None:
            return path if path.is_dir() else None

        return cls(
            datadir=existing(userdir / "data" / exchange),
            backtest_results=existing(userdir / "backtest_results"),
            models=existing(userdir / "models"),
            paper_dbs=tuple(sorted(userdir.glob("tradesv3*dryrun*.sqlite"))),
            live_dbs=tuple(
                path
                for path in sorted(userdir.glob("tradesv3*.sqlite"))
                if "dryrun" not in path.name
            ),
        )


@dataclass
class ExportSummary:
    """What one export read and added (``rows_read`` counts rows read from the sources)."""

    rows_read: dict[str, int] = field(default_factory=dict)
    rows_added: dict[str, int] = field(default_factory=dict)
    files_read: int = 0
    files_unchanged: int = 0
    seconds: float = 0.0

    def count_read(self, kind: str, rows: int) -> None:
        self.rows_read[kind] = self.rows_read.get(kind, 0) + rows
        self.files_read += 1


class _NoProgress:
    def add_task(self, description: str, total: float | None = None) -> int:
        return 0

    def advance(self, task_id: Any, advance: float = 1) -> None:
        return None


def temporary_path(warehouse: Path) -> Path:
    return warehouse.with_name(f"{warehouse.name}.export-{os.getpid()}.tmp")


def _remove_stale_copies(warehouse: Path) -> None:
    """Copies left by a killed export (their owner is gone: a copy is never used twice)."""
    for stale in warehouse.parent.glob(f"{warehouse.name}.export-*.tmp*"):
        pid = stale.name.split(".export-", 1)[1].split(".", 1)[0]
        if pid.isdigit() and _alive(int(pid)) and int(pid) != os.getpid():
            raise WarehouseInputError(warehouse, f"another export (pid {pid}) is writing it")
        stale.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def check_sources(sources: ExportSources) -> None:
    """Every named folder and database must exist: a typo is an error, not an empty export."""
    for path in (sources.datadir, sources.backtest_results, sources.models):
        if path is not None and not path.is_dir():
            raise WarehouseInputError(path, "folder does not exist")
    for path in (*sources.paper_dbs, *sources.live_dbs):
        if not path.is_file():
            raise WarehouseInputError(path, "trade database does not exist")


@contextmanager
def _working_copy(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to a private copy that replaces ``warehouse`` only on success."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_copies(warehouse)
    copy = temporary_path(warehouse)
    if warehouse.exists():
        shutil.copyfile(warehouse, copy)
    connection = duckdb.connect(str(copy))
    try:
        connection.execute("BEGIN TRANSACTION")  # one commit, not one per statement
        create_tables(connection)
        yield connection
        connection.execute("COMMIT")
        connection.execute("CHECKPOINT")
        connection.close()
        copy.replace(warehouse)
    except BaseException:
        connection.close()
        copy.unlink(missing_ok=True)
        Path(f"{copy}.wal").unlink(missing_ok=True)
        raise


def _insert(
    connection: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, replace: bool = False
) -> None:
    """Bulk insert of a DataFrame (DuckDB scans it in place), by column name."""
    if frame is None or frame.empty:
        return
    columns = [column for column in _table_columns(connection, table) if column in frame.columns]
    names = ", ".join(f'"{column}"' for column in columns)
    connection.register("incoming", frame)
    verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
    try:
        connection.execute(
            f"{verb} INTO {table} ({names}) SELECT {names} FROM incoming"  # noqa: S608
        )
    finally:
        connection.unregister("incoming")


def _table_columns(connection: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [row[0] for row in connection.execute(f"DESCRIBE {table}").fetchall()]


def export_warehouse(
    warehouse: Path, sources: ExportSources, progress: Progress | None = None
) -> ExportSummary:
    """Export every source into ``warehouse``: all of it, or (on any error) nothing."""
    started = time.perf_counter()
    check_sources(sources)
    progress = progress or _NoProgress()
    summary = ExportSummary()
    with _working_copy(warehouse) as connection:
        before = _counts(connection)
        log = SourceLog(connection)
        if sources.datadir is not None:
            _export_candles(connection, log, sources.datadir, summary, progress)
        if sources.models is not None:
            _export_models(connection, log, sources.models, summary, progress)
        if sources.backtest_results is not None:
            _export_backtests(connection, log, sources.backtest_results, summary, progress)
        for mode, paths in (("paper", sources.paper_dbs), ("live", sources.live_dbs)):
            for path in paths:
                _export_trade_db(connection, log, path, mode, summary, sources.lock_timeout)
        log.flush()
        link_trades_to_models(connection)
        update_model_performance(connection)
        after = _counts(connection)
        summary.rows_added = {table: after[table] - count for table, count in before.items()}
    summary.seconds = time.perf_counter() - started
    return summary


def _counts(connection: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows per relation (one query each: DuckDB plans a row of scalar subqueries 3x slower)."""
    counts = {}
    for table in TABLES:
        query = f"SELECT count(*) FROM {COUNTED_AS.get(table, table)}"  # noqa: S608
        (count,) = connection.execute(query).fetchall()[0]
        counts[table] = int(count)
    return counts


def _series_ids(
    connection: duckdb.DuckDBPyConnection, files: Sequence[candles.CandleFile]
) -> dict[tuple[str, str, str, str], int]:
    """The ``candle_series`` id of every file's series, adding the new series."""
    known = {
        (exchange, pair, timeframe, candle_type): int(series_id)
        for series_id, exchange, pair, timeframe, candle_type in connection.execute(
            "SELECT series_id, exchange, pair, timeframe, candle_type FROM candle_series"
        ).fetchall()
    }
    next_id = max(known.values(), default=0) + 1
    new = []
    for candle_file in files:
        key = candles.series_key(candle_file)
        if key not in known:
            known[key] = next_id
            new.append((next_id, *key))
            next_id += 1
    if new:
        connection.executemany("INSERT INTO candle_series VALUES (?, ?, ?, ?, ?)", new)
    return known


def _export_candles(
    connection: duckdb.DuckDBPyConnection,
    log: SourceLog,
    datadir: Path,
    summary: ExportSummary,
    progress: Progress,
) -> None:
    """Read the changed files' new candles into one Arrow table and insert it in one statement."""
    files = candles.find_candle_files(datadir)
    task = progress.add_task("candles", total=len(files))
    tables, read = [], []
    series = None
    for candle_file in files:
        if log.unchanged(candle_file.path):
            summary.files_unchanged += 1
        else:
            if series is None:
                series = _series_ids(connection, files)
            table = candles.read_candles(candle_file, log.watermark(candle_file.path))
            series_id = series[candles.series_key(candle_file)]
            tables.append(candles.with_series_id(table, series_id))
            read.append((candle_file, table))
        progress.advance(task)
    if tables:
        connection.register("incoming", pa.concat_tables(tables))
        try:
            connection.execute(CANDLES_INSERT)
        finally:
            connection.unregister("incoming")
    for candle_file, table in read:
        last = candles.last_date(table) or log.watermark(candle_file.path)
        summary.count_read("candles", table.num_rows)
        log.record(candle_file.path, "candles", table.num_rows, last)
    log.flush()


def _export_models(
    connection: duckdb.DuckDBPyConnection,
    log: SourceLog,
    models_dir: Path,
    summary: ExportSummary,
    progress: Progress,
) -> None:
    folders = model_folders.find_model_folders(models_dir)
    work = [(folder, sub) for folder in folders for sub in model_folders.sub_train_folders(folder)]
    predictions = [
        (folder, path) for folder in folders for path in model_folders.prediction_files(folder)
    ]
    task = progress.add_task("models", total=len(work) + len(predictions))
    # A live folder's predictions depend on its versions: read versions first, then predictions.
    versions, features = [], []
    for folder, sub in work:
        metadata = next(iter(sub.glob("*_metadata.json")), sub)
        if metadata != sub and log.unchanged(metadata):
            summary.files_unchanged += 1
        else:
            version, feature_rows = model_folders.read_sub_train(folder, sub)
            versions.append(version)
            features.append(feature_rows)
            summary.count_read("model_versions", 1)
            log.record(metadata, "model", 1)
        progress.advance(task)
    _insert(connection, "model_versions", pd.DataFrame(versions), replace=True)
    if features:
        _insert(connection, "features", pd.concat(features, ignore_index=True), replace=True)
    frames = []
    for folder, path in predictions:
        if log.unchanged(path):
            summary.files_unchanged += 1
        else:
            frame = model_folders.read_predictions(folder, path)
            frames.append(frame)
            summary.count_read("predictions", len(frame))
            log.record(path, "predictions", len(frame))
        progress.advance(task)
    if frames:
        _insert(connection, "predictions", pd.concat(frames, ignore_index=True), replace=True)
    for folder in folders:
        historic = model_folders.historic_predictions_file(folder)
        if historic is None:
            continue
        if log.unchanged(historic):
            summary.files_unchanged += 1
            continue
        frame = model_folders.read_historic_predictions(folder, historic, log.watermark(historic))
        if len(frame):
            _insert_live_predictions(connection, frame)
        summary.count_read("live_predictions", len(frame))
        last = None if frame.empty else frame["date"].max().isoformat()
        log.record(historic, "live_predictions", len(frame), last or log.watermark(historic))


def _insert_live_predictions(connection: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> None:
    """A bot's predictions, each tagged with the latest model trained before its candle."""
    connection.register("incoming", frame)
    try:
        connection.execute(
            """INSERT OR REPLACE INTO predictions
               SELECT i.identifier, i.pair, i.date, m.trained_at, i.predicted_class,
                      i.p_down, i.p_flat, i.p_up, i.do_predict,
                      coalesce(i.validation_skill, m.validation_skill)
               FROM incoming i ASOF LEFT JOIN model_versions m
                 ON i.identifier = m.identifier AND i.pair = m.pair AND i.date >= m.trained_at"""
        )
    finally:
        connection.unregister("incoming")


def _export_backtests(
    connection: duckdb.DuckDBPyConnection,
    log: SourceLog,
    folder: Path,
    summary: ExportSummary,
    progress: Progress,
) -> None:
    files = backtests.find_backtest_results(folder)
    task = progress.add_task("backtest results", total=len(files))
    for path in files:
        if log.unchanged(path):
            summary.files_unchanged += 1
        else:
            tables = backtests.read_backtest(path)
            _insert(connection, "backtest_runs", tables.runs, replace=True)
            _insert(connection, "trades", tables.trades)
            _insert(connection, "orders", tables.orders)
            summary.count_read("backtest_trades", len(tables.trades))
            log.record(path, "backtest", len(tables.trades))
        progress.advance(task)


def _export_trade_db(
    connection: duckdb.DuckDBPyConnection,
    log: SourceLog,
    path: Path,
    mode: str,
    summary: ExportSummary,
    lock_timeout: float,
) -> None:
    known = log.watermark(path)
    since = trade_db.TradeDbWatermark(**json.loads(known)) if known else trade_db.TradeDbWatermark()
    since = trade_db.TradeDbWatermark(since.max_id, tuple(since.open_ids))
    tables = trade_db.read_trade_db(path, mode, since, lock_timeout)
    if len(tables.trades):
        source = tables.trades["source"].iloc[0]
        ids = tables.trades[["trade_id"]].assign(source=source)
        connection.register("changed", ids)
        try:
            for table in ("orders", "trades"):
                connection.execute(
                    f"DELETE FROM {table} WHERE (source, trade_id) IN "  # noqa: S608
                    "(SELECT (source, trade_id) FROM changed)"
                )
        finally:
            connection.unregister("changed")
        _insert(connection, "trades", tables.trades)
        _insert(connection, "orders", tables.orders)
    summary.count_read(f"{mode}_trades", len(tables.trades))
    watermark = {"max_id": tables.watermark.max_id, "open_ids": list(tables.watermark.open_ids)}
    log.record(path, f"{mode}_db", len(tables.trades), json.dumps(watermark))

"""``freqai-swing export`` and ``report``: the DuckDB warehouse and its HTML report."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from tooling.offline import REPO_ROOT


def _progress():  # noqa: ANN202 - rich.progress.Progress
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description:<18}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=False,
    )


def _export_sources(args: argparse.Namespace):  # noqa: ANN202 - ExportSources
    from freqai_swing.warehouse import ExportSources

    found = ExportSources.from_userdir(args.userdir) if not args.only_named else ExportSources()
    return ExportSources(
        datadir=args.datadir or found.datadir,
        backtest_results=args.backtest_results or found.backtest_results,
        models=args.models or found.models,
        paper_dbs=tuple(args.paper_db) or found.paper_dbs,
        live_dbs=tuple(args.live_db) or found.live_dbs,
    )


def command_export(args: argparse.Namespace) -> int:
    log = logging.getLogger("freqai_swing")
    if not args.only_named and not args.userdir.is_dir():
        log.error(
            "Export refused, nothing written: the user directory %s does not exist (--userdir "
            "names a Freqtrade user directory such as user_data).",
            args.userdir,
        )
        return 2
    from freqai_swing.warehouse import WarehouseInputError, export_parquet, export_warehouse

    sources = _export_sources(args)
    try:
        with _progress() as progress:
            summary = export_warehouse(args.warehouse, sources, progress=progress)
        if args.parquet is not None:
            tables = args.parquet_tables.split(",") if args.parquet_tables else None
            for path in export_parquet(args.warehouse, args.parquet, tables):
                log.info("Parquet: %s", path)
    except WarehouseInputError as error:
        log.error("Export stopped, the warehouse is unchanged: %s", error)
        return 2
    log.info(
        "Exported into %s in %.1f s: read %s; added %s; %d files unchanged.",
        args.warehouse,
        summary.seconds,
        {kind: rows for kind, rows in summary.rows_read.items() if rows} or "nothing new",
        {table: rows for table, rows in summary.rows_added.items() if rows} or "nothing",
        summary.files_unchanged,
    )
    return 0


def command_report(args: argparse.Namespace) -> int:
    from freqai_swing.report import write_report
    from freqai_swing.warehouse import WarehouseInputError

    try:
        path = write_report(args.warehouse, args.output, source=args.source)
    except WarehouseInputError as error:
        logging.getLogger("freqai_swing").error("%s", error)
        return 2
    logging.getLogger("freqai_swing").info("Report written: %s", path)
    return 0


def add_warehouse_commands(commands: argparse._SubParsersAction) -> None:
    userdir = REPO_ROOT / "user_data"
    export = commands.add_parser(
        "export",
        help="export candles, backtests, trade databases and FreqAI models into DuckDB",
        description="Reads what Freqtrade and FreqAI wrote under --userdir (candles of "
        "data/binance, backtest_results/*.zip, models/, tradesv3*.sqlite) or the sources named, "
        "into one DuckDB file. Re-runs read only what is new; an interrupted or failed export "
        "leaves the warehouse as it was.",
    )
    export.add_argument("--warehouse", type=Path, default=userdir / "warehouse.duckdb")
    export.add_argument("--userdir", type=Path, default=userdir)
    export.add_argument(
        "--datadir",
        type=Path,
        help="candle folder (default: USERDIR/data/binance; USERDIR/data/bybit for Bybit)",
    )
    export.add_argument("--backtest-results", type=Path)
    export.add_argument("--models", type=Path, help="FreqAI models folder (USERDIR/models)")
    export.add_argument("--paper-db", type=Path, action="append", default=[])
    export.add_argument("--live-db", type=Path, action="append", default=[])
    export.add_argument(
        "--only-named", action="store_true", help="export only the sources named on the command"
    )
    export.add_argument("--parquet", type=Path, help="also write tables as Parquet files here")
    export.add_argument("--parquet-tables", help="comma-separated tables (default: all)")
    export.set_defaults(handler=command_export)

    report = commands.add_parser("report", help="self-contained HTML report from the warehouse")
    report.add_argument("--warehouse", type=Path, default=userdir / "warehouse.duckdb")
    report.add_argument("--output", type=Path, default=userdir / "report.html")
    report.add_argument(
        "--run",
        "--source",
        dest="source",
        help="the run (a trades source, listed in the report's Runs table) that the per-run "
        "sections and the equity chart show (default: the latest backtest in the per-run "
        "sections, every run in the equity chart)",
    )
    report.set_defaults(handler=command_report)

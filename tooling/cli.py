"""``freqai-swing``: the bundle's own commands, beside (never instead of) ``freqtrade``'s."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from tooling.offline import (
    DEFAULT_DATADIR,
    REPO_ROOT,
    ExchangeNotRunningError,
    backtesting_arguments,
    run_offline,
)

LOG_FORMAT = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"

#: The demo: a walk-forward FreqAI backtest of the first half of 2024 on the bundled candles
#: (six monthly retrains on 120 days each, so training starts in September 2023).
DEMO_TIMERANGE = "20240101-20240629"
DEMO_CONFIGS = ("config/base.json", "config/freqai.json")


def demo_arguments(freqaimodel: str, timerange: str) -> list[str]:
    """The ``freqtrade backtesting`` arguments the demo runs."""
    backtesting, *options = backtesting_arguments(freqaimodel, timerange)
    configs = [part for config in DEMO_CONFIGS for part in ("-c", str(REPO_ROOT / config))]
    return [backtesting, *configs, *options]


def _command_demo(args: argparse.Namespace) -> int:
    """Backtest, then (unless --no-report) export into the warehouse and write the report."""
    code = run_offline(demo_arguments(args.freqaimodel, args.timerange), datadir=args.datadir)
    if code != 0 or args.no_report:
        return code
    userdir = REPO_ROOT / "user_data"
    warehouse = argparse.Namespace(
        warehouse=userdir / "warehouse.duckdb", userdir=userdir, datadir=args.datadir,
        backtest_results=None, models=None, paper_db=[], live_db=[], only_named=False,
        parquet=None, parquet_tables=None, output=userdir / "report.html", source=None,
    )  # fmt: skip
    return _command_export(warehouse) or _command_report(warehouse)


def _command_offline(args: argparse.Namespace) -> int:
    arguments = list(args.freqtrade_arguments)
    for leading in ("--", "freqtrade"):
        if arguments and arguments[0] == leading:
            arguments = arguments[1:]
    try:
        return run_offline(
            arguments, datadir=args.datadir, port=args.port, exchange_url=args.exchange_url
        )
    except ExchangeNotRunningError as error:
        logging.getLogger("freqai_swing").error("%s", error)
        return 2


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


def _command_export(args: argparse.Namespace) -> int:
    from freqai_swing.warehouse import WarehouseInputError, export_parquet, export_warehouse

    log = logging.getLogger("freqai_swing")
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


def _command_report(args: argparse.Namespace) -> int:
    from freqai_swing.report import write_report
    from freqai_swing.warehouse import WarehouseInputError

    try:
        path = write_report(args.warehouse, args.output, source=args.source)
    except WarehouseInputError as error:
        logging.getLogger("freqai_swing").error("%s", error)
        return 2
    logging.getLogger("freqai_swing").info("Report written: %s", path)
    return 0


def _command_evaluate(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from freqai_swing.walk_forward import WalkForwardSettings
    from tooling.evaluate import evaluate, request_from_arguments

    log = logging.getLogger("freqai_swing")
    try:
        request = request_from_arguments(
            args.runners,
            args.pairs,
            WalkForwardSettings(args.splits, args.train_days, args.test_days, args.gap_days),
            args.end,
            args.datadir,
            args.output,
        )
    except (ValueError, FileNotFoundError) as error:
        log.error("%s", error)
        return 2
    with Progress() as progress:
        task = progress.add_task("walk-forward backtests", total=len(request.runners) * args.splits)
        try:
            evaluate(request, lambda: progress.advance(task), workers=args.workers)
        except RuntimeError as error:
            log.error("%s", error)
            return 1
    print((request.output / "evaluation.md").read_text())
    log.info("Evaluation written to %s", request.output)
    return 0


def _command_local_exchange(args: argparse.Namespace) -> int:
    from tooling import local_exchange

    return local_exchange.main(args.rest)


def _command_sample_data(args: argparse.Namespace) -> int:
    from tooling import sample_data

    return sample_data.main(args.rest)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="freqai-swing", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser(
        "demo",
        help="FreqAI backtest on the bundled candles, offline, then export and HTML report",
    )
    demo.add_argument("--freqaimodel", default="SwingXGBoostClassifier")
    demo.add_argument("--timerange", default=DEMO_TIMERANGE)
    demo.add_argument("--datadir", type=Path, default=DEFAULT_DATADIR)
    demo.add_argument(
        "--no-report", action="store_true", help="backtest only: no warehouse export or report"
    )
    demo.set_defaults(handler=_command_demo)

    offline = commands.add_parser(
        "offline",
        help="run any freqtrade command against the local exchange",
        description="Example: freqai-swing offline -- freqtrade backtesting -c config/base.json "
        "-c config/freqai.json --timerange 20240101-20240301",
    )
    offline.add_argument("--datadir", type=Path, default=DEFAULT_DATADIR)
    offline.add_argument("--port", type=int, default=0)
    offline.add_argument(
        "--exchange-url",
        help="use this running local exchange (http://127.0.0.1:PORT) instead of starting one",
    )
    offline.add_argument("freqtrade_arguments", nargs=argparse.REMAINDER)
    offline.set_defaults(handler=_command_offline)

    _add_warehouse_commands(commands)
    from tooling.evaluate import RUNNERS

    evaluation = commands.add_parser(
        "evaluate", help="walk-forward backtests of every runner on the same splits"
    )
    evaluation.add_argument("--runners", nargs="+", default=list(RUNNERS), choices=list(RUNNERS))
    evaluation.add_argument("--pairs", nargs="+", help="default: the whitelist of base.json")
    evaluation.add_argument("--splits", type=int, default=5)
    evaluation.add_argument("--train-days", type=int, default=120)
    evaluation.add_argument("--test-days", type=int, default=30)
    evaluation.add_argument("--gap-days", type=int, default=1)
    evaluation.add_argument("--end", help="last day of the last split (default: end of data)")
    evaluation.add_argument("--datadir", type=Path, default=DEFAULT_DATADIR)
    evaluation.add_argument(
        "--workers", type=int, default=1, help="backtests at once, fanned out over a local Ray"
    )
    evaluation.add_argument("--output", type=Path, default=REPO_ROOT / "user_data" / "evaluation")
    evaluation.set_defaults(handler=_command_evaluate)

    for name, handler, text in (
        ("local-exchange", _command_local_exchange, "serve the Binance REST API from candles"),
        ("sample-data", _command_sample_data, "rebuild the bundled sample from ../shared/data"),
    ):
        sub = commands.add_parser(name, help=text, add_help=False)
        sub.add_argument("rest", nargs=argparse.REMAINDER)
        sub.set_defaults(handler=handler)
    return parser


def _add_warehouse_commands(commands: argparse._SubParsersAction) -> None:
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
        "--datadir", type=Path, help="candle folder (default: USERDIR/data/binance)"
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
    export.set_defaults(handler=_command_export)

    report = commands.add_parser("report", help="self-contained HTML report from the warehouse")
    report.add_argument("--warehouse", type=Path, default=userdir / "warehouse.duckdb")
    report.add_argument("--output", type=Path, default=userdir / "report.html")
    report.add_argument("--source", help="trades of this source only (default: all)")
    report.set_defaults(handler=_command_report)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())

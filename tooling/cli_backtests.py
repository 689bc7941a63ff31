"""``freqai-swing demo``, ``offline`` and ``evaluate``: the commands that run freqtrade.

Each command group of ``freqai-swing`` keeps its parser and its handler together; heavy
libraries are imported inside the handlers only, so that ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from tooling.cli_warehouse import command_export, command_report
from tooling.offline import (
    DEFAULT_DATADIR,
    REPO_ROOT,
    ExchangeNotRunningError,
    backtesting_arguments,
    run_offline,
)

#: The demo: the bundle's default, the trend portfolio, over the first half of 2024 on the
#: bundled candles (its 200-day regime gate needs the candles from mid-2023 as history).
DEMO_TIMERANGE = "20240101-20240629"
DEMO_CONFIGS = ("config/base.json", "config/portfolio.json")
DEMO_STRATEGY = "SwingPortfolioStrategy"


def demo_arguments(freqaimodel: str, timerange: str) -> list[str]:
    """The ``freqtrade backtesting`` arguments the demo runs."""
    backtesting, *options = backtesting_arguments(freqaimodel, timerange, DEMO_STRATEGY)
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
    code = command_export(warehouse) or command_report(warehouse)
    if code == 0:
        print(demo_summary(userdir, warehouse.warehouse, warehouse.output, args.timerange))
    return code


def demo_summary(userdir: Path, warehouse: Path, report: Path, timerange: str) -> str:
    """The demo's last words: what ran, the strategy against buy & hold, where things are."""
    from freqtrade.data.btanalysis import load_backtest_stats

    stats = load_backtest_stats(userdir / "backtest_results")
    result = stats["strategy"][DEMO_STRATEGY]
    wallet = result.get("wallet_stats") or {}
    return "\n".join(
        [
            "",
            f"freqai-swing demo: {DEMO_STRATEGY} (the default trend portfolio) backtested "
            f"offline on the bundled candles, {timerange}, {len(result['pairlist'])} pairs.",
            f"  strategy:     {100 * result['profit_total']:+.1f} %, "
            f"Sharpe {wallet.get('sharpe', float('nan')):.2f}, "
            f"max drawdown {100 * wallet.get('max_drawdown_account', float('nan')):.1f} % "
            f"(daily wallet), {result['total_trades']} positions, fees 0.15 % per side",
            f"  buy & hold:   {100 * result['market_change']:+.1f} % (equal weight, same period)",
            f"  report:       {report}",
            f"  warehouse:    {warehouse}",
        ]
    )


def _command_offline(args: argparse.Namespace) -> int:
    arguments = list(args.freqtrade_arguments)
    for leading in ("--", "freqtrade"):
        if arguments and arguments[0] == leading:
            arguments = arguments[1:]
    if args.exchange_url is None and not args.datadir.is_dir():
        logging.getLogger("freqai_swing").error(
            "--datadir %s does not exist: pass a folder of Freqtrade candle files "
            "(the bundled sample is user_data/data/binance).",
            args.datadir,
        )
        return 2
    try:
        return run_offline(
            arguments,
            datadir=args.datadir,
            port=args.port,
            exchange_url=args.exchange_url,
            replay_start=args.replay_start,
            seconds_per_candle=args.seconds_per_candle,
            clock_file=args.clock_file,
            exchange=args.exchange,
        )
    except (ExchangeNotRunningError, ValueError, FileNotFoundError) as error:
        logging.getLogger("freqai_swing").error("%s", error)
        return 2


def _command_evaluate(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from freqai_swing.walk_forward import WalkForwardSettings
    from tooling.evaluate import RUNNERS, evaluate, request_from_arguments

    log = logging.getLogger("freqai_swing")
    try:
        request = request_from_arguments(
            args.runners or list(RUNNERS),
            args.pairs,
            WalkForwardSettings(args.splits, args.train_days, args.test_days, args.gap_days),
            args.end,
            args.datadir,
            args.output,
            args.continuous,
            args.seeds or (),
            args.trials,
        )
    except (ValueError, FileNotFoundError) as error:
        log.error("%s", error)
        return 2
    with Progress() as progress:
        total = len(request.runners) * args.splits
        if request.continuous:
            from tooling.evaluate_continuous import plan_jobs

            total = len(plan_jobs(request))
        task = progress.add_task("walk-forward backtests", total=total)
        try:
            evaluate(
                request,
                lambda: progress.advance(task),
                workers=args.workers,
                per_pair=args.per_pair,
            )
        except RuntimeError as error:
            log.error("%s", error)
            return 1
    print((request.output / "evaluation.md").read_text())
    log.info("Evaluation written to %s", request.output)
    return 0


def add_demo_command(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser(
        "demo",
        help="FreqAI backtest on the bundled candles, offline, then export and HTML report",
    )
    demo.add_argument("--freqaimodel", default="SwingPortfolioModel")
    demo.add_argument("--timerange", default=DEMO_TIMERANGE)
    demo.add_argument("--datadir", type=Path, default=DEFAULT_DATADIR)
    demo.add_argument(
        "--no-report", action="store_true", help="backtest only: no warehouse export or report"
    )
    demo.set_defaults(handler=_command_demo)


def add_offline_command(commands: argparse._SubParsersAction) -> None:
    offline = commands.add_parser(
        "offline",
        help="run any freqtrade command against the local exchange",
        description="Example: freqai-swing offline -- freqtrade backtesting -c config/base.json "
        "-c config/freqai.json --timerange 20240101-20240301",
    )
    offline.add_argument(
        "--datadir",
        type=Path,
        default=DEFAULT_DATADIR,
        help="the local exchange's candles; backtesting, hyperopt, lookahead- and "
        "recursive-analysis, edge, plot-dataframe and list-data read them too unless given "
        "their own --datadir (default: %(default)s)",
    )
    offline.add_argument("--port", type=int, default=0)
    offline.add_argument(
        "--exchange-url",
        help="use this running local exchange (http://127.0.0.1:PORT) instead of starting one",
    )
    offline.add_argument(
        "--replay-start",
        help="paper trading: replay the candles as if live from this UTC date (e.g. 2024-03-01)",
    )
    offline.add_argument(
        "--seconds-per-candle",
        type=float,
        default=5.0,
        help="with --replay-start: real seconds per replayed 1h candle (default 5)",
    )
    offline.add_argument(
        "--clock-file",
        type=Path,
        help="with --exchange-url: the clock file of that running replay exchange",
    )
    offline.add_argument(
        "--exchange",
        choices=("binance", "bybit"),
        help="the API ccxt talks to on the local exchange (default: the one the configs name)",
    )
    offline.add_argument("freqtrade_arguments", nargs=argparse.REMAINDER)
    offline.set_defaults(handler=_command_offline)


def add_evaluate_command(commands: argparse._SubParsersAction) -> None:
    evaluation = commands.add_parser(
        "evaluate", help="walk-forward backtests of every runner on the same splits"
    )
    evaluation.add_argument(
        "--runners",
        nargs="+",
        help="default: every runner (swing-xgboost, daily-trend, buy-and-hold, ...; an unknown "
        "name lists them)",
    )
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
    evaluation.add_argument(
        "--per-pair",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="train each pair of a FreqAI split in its own backtest first (default: when the "
        "workers outnumber the runner × split backtests)",
    )
    evaluation.add_argument(
        "--continuous",
        action="store_true",
        help="one backtest per runner over all the splits, FreqAI retraining at each split's "
        "start (positions run on across splits; for the portfolio)",
    )
    evaluation.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        help="with --continuous: run every FreqAI runner once per seed and report the spread",
    )
    evaluation.add_argument(
        "--trials",
        type=int,
        help="with --continuous: configurations tried in all, for the Deflated Sharpe Ratio",
    )
    evaluation.add_argument("--output", type=Path, default=REPO_ROOT / "user_data" / "evaluation")
    evaluation.set_defaults(handler=_command_evaluate)

"""``freqai-swing``: the bundle's own commands, beside (never instead of) ``freqtrade``'s."""

from __future__ import annotations

import argparse
import json
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

#: The demo: the bundle's default, the trend portfolio, over the first half of 2024 on the
#: bundled candles (its 200-day regime gate needs the candles from mid-2023 as history).
DEMO_TIMERANGE = "20240101-20240629"
DEMO_CONFIGS = ("config/base.json", "config/portfolio.json")
DEMO_STRATEGY = "SwingPortfolioStrategy"
LIVE_CONFIGS = ("base.json", "freqai.json", "live.json")


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
    code = _command_export(warehouse) or _command_report(warehouse)
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


def _command_init_secrets(args: argparse.Namespace) -> int:
    from tooling.secrets_env import init_secrets

    generated = init_secrets(args.env_file)
    log = logging.getLogger("freqai_swing")
    if generated:
        log.info("Wrote %s: generated %s", args.env_file, ", ".join(generated))
    else:
        log.info("%s already holds every API secret; nothing changed", args.env_file)
    return 0


def _go_live_verdict(args: argparse.Namespace, config_files: list[Path]) -> int:
    """0 when live trading may start (or the user overrode the guard), 3 when refused."""
    from tooling.golive import go_live_problems
    from tooling.secrets_env import load_env_file

    log = logging.getLogger("freqai_swing")
    config_files = config_files or [REPO_ROOT / "config" / name for name in LIVE_CONFIGS]
    environment = load_env_file(args.env_file)
    merged = merged_config(config_files, environment)
    # Every committed config is scanned for secrets, not only those of this run.
    scanned = list(dict.fromkeys([*config_files, *sorted((REPO_ROOT / "config").glob("*.json"))]))
    dry_run = json.loads((REPO_ROOT / "config" / "dry-run.json").read_text(encoding="utf-8"))
    wallet = float(args.paper_wallet or dry_run.get("dry_run_wallet", 10000))
    problems = go_live_problems(scanned, merged, args.paper_db, wallet)
    for problem in problems:
        log.error("go-live check: %s", problem)
    if not problems:
        log.info("go-live check passed")
        return 0
    if args.override:
        log.warning("go-live check OVERRIDDEN by --override: %d refusal(s) ignored", len(problems))
        return 0
    log.error("Live trading refused (%d reason(s)); --override ignores them.", len(problems))
    return 3


def merged_config(config_files: list[Path], environment: dict[str, str]) -> dict:
    """The configs as freqtrade merges them, with ``FREQTRADE__`` variables on top."""
    from freqtrade.configuration.load_config import load_from_files
    from freqtrade.misc import deep_merge_dicts

    config = load_from_files([str(path) for path in config_files])
    return deep_merge_dicts(environment_vars_to_dict_from(environment), config)


def environment_vars_to_dict_from(environment: dict[str, str]) -> dict:
    """Freqtrade's own ``FREQTRADE__`` parsing, applied to ``environment``."""
    from freqtrade.configuration import environment_vars

    return environment_vars._flat_vars_to_nested_dict(environment, environment_vars.ENV_VAR_PREFIX)


def _command_go_live_check(args: argparse.Namespace) -> int:
    return _go_live_verdict(args, list(args.config))


def _command_trade(args: argparse.Namespace) -> int:
    """``freqtrade trade`` with .env loaded, refused in live mode unless the guard passes."""
    import subprocess

    from tooling.offline import bundle_arguments, bundle_environment, freqtrade_executable
    from tooling.secrets_env import load_env_file

    arguments = list(args.freqtrade_arguments)
    for leading in ("--", "freqtrade", "trade"):
        if arguments and arguments[0] == leading:
            arguments = arguments[1:]
    config_files = [
        Path(arguments[index + 1])
        for index, part in enumerate(arguments[:-1])
        if part in ("-c", "--config")
    ]
    if not config_files:
        logging.getLogger("freqai_swing").error(
            "freqai-swing trade needs the bot's configs (-c ...): without them the go-live "
            "check cannot tell a live run from a dry run"
        )
        return 2
    environment = load_env_file(args.env_file, bundle_environment())
    dry_run = merged_config(config_files, environment).get("dry_run", True)
    if "--dry-run" not in arguments and dry_run is False:
        verdict = _go_live_verdict(args, config_files)
        if verdict:
            return verdict
    command = [freqtrade_executable(), "trade", *arguments, *bundle_arguments("trade", arguments)]
    return subprocess.call(command, env=environment)


def _command_install_ui(args: argparse.Namespace) -> int:
    """FreqUI into this environment's freqtrade: from a built folder, or online."""
    from tooling.frequi import (
        UIFolderError,
        install_ui_from,
        install_ui_online,
        installed_ui_folder,
    )
    from tooling.offline import freqtrade_executable

    log = logging.getLogger("freqai_swing")
    if args.source is None:
        return install_ui_online(freqtrade_executable())
    try:
        version = install_ui_from(args.source)
    except UIFolderError as error:
        log.error("%s", error)
        return 2
    log.info(
        "FreqUI (%s) installed into %s: start a bot or `freqtrade webserver` with the API "
        "server on, then open http://127.0.0.1:8080 (the api_server's port)",
        version,
        installed_ui_folder(),
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="freqai-swing", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

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

    _add_warehouse_commands(commands)
    _add_selftrain_command(commands)
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

    install_ui = commands.add_parser(
        "install-ui",
        help="install FreqUI into this environment's freqtrade (--from a built folder, offline)",
        description="Without --from: freqtrade install-ui (downloads the latest release, needs "
        "internet). With --from DIR: copies a built FreqUI (DIR or DIR/dist holding index.html, "
        "e.g. ../shared/frequi) into freqtrade's UI folder, offline.",
    )
    install_ui.add_argument("--from", dest="source", type=Path, help="a built FreqUI folder")
    install_ui.set_defaults(handler=_command_install_ui)

    secrets_parser = commands.add_parser(
        "init-secrets", help="generate the REST API's password, JWT secret and ws token into .env"
    )
    secrets_parser.add_argument("--env-file", type=Path, default=REPO_ROOT / ".env")
    secrets_parser.set_defaults(handler=_command_init_secrets)

    for name, handler, text in (
        ("go-live-check", _command_go_live_check, "refuse live trading unless safe and proven"),
        ("trade", _command_trade, "freqtrade trade with .env; live mode needs the go-live check"),
    ):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--env-file", type=Path, default=REPO_ROOT / ".env")
        sub.add_argument(
            "--paper-db",
            default=f"sqlite:///{REPO_ROOT / 'user_data' / 'tradesv3.dryrun.sqlite'}",
            help="the dry-run database holding the paper record",
        )
        sub.add_argument(
            "--paper-wallet",
            type=float,
            help="the dry-run starting balance (default: config/dry-run.json's dry_run_wallet)",
        )
        sub.add_argument(
            "--override", action="store_true", help="start anyway: the refusals become warnings"
        )
        sub.set_defaults(handler=handler)
    commands.choices["go-live-check"].add_argument(
        "-c",
        "--config",
        type=Path,
        action="append",
        default=[],
        help="the configs of the live bot (repeat)",
    )
    commands.choices["trade"].add_argument("freqtrade_arguments", nargs=argparse.REMAINDER)

    for name, text in (
        ("local-exchange", "serve Binance/Bybit REST APIs from candles"),
        ("sample-data", "rebuild the bundled sample from ../shared/data"),
    ):
        # Listed for --help only: main() hands these commands to their module's own parser.
        commands.add_parser(name, help=text, add_help=False)
    return parser


def _add_selftrain_command(commands: argparse._SubParsersAction) -> None:
    selftrain = commands.add_parser(
        "selftrain",
        help="one pass of the self-training lifecycle (or --loop, or --simulate over history)",
        description="Seven steps: collect data, evaluate the production bot, trigger, train a "
        "challenger (walk-forward validated), A/B test it on paper beside the champion, promote "
        "or keep, roll back. See docs/selftrain.md.",
    )
    selftrain.add_argument(
        "-c",
        "--config",
        type=Path,
        action="append",
        default=[],
        help="configs of the bots (default: base, freqai, dry-run, selftrain)",
    )
    selftrain.add_argument("--state-dir", type=Path, default=REPO_ROOT / "user_data" / "selftrain")
    selftrain.add_argument("--datadir", type=Path, default=DEFAULT_DATADIR)
    selftrain.add_argument("--pairs", nargs="+", help="default: the config's whitelist")
    selftrain.add_argument("--warehouse", type=Path, help="also record decisions in this DuckDB")
    selftrain.add_argument(
        "--online",
        action="store_true",
        help="step 1 runs freqtrade download-data (default: offline)",
    )
    selftrain.add_argument("--exchange-url", help="a running local exchange (offline mode)")
    selftrain.add_argument("--production-url", default="http://127.0.0.1:8080")
    selftrain.add_argument("--challenger-url", default="http://127.0.0.1:8081")
    selftrain.add_argument("--production-userdir", type=Path, default=REPO_ROOT / "user_data")
    selftrain.add_argument("--env-file", type=Path, default=REPO_ROOT / ".env")
    selftrain.add_argument("--force-retrain", action="store_true")
    selftrain.add_argument(
        "--no-train", action="store_true", help="only the A/B, promotion and rollback steps"
    )
    selftrain.add_argument(
        "--freqaimodel",
        help="default: SwingEnsembleClassifier; SwingXGBoostClassifier with --simulate",
    )
    selftrain.add_argument("--loop", action="store_true", help="a pass every --interval-hours")
    selftrain.add_argument("--interval-hours", type=float, default=24.0)
    selftrain.add_argument(
        "--simulate",
        action="store_true",
        help="replay the lifecycle over history with real backtests",
    )
    selftrain.add_argument("--start", help="--simulate: first day (UTC)")
    selftrain.add_argument("--end", help="--simulate: last day (default: end of data)")
    selftrain.add_argument(
        "--output", type=Path, default=REPO_ROOT / "user_data" / "selftrain-simulation"
    )
    selftrain.set_defaults(handler=_command_selftrain)


def _command_selftrain(args: argparse.Namespace) -> int:
    from freqai_swing.settings import SwingConfigError, load_swing_settings

    log = logging.getLogger("freqai_swing")
    configs = args.config or [
        REPO_ROOT / "config" / name
        for name in ("base.json", "freqai.json", "dry-run.json", "selftrain.json")
    ]
    merged: dict = {}
    for path in configs:
        try:
            block = json.loads(Path(path).read_text())
        except (OSError, ValueError) as error:
            log.error("%s: unreadable config (%s)", path, error)
            return 2
        merged.setdefault("exchange", {}).update(block.get("exchange", {}))
        for key in ("swing", "freqai"):
            merged.setdefault(key, {}).update(block.get(key, {}))
    try:
        settings = load_swing_settings(merged).selftrain
    except SwingConfigError as error:
        log.error("%s", error)
        return 2
    pairs = args.pairs or merged["exchange"].get("pair_whitelist", [])
    if args.simulate:
        import pandas as pd

        from tooling.simulate_lifecycle import run_simulation

        if not args.start:
            log.error("--simulate needs --start (the first day of the replay)")
            return 2
        end = (
            pd.Timestamp(args.end, tz="UTC")
            if args.end
            else pd.read_feather(args.datadir / f"{pairs[0].replace('/', '_')}-1h.feather")["date"]
            .iloc[-1]
            .floor("D")
        )
        freqaimodel = args.freqaimodel or "SwingXGBoostClassifier"
        _, summary = run_simulation(
            list(pairs),
            pd.Timestamp(args.start, tz="UTC"),
            end,
            args.datadir,
            args.output,
            settings,
            freqaimodel,
        )
        print((args.output / "simulation.md").read_text())
        return 0
    from tooling.selftrain import context_from_arguments, run_loop, run_pass

    context = context_from_arguments(args, settings, configs, pairs)
    if args.loop:
        run_loop(context, args.interval_hours * 3600)
        return 0
    decisions = run_pass(
        context, force_retrain=args.force_retrain, allow_training=not args.no_train
    )
    log.info("selftrain pass done: %s", ", ".join(decisions) or "nothing to do")
    return 0


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
    export.set_defaults(handler=_command_export)

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
    report.set_defaults(handler=_command_report)


#: Commands whose options belong to their module's own parser (also ``python -m MODULE``).
MODULE_COMMANDS = {"local-exchange": "tooling.local_exchange", "sample-data": "tooling.sample_data"}


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments and arguments[0] in MODULE_COMMANDS:
        import importlib

        rest = arguments[1:]
        if rest[:1] == ["--"]:
            rest = rest[1:]
        module = importlib.import_module(MODULE_COMMANDS[arguments[0]])
        return int(module.main(rest, prog=f"freqai-swing {arguments[0]}"))
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    args = build_parser().parse_args(arguments)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())

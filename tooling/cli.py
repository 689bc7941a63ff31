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
    return run_offline(demo_arguments(args.freqaimodel, args.timerange), datadir=args.datadir)


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

    demo = commands.add_parser("demo", help="FreqAI backtest on the bundled candles, offline")
    demo.add_argument("--freqaimodel", default="SwingXGBoostClassifier")
    demo.add_argument("--timerange", default=DEMO_TIMERANGE)
    demo.add_argument("--datadir", type=Path, default=DEFAULT_DATADIR)
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


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())

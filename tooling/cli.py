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

#: The demo: a walk-forward FreqAI backtest of the first half of 2024 on the bundled candles
#: (six monthly retrains on 120 days each, so training starts in September 2023).
DEMO_TIMERANGE = "20240101-20240629"
DEMO_CONFIGS = ("config/base.json", "config/freqai.json")
LIVE_CONFIGS = ("base.json", "freqai.json", "live.json")


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
            arguments,
            datadir=args.datadir,
            port=args.port,
            exchange_url=args.exchange_url,
            replay_start=args.replay_start,
            seconds_per_candle=args.seconds_per_candle,
            clock_file=args.clock_file,
        )
    except (ExchangeNotRunningError, ValueError) as error:
        logging.getLogger("freqai_swing").error("%s", error)
        return 2


def _command_local_exchange(args: argparse.Namespace) -> int:
    from tooling import local_exchange

    return local_exchange.main(args.rest)


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
    offline.add_argument("freqtrade_arguments", nargs=argparse.REMAINDER)
    offline.set_defaults(handler=_command_offline)

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

"""``freqai-swing``: the bundle's own commands, beside (never instead of) ``freqtrade``'s."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from tooling.cli_backtests import (
    DEMO_CONFIGS,
    DEMO_STRATEGY,
    DEMO_TIMERANGE,
    add_demo_command,
    add_evaluate_command,
    add_offline_command,
    demo_arguments,
    demo_summary,
)
from tooling.cli_live import (
    LIVE_CONFIGS,
    add_live_commands,
    environment_vars_to_dict_from,
    merged_config,
)
from tooling.cli_selftrain import add_selftrain_command
from tooling.cli_warehouse import add_warehouse_commands

__all__ = [
    "DEMO_CONFIGS",
    "DEMO_STRATEGY",
    "DEMO_TIMERANGE",
    "LIVE_CONFIGS",
    "MODULE_COMMANDS",
    "build_parser",
    "demo_arguments",
    "demo_summary",
    "environment_vars_to_dict_from",
    "main",
    "merged_config",
]

LOG_FORMAT = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"


def build_parser() -> argparse.ArgumentParser:
    """Every subcommand, listed in this order by ``--help``; each group adds its own parsers."""
    parser = argparse.ArgumentParser(prog="freqai-swing", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    add_demo_command(commands)
    add_offline_command(commands)
    add_warehouse_commands(commands)
    add_selftrain_command(commands)
    add_evaluate_command(commands)
    add_live_commands(commands)

    for name, text in (
        ("local-exchange", "serve Binance/Bybit REST APIs from candles"),
        ("sample-data", "rebuild the bundled sample from ../shared/data"),
    ):
        # Listed for --help only: main() hands these commands to their module's own parser.
        commands.add_parser(name, help=text, add_help=False)
    return parser


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

"""``freqai-swing install-ui``, ``init-secrets``, ``go-live-check`` and ``trade``: running bots."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from tooling.offline import REPO_ROOT

LIVE_CONFIGS = ("base.json", "freqai.json", "live.json")


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


def add_live_commands(commands: argparse._SubParsersAction) -> None:
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

"""Run a real ``freqtrade`` command against the local exchange instead of Binance.

The command is started unchanged, with the bundle's plugin folders and one extra ``-c`` overlay
that points ccxt at the loopback server; neither freqtrade nor ccxt is patched.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from tooling.local_exchange import LocalExchange, write_offline_overlay

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATADIR = REPO_ROOT / "user_data" / "data" / "binance"
#: Sub-commands that take ``--strategy-path`` and ``--freqaimodel-path`` (from their --help).
_STRATEGY_PATH_COMMANDS = frozenset(
    {
        "backtesting",
        "hyperopt",
        "trade",
        "lookahead-analysis",
        "recursive-analysis",
        "list-strategies",
        "plot-dataframe",
    }
)
_FREQAIMODEL_PATH_COMMANDS = (_STRATEGY_PATH_COMMANDS - {"list-strategies"}) | {"list-freqaimodels"}


def backtesting_arguments(
    freqaimodel: str,
    timerange: str,
    strategy: str = "SwingClassifierStrategy",
    export: bool = True,
) -> list[str]:
    """``freqtrade backtesting`` arguments for a FreqAI walk-forward run of the bundle."""
    arguments = [
        "backtesting",
        "--strategy",
        strategy,
        "--freqaimodel",
        freqaimodel,
        "--timerange",
        timerange,
        "--cache",
        "none",
    ]
    return [*arguments, "--export", "trades"] if export else arguments


def freqtrade_executable() -> str:
    """The ``freqtrade`` script of this interpreter's environment."""
    beside = Path(sys.executable).with_name("freqtrade")
    if beside.is_file():
        return str(beside)
    found = shutil.which("freqtrade")
    if found is None:
        raise FileNotFoundError("freqtrade is not installed in this environment (run make setup)")
    return found


def bundle_arguments(subcommand: str, arguments: Sequence[str]) -> list[str]:
    """Add the bundle's plugin folders unless the caller chose their own."""
    extra: list[str] = []
    if subcommand in _STRATEGY_PATH_COMMANDS and "--strategy-path" not in arguments:
        extra += ["--strategy-path", str(REPO_ROOT / "strategies")]
    if subcommand in _FREQAIMODEL_PATH_COMMANDS and "--freqaimodel-path" not in arguments:
        extra += ["--freqaimodel-path", str(REPO_ROOT / "freqaimodels")]
    return extra


def bundle_environment() -> dict[str, str]:
    """Environment in which freqtrade imports the bundle's core from the source tree."""
    environment = dict(os.environ)
    paths = [str(REPO_ROOT), *filter(None, environment.get("PYTHONPATH", "").split(os.pathsep))]
    environment["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    environment.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see freqai_swing/__init__.py
    return environment


def run_offline(
    freqtrade_arguments: Sequence[str],
    datadir: Path = DEFAULT_DATADIR,
    port: int = 0,
    cwd: Path = REPO_ROOT,
) -> int:
    """Run ``freqtrade <arguments>`` with the local exchange up; return its exit code."""
    if not freqtrade_arguments:
        raise ValueError("no freqtrade sub-command given")
    subcommand = freqtrade_arguments[0]
    with LocalExchange(datadir, port=port) as exchange, tempfile.TemporaryDirectory() as tmp:
        overlay = Path(tmp) / "offline.json"
        write_offline_overlay(overlay, exchange.api_url)
        command = [
            freqtrade_executable(),
            *freqtrade_arguments,
            *bundle_arguments(subcommand, freqtrade_arguments),
            "-c",
            str(overlay),
        ]
        logger.info("Local exchange at %s; running: %s", exchange.url, " ".join(command))
        completed = subprocess.run(command, cwd=cwd, env=bundle_environment(), check=False)
    return completed.returncode

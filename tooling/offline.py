"""Run a real ``freqtrade`` command against the local exchange instead of Binance or Bybit.

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
from urllib.parse import urlsplit
from urllib.request import urlopen

from tooling.exchanges import EXCHANGES, configured_exchange, write_exchange_overlay

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
#: Sub-commands that read their candles from ``--datadir``: run offline, they read the local
#: exchange's. (download-data and trade write there: they keep their own or the config's.)
_CANDLE_READING_COMMANDS = frozenset(
    {
        "backtesting",
        "hyperopt",
        "lookahead-analysis",
        "recursive-analysis",
        "edge",
        "plot-dataframe",
        "list-data",
    }
)


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


def datadir_arguments(subcommand: str, arguments: Sequence[str], datadir: Path) -> list[str]:
    """``--datadir`` for a command that reads candles and names no folder of its own."""
    own = any(
        part in ("-d", "--datadir", "--data-dir") or part.startswith(("--datadir=", "--data-dir="))
        for part in arguments
    )
    return [] if own or subcommand not in _CANDLE_READING_COMMANDS else ["--datadir", str(datadir)]


#: The folders freqtrade expects in a ``--userdir``.
USERDIR_FOLDERS = ("backtest_results", "models", "logs", "strategies", "freqaimodels")


def run_freqtrade_in(
    arguments: Sequence[str],
    userdir: Path,
    configs: Sequence[Path],
    datadir: Path = DEFAULT_DATADIR,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the real ``freqtrade`` CLI with the bundle's plugin folders in a private userdir."""
    for folder in USERDIR_FOLDERS:
        (userdir / folder).mkdir(parents=True, exist_ok=True)
    command = [freqtrade_executable(), *arguments, *bundle_arguments(arguments[0], arguments)]
    for config in configs:
        command += ["-c", str(config)]
    command += ["--userdir", str(userdir), "--datadir", str(datadir)]
    return subprocess.run(
        command,
        cwd=REPO_ROOT,
        env=bundle_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def bundle_environment() -> dict[str, str]:
    """Environment in which freqtrade imports the bundle's core from the source tree."""
    environment = dict(os.environ)
    paths = [str(REPO_ROOT), *filter(None, environment.get("PYTHONPATH", "").split(os.pathsep))]
    environment["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    environment.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see freqai_swing/__init__.py
    return environment


class ExchangeNotRunningError(RuntimeError):
    """The local exchange a command was pointed at does not answer."""


def check_exchange(url: str, timeout: float = 3.0) -> None:
    """Ping a running local exchange; raise with what to do when it does not answer."""
    from tooling.local_exchange import loopback_host

    ping = f"{url.rstrip('/')}/api/v3/ping"
    loopback_host(urlsplit(ping).hostname or "")
    try:
        with urlopen(ping, timeout=timeout) as response:  # noqa: S310 - loopback http only
            response.read()
    except OSError as error:
        raise ExchangeNotRunningError(
            f"The local exchange at {url} is not answering ({error}). Start it with "
            f"`freqai-swing local-exchange --port {urlsplit(ping).port}` (add --datadir DIR for "
            "other candles than user_data/data/binance), or leave out "
            "--exchange-url and let this command start one."
        ) from None


def _run_with_overlay(
    api_url: str,
    freqtrade_arguments: Sequence[str],
    cwd: Path,
    environment: dict[str, str] | None = None,
    exchange_name: str = "binance",
) -> subprocess.CompletedProcess[bytes]:

    subcommand = freqtrade_arguments[0]
    environment = bundle_environment() if environment is None else environment
    if subcommand == "trade":
        from tooling.secrets_env import load_env_file

        environment = load_env_file(REPO_ROOT / ".env", environment)
    with tempfile.TemporaryDirectory() as tmp:
        overlay = Path(tmp) / "offline.json"
        write_exchange_overlay(overlay, exchange_name, api_url)
        command = [
            freqtrade_executable(),
            *freqtrade_arguments,
            *bundle_arguments(subcommand, freqtrade_arguments),
            "-c",
            str(overlay),
        ]
        logger.info("Local exchange at %s; running: %s", api_url, " ".join(command))
        return subprocess.run(command, cwd=cwd, env=environment, check=False)


def run_offline(
    freqtrade_arguments: Sequence[str],
    datadir: Path = DEFAULT_DATADIR,
    port: int = 0,
    cwd: Path = REPO_ROOT,
    exchange_url: str | None = None,
    replay_start: str | None = None,
    seconds_per_candle: float = 5.0,
    clock_file: Path | None = None,
    exchange: str | None = None,
) -> int:
    """Run ``freqtrade <arguments>`` with the local exchange up; return its exit code.

    Without ``exchange_url`` a local exchange over ``datadir`` is started for the command and
    stopped after it, and a command that reads candles reads ``datadir``'s unless it names its
    own ``--datadir``; with it, that running exchange is checked first and then used. With
    ``replay_start`` the exchange replays the candles from that date, one 1h candle every
    ``seconds_per_candle``, and the command runs on the replayed clock (tooling.replay); with
    ``exchange_url`` and ``clock_file`` it runs on the clock of that running replay exchange
    (restart a bot without restarting the replay). ``exchange`` (``binance`` or ``bybit``;
    default: the one the command's configs name) picks the API ccxt talks to.
    """
    if not freqtrade_arguments:
        raise ValueError("no freqtrade sub-command given")
    name = exchange or configured_exchange(freqtrade_arguments, cwd)
    if name not in EXCHANGES:
        raise ValueError(f"the local exchange serves {' and '.join(EXCHANGES)}, not {name!r}")
    if exchange_url is not None:
        if replay_start is not None:
            raise ValueError(
                "--replay-start starts its own exchange; for a running replay exchange pass its "
                "--clock-file instead"
            )
        check_exchange(exchange_url)
        api_url = f"{exchange_url.rstrip('/')}/api/v3"
        environment = None
        if clock_file is not None:
            from tooling.replay import replay_environment

            if not Path(clock_file).is_file():
                raise ExchangeNotRunningError(
                    f"No replay clock at {clock_file}: start the exchange with "
                    "`freqai-swing local-exchange --replay-start DATE --clock-file FILE`."
                )
            environment = replay_environment(Path(clock_file), bundle_environment())
        return _run_with_overlay(api_url, freqtrade_arguments, cwd, environment, name).returncode
    if clock_file is not None:
        raise ValueError("--clock-file goes with --exchange-url (a running replay exchange)")
    freqtrade_arguments = [
        *freqtrade_arguments,
        *datadir_arguments(freqtrade_arguments[0], freqtrade_arguments, datadir),
    ]
    # Imported here: numpy and pandas would slow every ``freqai-swing --help``.
    from tooling.local_exchange import LocalExchange, ReplayClock, now_ms, parse_replay_start

    if replay_start is None:
        with LocalExchange(datadir, port=port) as exchange:
            return _run_with_overlay(
                exchange.api_url, freqtrade_arguments, cwd, None, name
            ).returncode
    from tooling.replay import replay_environment

    if seconds_per_candle <= 0:
        raise ValueError("--seconds-per-candle must be positive")
    clock = ReplayClock(parse_replay_start(replay_start), seconds_per_candle, now_ms())
    with tempfile.TemporaryDirectory() as tmp:
        clock_file = Path(tmp) / "clock"
        with LocalExchange(datadir, port=port, replay=clock, clock_file=clock_file) as exchange:
            logger.info(
                "Replaying from %s, one candle every %.1f s (clock file %s)",
                replay_start,
                seconds_per_candle,
                clock_file,
            )
            environment = replay_environment(clock_file, bundle_environment())
            return _run_with_overlay(
                exchange.api_url, freqtrade_arguments, cwd, environment, name
            ).returncode

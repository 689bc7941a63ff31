"""A loopback HTTP server answering like Binance's spot REST API and Bybit's v5, from a datadir.

The command line (the first line above is its ``--help`` description): serve in the foreground
until SIGINT/SIGTERM, stopping cleanly on either.

    python -m tooling.local_exchange --datadir user_data/data/binance --port 18765
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from tooling.local_exchange.clock import ReplayClock, now_ms, parse_replay_start
from tooling.local_exchange.server import DEFAULT_HOST, DEFAULT_PORT, LocalExchange, PortInUseError


def _stop_on_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM, so ``kill $(cat pidfile)`` stops the server cleanly.

    Installed before the server announces itself: a signal sent right after the ready line must
    not kill the process before its pidfile is removed.
    """
    stop = threading.Event()

    def _handle(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _handle)
    signal.signal(signal.SIGTERM, _handle)
    return stop


def _serve(exchange: LocalExchange, pidfile: Path | None) -> None:
    stop = _stop_on_signals()
    exchange.start()
    try:
        if pidfile is not None:
            pidfile.write_text(f"{os.getpid()}\n", encoding="utf-8")
        print(f"Local exchange listening on {exchange.url}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        exchange.stop()
        if pidfile is not None and pidfile.is_file():
            pidfile.unlink()


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """Serve in the foreground until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("--datadir", type=Path, default=Path("user_data/data/binance"))
    parser.add_argument("--host", default=DEFAULT_HOST, help="loopback address only")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    parser.add_argument("--pidfile", type=Path, help="write the pid here, removed on exit")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    parser.add_argument(
        "--replay-start", help="replay mode: serve the candles as if live from this UTC date"
    )
    parser.add_argument(
        "--seconds-per-candle",
        type=float,
        default=5.0,
        help="replay mode: real seconds per replayed 1h candle (default 5)",
    )
    parser.add_argument(
        "--clock-file", type=Path, help="replay mode: keep the replayed clock here for the bot"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s - %(name)s - %(levelname)s - %(message)s",
    )
    try:
        replay = None
        if args.replay_start is not None:
            if args.seconds_per_candle <= 0:
                raise ValueError("--seconds-per-candle must be positive")
            replay = ReplayClock(
                parse_replay_start(args.replay_start), args.seconds_per_candle, now_ms()
            )
        elif args.clock_file is not None:
            raise ValueError("--clock-file needs --replay-start")
        exchange = LocalExchange(
            args.datadir,
            host=args.host,
            port=args.port,
            replay=replay,
            clock_file=args.clock_file,
        )
        _serve(exchange, args.pidfile)
    except (ValueError, FileNotFoundError, PortInUseError) as error:
        print(f"local_exchange: {error}", file=sys.stderr)
        return 2
    return 0

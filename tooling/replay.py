"""Run a process on the replay exchange's clock: the time a replayed paper-trading bot lives in.

Freqtrade decides when to refresh candles, when a candle is new, when FreqAI retrains and when
a model expires from ``datetime.now()``. Replaying a year of candles in minutes therefore needs
the bot's wall clock to follow the replay; nothing in freqtrade is patched for it. The process
runs under libfaketime (``LD_PRELOAD``, shipped as a wheel by the ``libfaketime`` package),
which reads the offset the replay exchange keeps in a clock file: the realtime clock jumps one
candle at each replay step and runs at real speed in between, while the monotonic clock (sleeps,
timeouts, asyncio) stays real. Served candles keep their true timestamps, so the trades in the
database carry the dates of the candles they were made on.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def faketime_library() -> Path:
    """The folder holding ``libfaketime.so.1`` from the ``libfaketime`` wheel."""
    try:
        import libfaketime
    except ImportError as error:
        raise RuntimeError(
            "replay mode needs the libfaketime package (pip install libfaketime==3.0.1)"
        ) from error
    folder = Path(libfaketime.__file__).parent / "vendor" / "libfaketime" / "src"
    if not (folder / "libfaketime.so.1").is_file():
        raise RuntimeError(f"libfaketime.so.1 is missing from {folder}")
    return folder


def replay_environment(clock_file: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this environment) plus what runs a process on the replayed clock."""
    if not sys.platform.startswith("linux"):
        raise RuntimeError("replay mode runs the bot under libfaketime, which needs Linux")
    environment = dict(os.environ if base is None else base)
    library = faketime_library()
    preload = [part for part in environment.get("LD_PRELOAD", "").split(":") if part]
    environment["LD_PRELOAD"] = ":".join([str(library / "libfaketime.so.1"), *preload])
    environment["FAKETIME_TIMESTAMP_FILE"] = str(Path(clock_file).resolve())
    # Re-read the clock file when the cached value is over a second old (the age is counted in
    # whole seconds): a jump is seen within about 2 s. Reading it on
    # every call (FAKETIME_NO_CACHE) made each clock call a file read and, with several
    # threads, let the real time through now and then (about 1 call in 4,000 in
    # tests/tooling/test_replay.py's probe): a bot then stored a time two years ahead.
    environment.pop("FAKETIME_NO_CACHE", None)
    environment["FAKETIME_CACHE_DURATION"] = "1"
    # Sleeps, timeouts and asyncio keep real durations; only "now" follows the replay.
    environment["DONT_FAKE_MONOTONIC"] = "1"
    environment.pop("FAKETIME", None)
    return environment

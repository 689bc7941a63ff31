"""Replayed time: the exchange's clock, and the replay clock shared with the bot."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

HOUR_MS = 3_600_000


def now_ms() -> int:
    """Wall-clock time in ms: freqtrade compares it with its own clock before trading."""
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class ReplayClock:
    """Replayed time: one ``candle_ms`` step every ``seconds_per_candle`` real seconds.

    The replayed clock starts at ``start_ms`` when the server starts (``anchor_ms``, real time),
    runs at real speed inside a step and jumps to the next candle's open at each step. Freqtrade
    schedules its loop, its candle refreshes and FreqAI's retraining from its own wall clock, so
    the bot runs under the same clock (libfaketime reading :meth:`offset_seconds` from a shared
    file, see :mod:`tooling.replay`): both sides agree on "now" and no freqtrade code is changed.
    Durations inside a step stay real, so sleeps, timeouts and throttling behave normally.
    """

    start_ms: int
    seconds_per_candle: float
    anchor_ms: int
    candle_ms: int = HOUR_MS

    def step(self, real_ms: int) -> int:
        """How many candles have been replayed since the start."""
        return max(int((real_ms - self.anchor_ms) // (self.seconds_per_candle * 1000)), 0)

    def offset_ms(self, real_ms: int) -> int:
        """Replayed minus real time: constant within a step."""
        step = self.step(real_ms)
        real_step_start = self.anchor_ms + int(step * self.seconds_per_candle * 1000)
        return self.start_ms + step * self.candle_ms - real_step_start

    def now_ms(self, real_ms: int | None = None) -> int:
        """The replayed time at ``real_ms`` (default: now)."""
        real = now_ms() if real_ms is None else real_ms
        return real + self.offset_ms(real)

    def next_step_real_ms(self, real_ms: int) -> int:
        """Real time of the next jump."""
        return self.anchor_ms + int((self.step(real_ms) + 1) * self.seconds_per_candle * 1000)


def write_clock_file(path: Path, clock: ReplayClock) -> None:
    """The replayed-minus-real offset in seconds, libfaketime's ``FAKETIME_TIMESTAMP_FILE`` format.

    Written to a temporary file and renamed, so a reader never sees half a line.
    """
    path = Path(path)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(f"{clock.offset_ms(now_ms()) / 1000:+.3f}\n", encoding="utf-8")
    temporary.replace(path)


def parse_replay_start(text: str) -> int:
    """``2024-03-01`` or ``2024-03-01T05:00`` (UTC) as ms, floored to the hour."""
    problem = ValueError(f"--replay-start {text!r} is not a date (use e.g. 2024-03-01)")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ]\d{2}(:\d{2}){0,2})?(Z|[+-]00:?00)?", text):
        raise problem
    try:
        moment = pd.Timestamp(text)
    except ValueError as error:
        raise problem from error
    moment = moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")
    return int(moment.floor("h").value // 1_000_000)

"""Replay mode of the local exchange: the bundled candles served as if live, leak-free.

A :class:`ReplayClock` anchored in the past puts the replay at a known step; every endpoint
must agree on that "now" and serve nothing after it. Real candles throughout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from urllib.request import ProxyHandler, build_opener

import pandas as pd
import pytest

from tests.conftest import SAMPLE_DATADIR, load_candles
from tooling.local_exchange import (
    HOUR_MS,
    LocalExchange,
    ReplayClock,
    now_ms,
    parse_replay_start,
)
from tooling.replay import replay_environment

START = "2024-03-01"
STEP_SECONDS = 3600.0  # one candle per real hour: the replay stays on one step during a test
STEPS_DONE = 30  # the replay is 30 candles past its start


def ms(text: str) -> int:
    return int(pd.Timestamp(text, tz="UTC").value // 1_000_000)


def get(exchange: LocalExchange, path: str, **params: Any) -> Any:
    opener = build_opener(ProxyHandler({}))
    url = f"{exchange.url}{path}?{urlencode(params)}"
    with opener.open(url, timeout=10) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalExchange]:
    anchor = now_ms() - int((STEPS_DONE + 0.5) * STEP_SECONDS * 1000)
    clock = ReplayClock(parse_replay_start(START), STEP_SECONDS, anchor)
    clock_file = tmp_path_factory.mktemp("replay") / "clock"
    with LocalExchange(SAMPLE_DATADIR, replay=clock, clock_file=clock_file) as exchange:
        yield exchange


def replay_now(exchange: LocalExchange) -> int:
    assert exchange.replay is not None
    return exchange.replay.now_ms()


def test_clock_steps_one_candle_per_step_and_runs_real_time_inside() -> None:
    clock = ReplayClock(ms("2024-03-01"), 5.0, anchor_ms=1_000_000)
    assert clock.now_ms(1_000_000) == ms("2024-03-01")
    assert clock.now_ms(1_004_999) == ms("2024-03-01") + 4_999
    assert clock.now_ms(1_005_000) == ms("2024-03-01 01:00")
    assert clock.now_ms(1_000_000 + 5_000 * 24) == ms("2024-03-02")
    assert clock.next_step_real_ms(1_004_000) == 1_005_000
    assert parse_replay_start("2024-03-01T05:42") == ms("2024-03-01 05:00")
    with pytest.raises(ValueError, match="--replay-start 'March' is not a date"):
        parse_replay_start("March")


def test_time_endpoints_tell_the_replayed_time(replay: LocalExchange) -> None:
    expected = ms(START) + STEPS_DONE * HOUR_MS
    server = get(replay, "/api/v3/time")["serverTime"]
    assert expected <= server < expected + HOUR_MS
    assert abs(get(replay, "/api/v3/exchangeInfo")["serverTime"] - server) < 60_000


@pytest.mark.parametrize("interval", ["1h", "4h", "1d"])
def test_klines_stop_at_now_with_the_last_candle_forming(
    replay: LocalExchange, interval: str
) -> None:
    now = replay_now(replay)
    rows = get(replay, "/api/v3/klines", symbol="ETHUSDT", interval=interval, limit=1000)
    assert rows[-1][0] <= now < rows[-1][6] + 1, "the last candle contains now"
    source = load_candles("ETH/USDT", interval).set_index("date")
    closed = pd.Timestamp(rows[-2][0], unit="ms", tz="UTC")
    assert float(rows[-2][4]) == source.loc[closed, "close"], "closed candles are the real ones"
    hourly = load_candles("ETH/USDT").set_index("date")
    current_hour = pd.Timestamp(now, unit="ms", tz="UTC").floor("h")
    price = hourly.loc[current_hour, "open"]
    forming = rows[-1]
    assert float(forming[4]) == price, "the forming candle closes at the current price"
    assert float(forming[1]) == source.loc[pd.Timestamp(forming[0], unit="ms", tz="UTC"), "open"]
    known = hourly[
        (hourly.index >= pd.Timestamp(forming[0], unit="ms", tz="UTC"))
        & (hourly.index < current_hour)
    ]
    assert float(forming[2]) == max([price, *known["high"]]), "high known so far only"
    assert float(forming[3]) == min([price, *known["low"]])
    # Asking for the future gives nothing after now.
    later = get(
        replay, "/api/v3/klines", symbol="ETHUSDT", interval=interval, startTime=now + 1, limit=10
    )
    assert later == []


def test_tickers_and_book_quote_the_current_price(replay: LocalExchange) -> None:
    now = replay_now(replay)
    current_hour = pd.Timestamp(now, unit="ms", tz="UTC").floor("h")
    price = load_candles("BTC/USDT").set_index("date").loc[current_hour, "open"]
    assert float(get(replay, "/api/v3/ticker/price", symbol="BTCUSDT")["price"]) == price
    ticker = get(replay, "/api/v3/ticker/24hr", symbol="BTCUSDT")
    assert float(ticker["lastPrice"]) == price and ticker["closeTime"] < now + HOUR_MS
    book = get(replay, "/api/v3/ticker/bookTicker", symbol="BTCUSDT")
    depth = get(replay, "/api/v3/depth", symbol="BTCUSDT", limit=5)
    assert float(book["bidPrice"]) == float(depth["bids"][0][0]) == round(price, 2)
    assert float(depth["asks"][0][0]) > float(depth["bids"][0][0])


def test_static_mode_still_serves_the_whole_file(tmp_path: Path) -> None:
    with LocalExchange(SAMPLE_DATADIR) as exchange:
        rows = get(exchange, "/api/v3/klines", symbol="ETHUSDT", interval="1d", limit=3)
    last = load_candles("ETH/USDT", "1d").iloc[-1]
    assert rows[-1][0] == int(last["date"].value // 1_000_000)
    with pytest.raises(ValueError, match="only written in replay mode"):
        LocalExchange(SAMPLE_DATADIR, clock_file=tmp_path / "clock")


def test_a_process_on_the_replay_clock_sees_the_replayed_time(replay: LocalExchange) -> None:
    assert replay.clock_file is not None
    environment = replay_environment(replay.clock_file, dict(os.environ))
    script = "import datetime; print(datetime.datetime.now(datetime.UTC).isoformat())"
    output = subprocess.run(
        [sys.executable, "-c", script],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    seen = pd.Timestamp(output.strip())
    expected = pd.Timestamp(replay_now(replay), unit="ms", tz="UTC")
    assert abs(seen - expected) < pd.Timedelta(seconds=30)
    assert seen.year == 2024


THREADED_CLOCK_PROBE = """
import sys, threading, time
seconds, first_jump, results = float(sys.argv[1]), float(sys.argv[2]), []
def probe():
    end, calls, leaks, seen_jump = time.monotonic() + seconds, 0, 0, None
    started, before = time.monotonic(), time.time()
    while time.monotonic() < end:
        now = time.time()
        calls += 1
        leaks += now > 1.75e9  # real time (after 2025-06) instead of the replayed 2024
        if seen_jump is None and now - before > first_jump / 2:
            seen_jump = time.monotonic() - started
    results.append((calls, leaks, seen_jump))
threads = [threading.Thread(target=probe) for _ in range(4)]
[thread.start() for thread in threads]
[thread.join() for thread in threads]
print(repr(results))
"""


def test_a_threaded_process_never_sees_the_real_time_and_sees_each_jump_within_two_seconds(
    tmp_path: Path,
) -> None:
    """Four threads read the clock while the exchange jumps it every 0.5 s. libfaketime read
    the clock file on every call at first; with several threads the real time then leaked
    through about once in 4,000 calls (a bot stored a 2026 heartbeat and stopped logging)."""
    import ast
    import threading

    from tooling.local_exchange import write_clock_file

    step = 0.5
    clock = ReplayClock(parse_replay_start(START), step, now_ms())
    clock_file = tmp_path / "clock"
    write_clock_file(clock_file, clock)
    stop = threading.Event()

    def keep() -> None:
        while not stop.wait(step / 5):  # rewrites between the jumps too, as a loaded writer may
            write_clock_file(clock_file, clock)

    writer = threading.Thread(target=keep, daemon=True)
    writer.start()
    try:
        output = subprocess.run(
            [sys.executable, "-c", THREADED_CLOCK_PROBE, "4", str(HOUR_MS / 1000)],
            env=replay_environment(clock_file, dict(os.environ)),
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
    finally:
        stop.set()
        writer.join()
    results = ast.literal_eval(output.strip())
    assert len(results) == 4
    for calls, leaks, seen_jump in results:
        assert calls > 1000
        assert leaks == 0
        # libfaketime checks its cache's age in whole seconds: a jump shows within about 2 s
        assert seen_jump is not None and seen_jump < step + 2.5


@pytest.mark.slow
def test_offline_command_runs_freqtrade_on_the_replayed_clock(tmp_path: Path) -> None:
    """``freqai-swing offline --replay-start``: freqtrade's "now" is the replayed one."""
    command = [
        sys.executable,
        "-m",
        "tooling.cli",
        "offline",
        "--replay-start",
        START,
        "--seconds-per-candle",
        "2",
        "--",
        "freqtrade",
        "download-data",
        "-c",
        "config/base.json",
        "--pairs",
        "ETH/USDT",
        "--timeframes",
        "1h",
        "--days",
        "3",
        "--datadir",
        str(tmp_path),
        "--userdir",
        str(tmp_path / "userdir"),
    ]
    (tmp_path / "userdir").mkdir()
    result = subprocess.run(
        command,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    candles = pd.read_feather(tmp_path / "ETH_USDT-1h.feather")
    start = pd.Timestamp(START, tz="UTC")
    # Three replayed days back from a "now" a few candles after the start, never beyond it.
    assert candles["date"].min() >= start - pd.Timedelta(days=3, hours=1)
    assert start - pd.Timedelta(hours=2) <= candles["date"].max() < start + pd.Timedelta(hours=12)


@pytest.mark.slow
def test_offline_command_joins_a_running_replay_by_its_clock_file(
    replay: LocalExchange, tmp_path: Path
) -> None:
    """``--exchange-url`` + ``--clock-file``: a (re)started bot on a running replay's clock."""
    assert replay.clock_file is not None
    (tmp_path / "userdir").mkdir()
    common = ["-m", "tooling.cli", "offline", "--exchange-url", replay.url]
    download = [
        "--",
        "freqtrade",
        "download-data",
        "-c",
        "config/base.json",
        "--pairs",
        "ETH/USDT",
        "--timeframes",
        "1h",
        "--days",
        "2",
        "--datadir",
        str(tmp_path),
        "--userdir",
        str(tmp_path / "userdir"),
    ]
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, *common, "--clock-file", str(replay.clock_file), *download],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    last = pd.read_feather(tmp_path / "ETH_USDT-1h.feather")["date"].max()
    now = pd.Timestamp(replay_now(replay), unit="ms", tz="UTC")
    assert now - pd.Timedelta(hours=2) <= last <= now
    missing = subprocess.run(
        [sys.executable, *common, "--clock-file", str(tmp_path / "none"), *download],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 2 and "No replay clock at" in missing.stderr

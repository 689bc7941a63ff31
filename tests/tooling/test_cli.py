"""``freqai-swing``: the offline runner, with a started or an already running local exchange."""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

import pandas as pd
import pytest

from tests.conftest import REPO_ROOT, SAMPLE_DATADIR, run_bundle_cli
from tooling.local_exchange import LocalExchange
from tooling.offline import bundle_environment


def test_offline_starts_an_exchange_for_a_real_freqtrade_command() -> None:
    result = run_bundle_cli("offline", "--", "freqtrade", "list-markets", "-c", "config/base.json")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Exchange Binance has 10 active markets" in result.stdout + result.stderr


def test_offline_uses_a_running_exchange() -> None:
    with LocalExchange(SAMPLE_DATADIR, port=0) as exchange:
        result = run_bundle_cli(
            "offline",
            "--exchange-url",
            exchange.url,
            "--",
            "freqtrade",
            "list-pairs",
            "-c",
            "config/base.json",
        )
        assert exchange.endpoint_hits["GET /api/v3/exchangeInfo"] >= 1
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "BTC/USDT" in result.stdout


def test_exchange_not_running_is_one_clear_line() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_bundle_cli(
        "offline",
        "--exchange-url",
        f"http://127.0.0.1:{port}",
        "--",
        "freqtrade",
        "list-pairs",
        "-c",
        "config/base.json",
    )
    assert result.returncode == 2
    assert f"The local exchange at http://127.0.0.1:{port} is not answering" in result.stderr
    assert f"freqai-swing local-exchange --port {port}" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_the_advised_local_exchange_command_serves(tmp_path: Path) -> None:
    """The command the error above advises really starts the server (it once did not parse)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    advice = run_bundle_cli("offline", "--exchange-url", url, "--", "list-pairs")
    command = re.search(r"`(freqai-swing local-exchange [^`]*)`", advice.stderr)
    assert command is not None, advice.stderr
    words = command.group(1).split()
    assert words[-2:] == ["--port", str(port)]
    server = subprocess.Popen(
        [sys.executable, "-m", "tooling.cli", *words[1:], "--datadir", str(SAMPLE_DATADIR)],
        cwd=REPO_ROOT,
        env=bundle_environment(),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(200):
            if server.poll() is not None:
                break
            try:
                with urlopen(f"http://127.0.0.1:{port}/api/v3/ping", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("the advised local exchange never answered")
        assert server.poll() is None, server.stderr.read() if server.stderr else ""
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)
    assert server.returncode == 0


def test_sample_data_takes_its_options(tmp_path: Path) -> None:
    result = run_bundle_cli(
        "sample-data", "--source", str(SAMPLE_DATADIR), "--target", str(tmp_path),
        "--start", "2024-06-01", "--end", "2024-06-02 23:00",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    candles = pd.read_feather(tmp_path / "BTC_USDT-1h.feather")
    assert len(candles) == 48
    assert candles["date"].iloc[0] == pd.Timestamp("2024-06-01", tz="UTC")


def test_sample_data_without_its_source_is_one_line(tmp_path: Path) -> None:
    result = run_bundle_cli("sample-data", "--source", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{tmp_path / 'nowhere' / 'BTC_USDT-1h.feather'} is missing" in result.stderr
    assert "--source" in result.stderr


def test_export_refuses_a_missing_userdir(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    result = run_bundle_cli(
        "export", "--userdir", str(tmp_path / "nowhere"), "--warehouse", str(warehouse)
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"the user directory {tmp_path / 'nowhere'} does not exist" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not warehouse.exists(), "no empty warehouse is created"


def test_offline_with_a_missing_datadir_is_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = run_bundle_cli(
        "offline", "--datadir", str(missing), "--", "freqtrade", "list-pairs", "-c",
        "config/base.json",
    )  # fmt: skip
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if " - ERROR - " in line]
    assert len(errors) == 1, result.stderr
    assert f"--datadir {missing} does not exist: pass a folder of Freqtrade candle" in errors[0]


def test_offline_datadir_is_the_one_freqtrade_reads(tmp_path: Path) -> None:
    """``offline --datadir X``: freqtrade reads X too, not config/base.json's folder."""
    datadir = tmp_path / "binance"
    datadir.mkdir()
    shutil.copy(SAMPLE_DATADIR / "ETH_USDT-4h.feather", datadir)
    result = run_bundle_cli(
        "offline", "--datadir", str(datadir), "--", "freqtrade", "list-data", "-c",
        "config/base.json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "ETH/USDT" in result.stdout
    assert "BTC/USDT" not in result.stdout, "freqtrade read the bundled sample, not --datadir"
    own = tmp_path / "own"
    own.mkdir()
    shutil.copy(SAMPLE_DATADIR / "SOL_USDT-1h.feather", own)
    result = run_bundle_cli(
        "offline", "--datadir", str(datadir), "--", "freqtrade", "list-data", "-c",
        "config/base.json", "--datadir", str(own),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "SOL/USDT" in result.stdout and "ETH/USDT" not in result.stdout

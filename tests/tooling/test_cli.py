"""``freqai-swing``: the offline runner, with a started or an already running local exchange."""

from __future__ import annotations

import socket

from tests.conftest import SAMPLE_DATADIR, run_bundle_cli
from tooling.local_exchange import LocalExchange


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

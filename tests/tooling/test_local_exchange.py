"""The local exchange must look like Binance to ccxt and freqtrade and serve the datadir exactly."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import ProxyHandler, build_opener

import ccxt
import numpy as np
import pandas as pd
import pytest

from tooling.local_exchange import (
    LocalExchange,
    PortInUseError,
    derived_rules,
    offline_overlay,
    write_offline_overlay,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
DATADIR = REPO_ROOT / "user_data/data/binance"
PAIRS = {"BTC", "ETH", "SOL", "BNB", "XRP", "ADA", "AVAX", "DOGE", "LINK", "DOT"}
HOUR_MS = 3_600_000
# Loopback traffic must never be sent through a proxy configured for the package registries.
NO_PROXY_ENV = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


def ms(timestamp: str) -> int:
    return int(pd.Timestamp(timestamp, tz="UTC").value // 1_000_000)


def source_candles(pair: str, timeframe: str) -> pd.DataFrame:
    """The bundled feather file, with open times in ms for comparisons."""
    frame = pd.read_feather(DATADIR / f"{pair.replace('/', '_')}-{timeframe}.feather")
    frame["open_time"] = pd.DatetimeIndex(frame["date"]).as_unit("ms").asi8
    return frame


def get(exchange: LocalExchange, path: str, **params: Any) -> tuple[int, Any]:
    """A raw HTTP GET, to check Binance's wire format rather than ccxt's parsing of it."""
    opener = build_opener(ProxyHandler({}))
    url = f"{exchange.url}{path}" + (f"?{urlencode(params)}" if params else "")
    try:
        with opener.open(url, timeout=10) as response:
            return response.status, json.load(response)
    except HTTPError as error:
        return error.code, json.load(error)


def ccxt_client(exchange: LocalExchange) -> ccxt.binance:
    """ccxt's Binance configured exactly as freqtrade would be by the offline overlay."""
    client = ccxt.binance(offline_overlay(exchange.api_url)["exchange"]["ccxt_config"])
    client.session.trust_env = False
    return client


@pytest.fixture(scope="module")
def exchange() -> Iterator[LocalExchange]:
    with LocalExchange(DATADIR) as running:
        yield running


@pytest.fixture(scope="module")
def client(exchange: LocalExchange) -> ccxt.binance:
    client = ccxt_client(exchange)
    client.load_markets()
    return client


# --- markets ---------------------------------------------------------------------------------


def test_load_markets_parses_every_served_pair(client: ccxt.binance) -> None:
    assert set(client.markets) == {f"{base}/USDT" for base in PAIRS}
    for market in client.markets.values():
        assert market["spot"] and market["active"] and market["type"] == "spot"
        assert not market["margin"]
        assert market["limits"]["cost"]["min"] == 5.0
        assert market["precision"]["base"] == 1e-8


def test_markets_carry_binance_precision_and_limits(client: ccxt.binance) -> None:
    btc = client.market("BTC/USDT")
    assert btc["id"] == "BTCUSDT"
    assert btc["precision"]["price"] == 0.01
    assert btc["precision"]["amount"] == 0.00001
    assert btc["limits"]["amount"]["min"] == 0.00001
    assert btc["limits"]["price"]["min"] == 0.01
    doge = client.market("DOGE/USDT")
    assert doge["precision"]["price"] == 0.00001
    assert doge["precision"]["amount"] == 1.0
    assert client.amount_to_precision("BTC/USDT", 0.123456789) == "0.12345"
    assert client.price_to_precision("DOGE/USDT", 0.1234567) == "0.12346"  # rounds


def test_exchange_info_wire_format(exchange: LocalExchange) -> None:
    status, info = get(exchange, "/api/v3/exchangeInfo", symbol="ETHUSDT")
    assert status == 200
    assert info["timezone"] == "UTC" and info["rateLimits"] and info["exchangeFilters"] == []
    (symbol,) = info["symbols"]
    assert symbol["status"] == "TRADING"
    assert (symbol["baseAsset"], symbol["quoteAsset"]) == ("ETH", "USDT")
    assert symbol["permissions"] == ["SPOT"] and symbol["permissionSets"] == [["SPOT"]]
    assert symbol["isSpotTradingAllowed"] and not symbol["isMarginTradingAllowed"]
    filters = {item["filterType"]: item for item in symbol["filters"]}
    assert {"PRICE_FILTER", "LOT_SIZE", "MARKET_LOT_SIZE", "NOTIONAL"} <= set(filters)
    assert {"MAX_NUM_ORDERS", "MAX_NUM_ALGO_ORDERS"} <= set(filters)
    assert filters["NOTIONAL"]["minNotional"] == "5.00000000"
    assert filters["LOT_SIZE"]["stepSize"] == "0.00010000"


@pytest.mark.parametrize(
    ("price", "tick", "step"),
    [(62772.01, "0.01", "0.00001"), (146.61, "0.01", "0.001"), (0.12448, "0.00001", "1")],
)
def test_unknown_pairs_get_rules_scaled_to_their_price(price: float, tick: str, step: str) -> None:
    rules = derived_rules(price)
    assert (rules.tick_size, rules.step_size) == (Decimal(tick), Decimal(step))


def test_serves_the_pairs_of_any_datadir(tmp_path: Path) -> None:
    """A pair outside the rules table gets derived rules; a lone 1h file still serves 4h."""
    shutil.copy(DATADIR / "DOGE_USDT-1h.feather", tmp_path / "WIF_USDT-1h.feather")
    (tmp_path / "WIF_USDT_USDT-1h-futures.feather").write_bytes(b"")  # not a spot file
    with LocalExchange(tmp_path) as exchange:
        _, info = get(exchange, "/api/v3/exchangeInfo")
        (symbol,) = info["symbols"]
        filters = {item["filterType"]: item for item in symbol["filters"]}
        assert (symbol["symbol"], symbol["baseAsset"]) == ("WIFUSDT", "WIF")
        assert filters["PRICE_FILTER"]["tickSize"] == "0.00001000"
        assert filters["LOT_SIZE"]["stepSize"] == "1.00000000"
        _, rows = get(exchange, "/api/v3/klines", symbol="WIFUSDT", interval="4h", limit=2)
        four_hours = source_candles("DOGE/USDT", "4h")
        assert [row[0] for row in rows] == four_hours["open_time"].iloc[-2:].tolist()
        assert [float(row[5]) for row in rows] == four_hours["volume"].iloc[-2:].tolist()


def test_a_datadir_without_candles_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        LocalExchange(tmp_path)


# --- klines ----------------------------------------------------------------------------------


def test_kline_wire_format(exchange: LocalExchange) -> None:
    start = ms("2024-01-01")
    status, rows = get(exchange, "/api/v3/klines", symbol="BTCUSDT", interval="1h", startTime=start)
    assert status == 200
    assert len(rows) == 500  # Binance's default limit
    first = rows[0]
    assert len(first) == 12
    assert first[0] == start and first[6] == start + HOUR_MS - 1
    assert all(isinstance(value, str) for value in first[1:6])
    source = source_candles("BTC/USDT", "1h").set_index("open_time").loc[start]
    assert [float(value) for value in first[1:6]] == [
        source["open"],
        source["high"],
        source["low"],
        source["close"],
        source["volume"],
    ]


def test_klines_limit_is_capped_at_1000(exchange: LocalExchange) -> None:
    _, rows = get(
        exchange, "/api/v3/klines", symbol="ETHUSDT", interval="1h", startTime=0, limit=5000
    )
    source = source_candles("ETH/USDT", "1h")
    assert [row[0] for row in rows] == source["open_time"].iloc[:1000].tolist()


def test_klines_start_and_end_are_inclusive(exchange: LocalExchange) -> None:
    start, end = ms("2024-03-01 00:00"), ms("2024-03-01 05:00")
    _, rows = get(
        exchange, "/api/v3/klines", symbol="SOLUSDT", interval="1h", startTime=start, endTime=end
    )
    assert [row[0] for row in rows] == [start + hour * HOUR_MS for hour in range(6)]


def test_klines_without_start_return_the_last_candles_up_to_end(exchange: LocalExchange) -> None:
    source = source_candles("XRP/USDT", "4h")
    _, latest = get(exchange, "/api/v3/klines", symbol="XRPUSDT", interval="4h", limit=3)
    assert [row[0] for row in latest] == source["open_time"].iloc[-3:].tolist()
    end = ms("2024-02-01 00:00")
    _, before = get(
        exchange, "/api/v3/klines", symbol="XRPUSDT", interval="4h", endTime=end, limit=2
    )
    assert [row[0] for row in before] == [end - 4 * HOUR_MS, end]


def test_ui_klines_equal_klines(exchange: LocalExchange) -> None:
    params = {"symbol": "ADAUSDT", "interval": "1d", "startTime": ms("2023-06-01"), "limit": 7}
    assert get(exchange, "/api/v3/uiKlines", **params) == get(exchange, "/api/v3/klines", **params)


def test_ccxt_pagination_returns_the_file_exactly(client: ccxt.binance) -> None:
    """Paging 1000 at a time over the whole file, across its missing hour, gives every row."""
    source = source_candles("BTC/USDT", "1h")
    candles: list[list[float]] = []
    since = int(source["open_time"].iloc[0])
    while True:
        page = client.fetch_ohlcv("BTC/USDT", "1h", since=since, limit=1000)
        if not page:
            break
        candles.extend(page)
        since = page[-1][0] + HOUR_MS
    fetched = np.array(candles)
    expected = source[["open_time", "open", "high", "low", "close", "volume"]].to_numpy()
    assert fetched.shape == expected.shape
    assert np.array_equal(fetched, expected)


def test_coarser_intervals_are_resampled_from_the_1h_file(client: ccxt.binance) -> None:
    since = ms("2024-04-01")
    two_hours = client.fetch_ohlcv("LINK/USDT", "2h", since=since, limit=3)
    hours = source_candles("LINK/USDT", "1h").set_index("open_time")
    first = hours.loc[[since, since + HOUR_MS]]
    assert two_hours[0] == [
        since,
        first["open"].iloc[0],
        first["high"].max(),
        first["low"].min(),
        first["close"].iloc[-1],
        first["volume"].sum(),
    ]
    assert [row[0] for row in two_hours] == [since + step * 2 * HOUR_MS for step in range(3)]


# --- errors ----------------------------------------------------------------------------------


def test_unknown_symbol_is_binance_error_1121(
    exchange: LocalExchange, client: ccxt.binance
) -> None:
    status, body = get(exchange, "/api/v3/klines", symbol="FOOUSDT", interval="1h")
    assert (status, body) == (400, {"code": -1121, "msg": "Invalid symbol."})
    status, body = get(exchange, "/api/v3/ticker/24hr", symbol="FOOUSDT")
    assert (status, body["code"]) == (400, -1121)
    with pytest.raises(ccxt.BadSymbol):
        client.public_get_klines({"symbol": "FOOUSDT", "interval": "1h"})


@pytest.mark.parametrize("interval", ["7h", "5m", "1w", ""])
def test_unservable_interval_is_binance_error(exchange: LocalExchange, interval: str) -> None:
    status, body = get(exchange, "/api/v3/klines", symbol="BTCUSDT", interval=interval)
    assert status == 400
    assert body["code"] == (-1102 if interval == "" else -1120)


def test_bad_kline_parameters(exchange: LocalExchange) -> None:
    status, body = get(
        exchange, "/api/v3/klines", symbol="BTCUSDT", interval="1h", startTime=2, endTime=1
    )
    assert (status, body["code"]) == (400, -1023)
    status, body = get(exchange, "/api/v3/klines", symbol="BTCUSDT", interval="1h", limit="x")
    assert (status, body["code"]) == (400, -1100)


def test_unknown_path_is_404_json(exchange: LocalExchange) -> None:
    status, body = get(exchange, "/api/v3/account")
    assert status == 404
    assert body["code"] == -1000 and "/api/v3/account" in body["msg"]


# --- tickers and time ------------------------------------------------------------------------


def test_tickers_and_time_through_ccxt(client: ccxt.binance) -> None:
    assert client.fetch_time() > ms("2024-07-01")
    last_close = float(source_candles("ETH/USDT", "1h")["close"].iloc[-1])
    ticker = client.fetch_ticker("ETH/USDT")
    assert ticker["last"] == last_close
    assert ticker["bid"] <= ticker["last"] < ticker["ask"]
    assert ticker["quoteVolume"] > 0
    assert set(client.fetch_tickers()) == set(client.markets)
    book = client.fetch_bids_asks(["BTC/USDT"])["BTC/USDT"]
    assert book["ask"] - book["bid"] == pytest.approx(0.01)
    order_book = client.fetch_order_book("BTC/USDT", limit=5)
    assert len(order_book["bids"]) == len(order_book["asks"]) == 5
    assert order_book["bids"][0][0] < order_book["asks"][0][0]


def test_ping_and_price(exchange: LocalExchange) -> None:
    assert get(exchange, "/api/v3/ping") == (200, {})
    status, prices = get(exchange, "/api/v3/ticker/price")
    assert status == 200 and {price["symbol"] for price in prices} == {f"{b}USDT" for b in PAIRS}


# --- binding and lifecycle -------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com"])
def test_refuses_non_loopback_hosts(host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        LocalExchange(DATADIR, host=host)


def test_binds_loopback_only(exchange: LocalExchange) -> None:
    assert exchange.url.startswith("http://127.0.0.1:")
    assert exchange.api_url == f"{exchange.url}/api/v3"


def test_port_in_use_is_a_clear_error(exchange: LocalExchange) -> None:
    with pytest.raises(PortInUseError, match=f"port {exchange.port} is already in use"):
        LocalExchange(DATADIR, port=exchange.port).start()


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "tooling.local_exchange", "--datadir", str(DATADIR), *args]


def test_cli_exits_2_when_port_is_busy() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            _cli("--port", str(port)), cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
        )
    assert result.returncode == 2
    assert f"port {port} is already in use" in result.stderr


def test_cli_refuses_public_host() -> None:
    result = subprocess.run(
        _cli("--host", "0.0.0.0"), cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and "loopback" in result.stderr


def test_cli_serves_until_sigterm_and_removes_its_pidfile(tmp_path: Path) -> None:
    pidfile = tmp_path / "exchange.pid"
    process = subprocess.Popen(
        _cli("--port", "0", "--pidfile", str(pidfile)),
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        assert line.startswith("Local exchange listening on http://127.0.0.1:")
        assert int(pidfile.read_text()) == process.pid
        port = int(line.strip().rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        os.kill(process.pid, signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert not pidfile.exists()
    finally:
        if process.poll() is None:
            process.kill()
        if process.stdout:
            process.stdout.close()


# --- freqtrade configuration -----------------------------------------------------------------


def test_offline_overlay_points_ccxt_at_the_server(tmp_path: Path) -> None:
    overlay = offline_overlay("http://127.0.0.1:18765/api/v3")
    for key in ("ccxt_config", "ccxt_async_config"):
        assert overlay["exchange"][key] == {
            "urls": {
                "api": {
                    "public": "http://127.0.0.1:18765/api/v3",
                    "private": "http://127.0.0.1:18765/api/v3",
                    "v1": "http://127.0.0.1:18765/api/v1",
                    "sapi": "http://127.0.0.1:18765/sapi/v1",
                }
            },
            "options": {"fetchMarkets": {"types": ["spot"]}},
        }
    written = write_offline_overlay(tmp_path / "overlay.json", "http://127.0.0.1:18765/api/v3")
    assert json.loads(written.read_text()) == overlay
    with pytest.raises(ValueError):
        offline_overlay("http://127.0.0.1:18765")


def test_committed_offline_config_matches_the_default_port() -> None:
    committed = json.loads((REPO_ROOT / "config/offline.json").read_text())
    assert committed == offline_overlay("http://127.0.0.1:18765/api/v3")


# --- real freqtrade --------------------------------------------------------------------------


def _freqtrade_config(tmp_path: Path, exchange: LocalExchange) -> list[str]:
    config = {
        "max_open_trades": 3,
        "stake_currency": "USDT",
        "stake_amount": "unlimited",
        "dry_run": True,
        "timeframe": "1h",
        "trading_mode": "spot",
        "margin_mode": "",
        "entry_pricing": {
            "price_side": "same",
            "use_order_book": True,
            "order_book_top": 1,
            "price_last_balance": 0.0,
            "check_depth_of_market": {"enabled": False, "bids_to_ask_delta": 1},
        },
        "exit_pricing": {"price_side": "same", "use_order_book": True, "order_book_top": 1},
        "exchange": {
            "name": "binance",
            "key": "",
            "secret": "",
            "pair_whitelist": ["BTC/USDT", "ETH/USDT", "SOL/USDT"],
            "pair_blacklist": [],
        },
        "pairlists": [{"method": "StaticPairList"}],
    }
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    overlay_path = write_offline_overlay(tmp_path / "overlay.json", exchange.api_url)
    user_dir = tmp_path / "user_data"
    user_dir.mkdir()
    return ["-c", str(config_path), "-c", str(overlay_path), "--userdir", str(user_dir)]


def _freqtrade(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "freqtrade", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **NO_PROXY_ENV},
    )


@pytest.mark.slow
def test_freqtrade_lists_markets_and_downloads_the_source_rows(tmp_path: Path) -> None:
    with LocalExchange(DATADIR) as exchange:
        config = _freqtrade_config(tmp_path, exchange)
        listed = _freqtrade("list-markets", *config)
        assert listed.returncode == 0, listed.stderr + listed.stdout
        assert "10 active markets" in listed.stdout
        datadir = tmp_path / "data"
        download = _freqtrade(
            "download-data",
            *config,
            "--datadir",
            str(datadir),
            "--timeframes",
            "1h",
            "4h",
            "--timerange",
            "20240501-20240601",
            "--pairs",
            "BTC/USDT",
            "ETH/USDT",
        )
        assert download.returncode == 0, download.stderr + download.stdout
        hits = exchange.endpoint_hits
    assert hits["GET /api/v3/klines"] >= 4
    assert all(endpoint.startswith("GET /api/v3/") for endpoint in hits)
    for pair in ("BTC/USDT", "ETH/USDT"):
        for timeframe in ("1h", "4h"):
            downloaded = pd.read_feather(datadir / f"{pair.replace('/', '_')}-{timeframe}.feather")
            source = source_candles(pair, timeframe)
            dates = pd.DatetimeIndex(downloaded["date"]).as_unit("ms").asi8
            assert dates[0] == ms("2024-05-01") and dates[-1] >= ms("2024-05-31 20:00")
            expected = source[source["open_time"].between(dates[0], dates[-1])]
            assert np.array_equal(dates, expected["open_time"].to_numpy())
            columns = ["open", "high", "low", "close", "volume"]
            assert np.array_equal(downloaded[columns].to_numpy(), expected[columns].to_numpy())

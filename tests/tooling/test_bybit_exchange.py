"""The local exchange's Bybit v5 spot API: ccxt's ``bybit`` must read it like the real one.

Wire format (the ``retCode`` envelope, newest-first string klines), Bybit's filters per pair,
paging that returns the candle files exactly, replay mode, the overlay and the config. The real
freqtrade commands on it are in ``test_bybit_freqtrade.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from urllib.request import ProxyHandler, build_opener

import ccxt
import numpy as np
import pandas as pd
import pytest

from tests.conftest import CONFIG_DIR, SAMPLE_DATADIR, load_candles
from tooling.bybit_exchange import KNOWN_RULES, bybit_overlay
from tooling.exchanges import configured_exchange, write_exchange_overlay
from tooling.local_exchange import LocalExchange, ReplayClock, now_ms, parse_replay_start

HOUR_MS = 3_600_000
PAIRS = {"BTC", "ETH", "SOL", "BNB", "XRP", "ADA", "AVAX", "DOGE", "LINK", "DOT"}


def ms(text: str) -> int:
    return int(pd.Timestamp(text, tz="UTC").value // 1_000_000)


def get(exchange: LocalExchange, path: str, **params: Any) -> tuple[int, Any]:
    opener = build_opener(ProxyHandler({}))
    with opener.open(f"{exchange.url}{path}?{urlencode(params)}", timeout=10) as response:
        return response.status, json.loads(response.read())


def open_times(pair: str, timeframe: str) -> np.ndarray:
    return pd.DatetimeIndex(load_candles(pair, timeframe)["date"]).as_unit("ms").asi8


def bybit_client(exchange: LocalExchange) -> ccxt.bybit:
    """ccxt's Bybit configured as freqtrade configures it for spot plus the offline overlay."""
    config = bybit_overlay(exchange.bybit_url)["exchange"]["ccxt_config"]
    config["options"]["defaultType"] = "spot"  # what freqtrade's Bybit class adds for spot
    client = ccxt.bybit(config)
    client.session.trust_env = False
    return client


@pytest.fixture(scope="module")
def exchange() -> Iterator[LocalExchange]:
    with LocalExchange(SAMPLE_DATADIR) as running:
        yield running


@pytest.fixture(scope="module")
def client(exchange: LocalExchange) -> ccxt.bybit:
    client = bybit_client(exchange)
    client.load_markets()
    return client


# --- markets ---------------------------------------------------------------------------------


def test_markets_carry_bybit_filters_for_every_bundled_pair(client: ccxt.bybit) -> None:
    assert set(client.markets) == {f"{base}/USDT" for base in PAIRS}
    for symbol, market in client.markets.items():
        rules = KNOWN_RULES[market["id"]]
        assert market["spot"] and market["active"] and market["id"] == symbol.replace("/", "")
        assert market["precision"]["amount"] == float(rules.base_precision)
        assert market["precision"]["price"] == float(rules.tick_size)
        assert market["limits"]["amount"]["min"] == float(rules.min_order_qty)
        assert market["limits"]["amount"]["max"] == float(rules.max_order_qty)
        assert market["limits"]["cost"]["min"] == 1.0  # Bybit's minOrderAmt, 1 USDT
        assert market["taker"] == market["maker"] == 0.001  # ccxt's Bybit spot base tier
    assert client.amount_to_precision("BTC/USDT", 0.123456789) == "0.123456"
    assert client.price_to_precision("BNB/USDT", 601.266) == "601.27"  # 0.01 tick, rounded
    assert client.amount_to_precision("BNB/USDT", 0.123456789) == "0.12345"
    assert client.amount_to_precision("DOGE/USDT", 12.37) == "12.3"


def test_instruments_info_wire_format(exchange: LocalExchange) -> None:
    status, body = get(exchange, "/v5/market/instruments-info", category="spot", symbol="BTCUSDT")
    assert status == 200 and body["retCode"] == 0 and body["retMsg"] == "OK"
    assert isinstance(body["time"], int) and body["retExtInfo"] == {}
    (btc,) = body["result"]["list"]
    assert body["result"]["category"] == "spot"
    assert (btc["baseCoin"], btc["quoteCoin"], btc["status"]) == ("BTC", "USDT", "Trading")
    assert btc["lotSizeFilter"] == {
        "basePrecision": "0.000001",
        "quotePrecision": "0.00000001",
        "minOrderQty": "0.000048",
        "maxOrderQty": "71.73956243",
        "minOrderAmt": "1",
        "maxOrderAmt": "4000000",
    }
    assert btc["priceFilter"] == {"tickSize": "0.01"}


def test_bybit_errors_are_retcode_envelopes(exchange: LocalExchange, client: ccxt.bybit) -> None:
    status, body = get(
        exchange, "/v5/market/kline", category="spot", symbol="FOOUSDT", interval="60"
    )
    assert status == 200 and body["retCode"] == 10001 and body["result"] == {}
    _, body = get(exchange, "/v5/market/instruments-info", category="linear")
    assert body["retCode"] == 10001 and "spot only" in body["retMsg"]
    _, body = get(exchange, "/v5/market/kline", category="spot", symbol="BTCUSDT", interval="7")
    assert (body["retCode"], body["retMsg"]) == (10001, "Invalid period!")
    with pytest.raises(ccxt.BadRequest):
        client.publicGetV5MarketKline({"category": "spot", "symbol": "FOOUSDT", "interval": "60"})


# --- klines ----------------------------------------------------------------------------------


def test_kline_wire_format_newest_first(exchange: LocalExchange) -> None:
    start = ms("2024-01-01")
    _, body = get(exchange, "/v5/market/kline", category="spot", symbol="BTCUSDT", interval="60",
                  start=start)  # fmt: skip
    rows = body["result"]["list"]
    assert body["result"]["symbol"] == "BTCUSDT" and len(rows) == 200  # Bybit's default limit
    assert [int(row[0]) for row in rows] == [start + hour * HOUR_MS for hour in range(199, -1, -1)]
    assert all(len(row) == 7 and all(isinstance(value, str) for value in row) for row in rows)
    source = (
        load_candles("BTC/USDT").set_index("date").loc[pd.Timestamp(start, unit="ms", tz="UTC")]
    )
    assert [float(value) for value in rows[-1][1:6]] == source[
        ["open", "high", "low", "close", "volume"]
    ].tolist()


def test_kline_limit_and_bounds(exchange: LocalExchange) -> None:
    def times(**params: Any) -> list[int]:
        _, body = get(exchange, "/v5/market/kline", category="spot", symbol="ETHUSDT", **params)
        return sorted(int(row[0]) for row in body["result"]["list"])

    assert times(interval="60", start=0, limit=5000) == open_times("ETH/USDT", "1h")[:1000].tolist()
    start, end = ms("2024-03-01 00:00"), ms("2024-03-01 05:00")
    assert times(interval="60", start=start, end=end) == [start + h * HOUR_MS for h in range(6)]
    assert times(interval="D", limit=3) == open_times("ETH/USDT", "1d")[-3:].tolist()
    assert times(interval="120", start=start, limit=2) == [start, start + 2 * HOUR_MS]


def test_ccxt_paging_returns_the_file_exactly(client: ccxt.bybit) -> None:
    source = load_candles("SOL/USDT", "4h")
    candles: list[list[float]] = []
    since = int(open_times("SOL/USDT", "4h")[0])
    while page := client.fetch_ohlcv("SOL/USDT", "4h", since=since, limit=1000):
        candles.extend(page)
        since = page[-1][0] + 4 * HOUR_MS
    expected = source[["open", "high", "low", "close", "volume"]].to_numpy()
    fetched = np.array(candles)
    assert np.array_equal(fetched[:, 0], open_times("SOL/USDT", "4h"))
    assert np.array_equal(fetched[:, 1:], expected)


# --- tickers, book, time ---------------------------------------------------------------------


def test_tickers_book_and_time_through_ccxt(client: ccxt.bybit) -> None:
    assert client.fetch_time() > ms("2024-07-01")
    last_close = float(load_candles("BNB/USDT")["close"].iloc[-1])
    ticker = client.fetch_ticker("BNB/USDT")
    assert ticker["bid"] <= last_close < ticker["ask"]
    assert ticker["ask"] - ticker["bid"] == pytest.approx(0.01)  # Bybit's BNB tick
    assert ticker["last"] == last_close and ticker["quoteVolume"] > 0
    assert set(client.fetch_tickers()) == set(client.markets)
    book = client.fetch_order_book("XRP/USDT", limit=5)
    assert len(book["bids"]) == len(book["asks"]) == 5
    assert book["asks"][0][0] - book["bids"][0][0] == pytest.approx(0.0001)


# --- replay ----------------------------------------------------------------------------------


def test_replay_serves_bybit_up_to_the_replayed_now(tmp_path: Path) -> None:
    steps = 30
    anchor = now_ms() - int((steps + 0.5) * 3600 * 1000)
    clock = ReplayClock(parse_replay_start("2024-03-01"), 3600.0, anchor)
    with LocalExchange(SAMPLE_DATADIR, replay=clock, clock_file=tmp_path / "clock") as replay:
        now = ms("2024-03-01") + steps * HOUR_MS
        _, body = get(replay, "/v5/market/time")
        assert now <= body["time"] < now + HOUR_MS
        assert int(body["result"]["timeSecond"]) == body["time"] // 1000
        _, body = get(replay, "/v5/market/kline", category="spot", symbol="ETHUSDT", interval="60",
                      limit=3)  # fmt: skip
        newest, previous = body["result"]["list"][:2]
        source = load_candles("ETH/USDT").set_index("date")
        current = source.loc[pd.Timestamp(now, unit="ms", tz="UTC")]
        assert int(newest[0]) == now and int(previous[0]) == now - HOUR_MS
        assert float(newest[1]) == float(newest[4]) == current["open"]  # forming: the open only
        assert float(newest[5]) == 0.0
        _, body = get(replay, "/v5/market/tickers", category="spot", symbol="ETHUSDT")
        assert float(body["result"]["list"][0]["lastPrice"]) == current["open"]


# --- configuration ---------------------------------------------------------------------------


def test_overlay_points_every_bybit_host_at_the_server(tmp_path: Path) -> None:
    overlay = bybit_overlay("http://127.0.0.1:18765/api/v3")["exchange"]
    assert overlay["name"] == "bybit" and overlay["enable_ws"] is False
    for key in ("ccxt_config", "ccxt_async_config"):
        assert overlay[key]["urls"]["api"] == dict.fromkeys(
            ("spot", "futures", "v2", "public", "private"), "http://127.0.0.1:18765"
        )
        assert overlay[key]["options"] == {"fetchMarkets": {"types": ["spot"]}}
    written = write_exchange_overlay(tmp_path / "o.json", "binance", "http://127.0.0.1:18765")
    binance = json.loads(written.read_text())["exchange"]
    assert binance["name"] == "binance"
    assert binance["ccxt_config"]["urls"]["api"]["public"] == "http://127.0.0.1:18765/api/v3"
    with pytest.raises(ValueError, match="not 'kraken'"):
        write_exchange_overlay(tmp_path / "k.json", "kraken", "http://127.0.0.1:18765")


def test_bybit_config_is_an_overlay_on_base_with_keys_only_from_the_environment() -> None:
    base = json.loads((CONFIG_DIR / "base.json").read_text())
    bybit = json.loads((CONFIG_DIR / "bybit.json").read_text())
    assert bybit["exchange"]["name"] == "bybit" and bybit["trading_mode"] == "spot"
    assert bybit["exchange"]["key"] == bybit["exchange"]["secret"] == ""
    assert "pair_whitelist" not in bybit["exchange"], "the same pairs as base.json"
    assert {pair.split("/")[0] for pair in base["exchange"]["pair_whitelist"]} == PAIRS
    assert bybit["fee"] == 0.0015  # Bybit spot taker 0.1 % + the bundle's 0.05 % slippage
    assert bybit["datadir"] == "user_data/data/bybit"


def test_the_configs_name_the_exchange_of_an_offline_command() -> None:
    root = CONFIG_DIR.parent
    assert configured_exchange(["backtesting", "-c", "config/base.json"], root) == "binance"
    arguments = ["trade", "-c", "config/base.json", "--config", "config/bybit.json"]
    assert configured_exchange(arguments, root) == "bybit"
    assert configured_exchange(["list-markets", "-c", "missing.json"], root) == "binance"


@pytest.mark.parametrize(("extra", "name"), [((), "binance"), (("bybit.json",), "bybit")])
def test_selftrain_points_the_bots_own_exchange_at_a_running_server(
    tmp_path: Path, extra: tuple[str, ...], name: str
) -> None:
    from types import SimpleNamespace

    from freqai_swing.lifecycle.config import SelfTrainSettings
    from tooling.selftrain import context_from_arguments

    args = SimpleNamespace(
        env_file=tmp_path / ".env", state_dir=tmp_path / "state",
        exchange_url="http://127.0.0.1:18765", datadir=SAMPLE_DATADIR,
        production_userdir=tmp_path / "prod", production_url="http://127.0.0.1:8080",
        challenger_url="http://127.0.0.1:8081", online=False, warehouse=None, freqaimodel=None,
    )  # fmt: skip
    configs = [CONFIG_DIR / "base.json", *(CONFIG_DIR / config for config in extra)]
    context = context_from_arguments(args, SelfTrainSettings(), configs, ["ETH/USDT"])
    assert context.offline_overlay is not None
    exchange = json.loads(context.offline_overlay.read_text())["exchange"]
    assert exchange["name"] == name
    public = exchange["ccxt_config"]["urls"]["api"]["public"]
    assert public == "http://127.0.0.1:18765" + ("/api/v3" if name == "binance" else "")

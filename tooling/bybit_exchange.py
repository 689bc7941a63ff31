"""Bybit's public v5 spot market endpoints, answered by the local exchange from a datadir.

The same loopback server that impersonates Binance (:mod:`tooling.local_exchange`) answers the
v5 paths ccxt's ``bybit`` calls for spot: ``/v5/market/instruments-info`` (markets, with Bybit's
lot-size, tick-size and minimum-order filters), ``/v5/market/kline``, ``/v5/market/time``,
``/v5/market/tickers`` and ``/v5/market/orderbook``. The prices are the datadir's (the bundled
Binance candles: a stand-in), the shapes, rules and paging are Bybit's. Replay mode works the
same way: the endpoints read the store's (replayed) "now".

Bybit answers HTTP 200 with ``retCode`` 0 on success and a non-zero ``retCode`` with ``retMsg``
on a bad request (ccxt's ``bybit.handle_errors`` maps the code to its exception types).
"""

from __future__ import annotations

import json
from copy import deepcopy
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from tooling.local_exchange.candles import CandleStore
from tooling.local_exchange.endpoints import DayStats, Endpoint, Query
from tooling.local_exchange.markets import BinanceError, MarketRules, derived_rules

KLINE_DEFAULT_LIMIT = 200
KLINE_MAX_LIMIT = 1000
ORDERBOOK_DEFAULT_LIMIT = 1
ORDERBOOK_MAX_LIMIT = 200  # spot

#: Bybit's kline ``interval`` codes and the candle intervals they mean ("M" has no fixed length).
INTERVALS: dict[str, str] = {
    "1": "1m",
    "3": "3m",
    "5": "5m",
    "15": "15m",
    "30": "30m",
    "60": "1h",
    "120": "2h",
    "240": "4h",
    "360": "6h",
    "720": "12h",
    "D": "1d",
    "W": "1w",
}


class BybitError(Exception):
    """An error in Bybit's own ``{"retCode", "retMsg"}`` envelope."""

    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg


def params_error(msg: str) -> BybitError:
    """Bybit's ``10001`` (request parameter error), which ccxt raises as ``BadRequest``."""
    return BybitError(10001, msg)


# ---------------------------------------------------------------------------------------------
# Trading rules
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BybitRules:
    """One spot symbol's ``lotSizeFilter`` and ``priceFilter`` (what ccxt reads for limits).

    ccxt's ``bybit.fetch_spot_markets`` takes ``basePrecision`` as the amount precision,
    ``tickSize`` as the price precision, ``minOrderQty``/``maxOrderQty`` as the amount limits and
    ``minOrderAmt``/``maxOrderAmt`` (quote) as the cost limits.
    """

    base_precision: Decimal
    quote_precision: Decimal
    min_order_qty: Decimal
    max_order_qty: Decimal
    min_order_amt: Decimal
    max_order_amt: Decimal
    tick_size: Decimal

    def instrument(self, symbol: str, base: str, quote: str) -> dict[str, Any]:
        """One entry of ``instruments-info``'s ``list`` (category spot)."""
        return {
            "symbol": symbol,
            "baseCoin": base,
            "quoteCoin": quote,
            "innovation": "0",
            "status": "Trading",
            "marginTrading": "both",
            "stTag": "0",
            "lotSizeFilter": {
                "basePrecision": number(self.base_precision),
                "quotePrecision": number(self.quote_precision),
                "minOrderQty": number(self.min_order_qty),
                "maxOrderQty": number(self.max_order_qty),
                "minOrderAmt": number(self.min_order_amt),
                "maxOrderAmt": number(self.max_order_amt),
            },
            "priceFilter": {"tickSize": number(self.tick_size)},
            "riskParameters": {"priceLimitRatioX": "0.05", "priceLimitRatioY": "0.05"},
        }

    def book_rules(self) -> MarketRules:
        """The price and quantity grid the shared ticker/book code quotes on."""
        return MarketRules(
            tick_size=self.tick_size,
            max_price=Decimal(0),
            step_size=self.base_precision,
            max_qty=self.max_order_qty,
            market_max_qty=self.max_order_qty,
            min_notional=self.min_order_amt,
            max_notional=self.max_order_amt,
        )


def _rules(
    base: str, quote: str, min_qty: str, max_qty: str, max_amt: str, tick: str
) -> BybitRules:
    return BybitRules(
        Decimal(base), Decimal(quote), Decimal(min_qty), Decimal(max_qty), Decimal("1"),
        Decimal(max_amt), Decimal(tick),
    )  # fmt: skip


# The bundled pairs' filters as Bybit lists them for spot (one public mid-2024 snapshot of its
# spot instruments, all ten pairs from the same listing: basePrecision, quotePrecision,
# min/maxTradeQty = v5's min/maxOrderQty, maxTradeAmt = maxOrderAmt, minPricePrecision = v5's
# priceFilter.tickSize; minOrderAmt is 1 USDT for all ten). Bybit rescales maxOrderQty with the
# price now and then.
KNOWN_RULES: dict[str, BybitRules] = {
    #                   basePrecision quotePrecision minOrderQty maxOrderQty  maxOrderAmt tickSize
    "BTCUSDT": _rules("0.000001", "0.00000001", "0.000048", "71.73956243", "4000000", "0.01"),
    "ETHUSDT": _rules("0.00001", "0.0000001", "0.00062", "1229.2336343", "4000000", "0.01"),
    "SOLUSDT": _rules("0.001", "0.00001", "0.023", "148148.14815", "4000000", "0.01"),
    "BNBUSDT": _rules("0.00001", "0.000000001", "0.00262", "9689.856754848", "4000000", "0.01"),
    "XRPUSDT": _rules("0.01", "0.000001", "2.63", "8011215.701983", "4000000", "0.0001"),
    "ADAUSDT": _rules("0.01", "0.000001", "1.86", "7923930.269414", "2000000", "0.0001"),
    "AVAXUSDT": _rules("0.001", "0.0000001", "0.034", "173160.1731602", "2000000", "0.0001"),
    "DOGEUSDT": _rules("0.1", "0.000001", "6.9", "36449790.413705", "2000000", "0.00001"),
    "LINKUSDT": _rules("0.001", "0.0000001", "0.111", "125934.0105785", "2000000", "0.0001"),
    "DOTUSDT": _rules("0.001", "0.000001", "0.107", "486618.004866", "2000000", "0.001"),
}


def bybit_rules(symbol: str, last_close: float) -> BybitRules:
    """The table's rules, else a grid scaled to the price (as for Binance) with a 1 USDT minimum."""
    known = KNOWN_RULES.get(symbol)
    if known is not None:
        return known
    grid = derived_rules(last_close)
    return BybitRules(
        base_precision=grid.step_size,
        quote_precision=min(grid.tick_size, Decimal("0.000001")),
        min_order_qty=grid.step_size,
        max_order_qty=grid.max_qty,
        min_order_amt=Decimal(1),
        max_order_amt=Decimal(2_000_000),
        tick_size=grid.tick_size,
    )


def number(value: Decimal | float) -> str:
    """Bybit's number format: plain decimals without trailing zeros (``"0.01"``, ``"42000.5"``).

    Floats are written with the shortest repr that reads back as the same float, so the candles
    ccxt parses are exactly the datadir's.
    """
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text if "." not in text else text.rstrip("0").rstrip(".")
    return np.format_float_positional(value, unique=True, trim="-")


# ---------------------------------------------------------------------------------------------
# Endpoints
# ---------------------------------------------------------------------------------------------


def _spot_category(query: Query) -> None:
    category = query.get("category") or ""
    if not category:
        raise params_error("params error: Category is required")
    if category != "spot":
        raise params_error(f"Illegal category: {category} (the local exchange serves spot only)")


def _symbol(store: CandleStore, symbol: str) -> tuple[str, str]:
    try:
        return store.assets(symbol)
    except BinanceError:
        raise params_error("Not supported symbols") from None


def _int(query: Query, name: str) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise params_error(f"params error: {name} invalid") from None


def _symbols(store: CandleStore, query: Query) -> list[str]:
    if query.get("symbol"):
        _symbol(store, query["symbol"])
        return [query["symbol"]]
    return store.symbols()


def market_time(store: CandleStore, _query: Query) -> dict[str, Any]:
    """``/v5/market/time``: the server clock (replayed in a replay)."""
    now = store.now_ms()
    return {"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)}


def instruments_info(store: CandleStore, query: Query) -> dict[str, Any]:
    """``/v5/market/instruments-info?category=spot``: every served symbol with its filters."""
    _spot_category(query)
    items = []
    for symbol in _symbols(store, query):
        base, quote = store.assets(symbol)
        items.append(bybit_rules(symbol, store.last_close(symbol)).instrument(symbol, base, quote))
    return {"category": "spot", "list": items}


def kline(store: CandleStore, query: Query) -> dict[str, Any]:
    """``/v5/market/kline``: candles newest first, as strings, at most 1000 (default 200).

    ``start``/``end`` bound the open times inclusively; with ``start`` the first ``limit``
    candles from it, without it the last ``limit`` up to ``end`` (or now).
    """
    _spot_category(query)
    symbol = query.get("symbol") or ""
    if not symbol:
        raise params_error("params error: symbol is required")
    _symbol(store, symbol)
    code = query.get("interval") or ""
    if code not in INTERVALS:
        raise params_error("Invalid period!")
    start, end = _int(query, "start"), _int(query, "end")
    limit = _int(query, "limit")
    if limit is not None and limit < 1:
        raise params_error("params error: limit invalid")
    if start is not None and end is not None and start > end:
        raise params_error("params error: start must be less than end")
    try:
        series = store.series(symbol, INTERVALS[code])
    except BinanceError:
        raise params_error("Invalid period!") from None
    rows = series.window(start, end, min(limit or KLINE_DEFAULT_LIMIT, KLINE_MAX_LIMIT))
    candles = []
    for index in reversed(range(*rows.indices(len(series)))):
        high, low, close = series.high[index], series.low[index], series.close[index]
        volume = series.volume[index]
        candles.append(
            [
                str(int(series.open_time[index])),
                number(float(series.open[index])),
                number(float(high)),
                number(float(low)),
                number(float(close)),
                number(float(volume)),
                f"{volume * (high + low + close) / 3:.8f}",  # turnover: volume x typical price
            ]
        )
    return {"symbol": symbol, "category": "spot", "list": candles}


def _stats(store: CandleStore, symbol: str) -> DayStats:
    rules = bybit_rules(symbol, store.last_close(symbol))
    return DayStats.of(store, symbol, rules.book_rules())


def tickers(store: CandleStore, query: Query) -> dict[str, Any]:
    """``/v5/market/tickers?category=spot``: last price, best bid/ask and the last 24 hours."""
    _spot_category(query)
    items = []
    for symbol in _symbols(store, query):
        stats = _stats(store, symbol)
        change = (stats.last / stats.open - 1) if stats.open else 0.0
        items.append(
            {
                "symbol": symbol,
                "bid1Price": number(stats.bid),
                "bid1Size": number(stats.book_qty),
                "ask1Price": number(stats.ask),
                "ask1Size": number(stats.book_qty),
                "lastPrice": number(stats.last),
                "prevPrice24h": number(stats.open),
                "price24hPcnt": f"{change:.4f}",
                "highPrice24h": number(stats.high),
                "lowPrice24h": number(stats.low),
                "turnover24h": f"{stats.quote_volume:.8f}",
                "volume24h": f"{stats.volume:.8f}",
                "usdIndexPrice": number(stats.last),
            }
        )
    return {"category": "spot", "list": items}


def orderbook(store: CandleStore, query: Query) -> dict[str, Any]:
    """``/v5/market/orderbook``: a thin synthetic book one tick around the current price."""
    _spot_category(query)
    symbol = query.get("symbol") or ""
    if not symbol:
        raise params_error("params error: symbol is required")
    _symbol(store, symbol)
    limit = _int(query, "limit")
    levels = min(limit or ORDERBOOK_DEFAULT_LIMIT, ORDERBOOK_MAX_LIMIT)
    stats = _stats(store, symbol)
    tick = stats.ask - stats.bid
    bids = [
        [number(stats.bid - tick * level), number(stats.book_qty)]
        for level in range(levels)
        if stats.bid - tick * level > 0
    ]
    asks = [[number(stats.ask + tick * level), number(stats.book_qty)] for level in range(levels)]
    now = store.now_ms()
    return {
        "s": symbol,
        "b": bids,
        "a": asks,
        "ts": now,
        "u": stats.close_time,
        "seq": now,
        "cts": now,
    }


def _enveloped(endpoint: Endpoint) -> Endpoint:
    """Wrap an endpoint's result in Bybit's envelope; errors become a non-zero ``retCode``."""

    def answer(store: CandleStore, query: Query) -> dict[str, Any]:
        try:
            result: Any = endpoint(store, query)
            code, msg = 0, "OK"
        except BybitError as error:
            result, code, msg = {}, error.code, error.msg
        return {
            "retCode": code,
            "retMsg": msg,
            "result": result,
            "retExtInfo": {},
            "time": store.now_ms(),
        }

    answer.__doc__ = endpoint.__doc__
    return answer


ENDPOINTS: dict[str, Endpoint] = {
    "/v5/market/time": _enveloped(market_time),
    "/v5/market/instruments-info": _enveloped(instruments_info),
    "/v5/market/kline": _enveloped(kline),
    "/v5/market/tickers": _enveloped(tickers),
    "/v5/market/orderbook": _enveloped(orderbook),
}


# ---------------------------------------------------------------------------------------------
# Freqtrade configuration
# ---------------------------------------------------------------------------------------------


def bybit_overlay(url: str) -> dict[str, Any]:
    """The freqtrade config block that points ccxt's Bybit at the local exchange at ``url``.

    ``url`` is the server's root (``http://127.0.0.1:18765``; a Binance ``…/api/v3`` URL of the
    same server is accepted too). Every ccxt Bybit API host goes there, only spot markets are
    fetched, websockets are off (a dry run would otherwise stream the real Bybit's prices), and
    the exchange is named ``bybit`` so the overlay alone makes the run a Bybit run.
    """
    root = url.rstrip("/").removesuffix("/api/v3")
    ccxt_config = {
        "urls": {"api": dict.fromkeys(("spot", "futures", "v2", "public", "private"), root)},
        "options": {"fetchMarkets": {"types": ["spot"]}},
    }
    return {
        "exchange": {
            "name": "bybit",
            "enable_ws": False,
            "ccxt_config": ccxt_config,
            "ccxt_async_config": deepcopy(ccxt_config),
        }
    }


def write_bybit_overlay(path: Path, url: str) -> Path:
    """Write :func:`bybit_overlay` as JSON, for ``freqtrade ... -c <path>``."""
    path = Path(path)
    path.write_text(json.dumps(bybit_overlay(url), indent=4) + "\n", encoding="utf-8")
    return path

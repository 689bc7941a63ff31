"""Binance's public spot REST endpoints, answered from the candle store."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tooling.local_exchange.candles import CandleStore
from tooling.local_exchange.markets import (
    DAY_MS,
    ORDER_TYPES,
    BinanceError,
    MarketRules,
    fixed8,
    market_rules,
    missing_parameter,
    price_string,
)

KLINES_DEFAULT_LIMIT = 500
KLINES_MAX_LIMIT = 1000
DEPTH_DEFAULT_LIMIT = 100
DEPTH_MAX_LIMIT = 5000

Query = dict[str, str]
Endpoint = Callable[[CandleStore, Query], Any]


def int_param(query: Query, name: str, required: bool = False) -> int | None:
    """An integer query parameter, rejected in Binance's words when malformed."""
    raw = query.get(name)
    if raw is None or raw == "":
        if required:
            raise missing_parameter(name)
        return None
    if not re.fullmatch(r"-?[0-9]{1,20}", raw):
        raise BinanceError(
            400,
            -1100,
            f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'.",
        )
    return int(raw)


def requested_symbols(store: CandleStore, query: Query) -> list[str]:
    """``symbol=X`` or ``symbols=["X","Y"]``; every served symbol when neither is given."""
    if query.get("symbol"):
        store.assets(query["symbol"])
        return [query["symbol"]]
    if query.get("symbols"):
        try:
            symbols = json.loads(query["symbols"])
        except json.JSONDecodeError:
            symbols = None
        if not isinstance(symbols, list) or not all(isinstance(item, str) for item in symbols):
            raise BinanceError(400, -1100, "Illegal characters found in parameter 'symbols'.")
        for symbol in symbols:
            store.assets(symbol)
        return symbols
    return store.symbols()


def one_or_many(query: Query, items: list[dict[str, Any]]) -> Any:
    """Binance answers an object for ``symbol=`` and an array otherwise."""
    return items[0] if query.get("symbol") else items


def ping(_store: CandleStore, _query: Query) -> dict[str, Any]:
    """Connectivity check."""
    return {}


def server_time(store: CandleStore, _query: Query) -> dict[str, Any]:
    """Server clock."""
    return {"serverTime": store.now_ms()}


def symbol_info(store: CandleStore, symbol: str) -> dict[str, Any]:
    """One ``symbols`` entry of exchangeInfo, shaped like a plain spot-only Binance listing."""
    base, quote = store.assets(symbol)
    rules = market_rules(symbol, store.last_close(symbol))
    return {
        "symbol": symbol,
        "status": "TRADING",
        "baseAsset": base,
        "baseAssetPrecision": 8,
        "quoteAsset": quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": list(ORDER_TYPES),
        "icebergAllowed": True,
        "ocoAllowed": True,
        "otoAllowed": True,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": True,
        "cancelReplaceAllowed": True,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": rules.filters(),
        "permissions": ["SPOT"],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }


def exchange_info(store: CandleStore, query: Query) -> dict[str, Any]:
    """Markets: ccxt's ``load_markets`` reads precision and limits from the filters."""
    return {
        "timezone": "UTC",
        "serverTime": store.now_ms(),
        "rateLimits": [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": 6000,
            },
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
            {
                "rateLimitType": "RAW_REQUESTS",
                "interval": "MINUTE",
                "intervalNum": 5,
                "limit": 61000,
            },
        ],
        "exchangeFilters": [],
        "symbols": [symbol_info(store, symbol) for symbol in requested_symbols(store, query)],
    }


def klines(store: CandleStore, query: Query) -> list[list[Any]]:
    """Candles with Binance's paging rules (default 500, at most 1000 per call)."""
    symbol = query.get("symbol") or ""
    interval = query.get("interval") or ""
    if not symbol:
        raise missing_parameter("symbol")
    if not interval:
        raise missing_parameter("interval")
    start = int_param(query, "startTime")
    end = int_param(query, "endTime")
    limit = int_param(query, "limit")
    if start is not None and end is not None and start > end:
        raise BinanceError(400, -1023, "Start time is greater than end time.")
    if limit is not None and limit < 1:
        raise BinanceError(400, -1130, "Data sent for parameter 'limit' is not valid.")
    limit = min(limit or KLINES_DEFAULT_LIMIT, KLINES_MAX_LIMIT)
    series = store.series(symbol, interval)
    return series.klines(series.window(start, end, limit))


@dataclass(frozen=True)
class DayStats:
    """The last 24 hours of a symbol, computed from its finest candles."""

    symbol: str
    open_time: int
    close_time: int
    open: float
    high: float
    low: float
    last: float
    previous_close: float
    volume: float
    quote_volume: float
    bid: Decimal
    ask: Decimal
    book_qty: Decimal

    @classmethod
    def of(cls, store: CandleStore, symbol: str, rules: MarketRules | None = None) -> DayStats:
        """Stats over the candles of the last day in the datadir (not of today).

        ``rules`` gives the price and quantity grid of the book (default: Binance's).
        """
        series = store.finest(symbol)
        count = max(DAY_MS // series.interval_ms, 1)
        rows = slice(max(len(series) - count, 0), len(series))
        close = series.close[rows]
        volume = series.volume[rows]
        typical = (series.high[rows] + series.low[rows] + close) / 3
        rules = rules or market_rules(symbol, float(close[-1]))
        bid = Decimal(repr(float(close[-1]))).quantize(rules.tick_size)
        close_time = int(series.open_time[-1]) + series.interval_ms - 1
        # A thousandth of the day's volume per book level: deep enough that dry-run fills
        # walking the book see realistic, small slippage.
        book_qty = max(
            (Decimal(repr(float(volume.sum()))) / 1000).quantize(rules.step_size), rules.step_size
        )
        return cls(
            symbol=symbol,
            open_time=close_time + 1 - DAY_MS,
            close_time=close_time,
            open=float(series.open[rows][0]),
            high=float(series.high[rows].max()),
            low=float(series.low[rows].min()),
            last=float(close[-1]),
            previous_close=float(series.close[rows.start - 1] if rows.start else series.open[0]),
            volume=float(volume.sum()),
            quote_volume=float((volume * typical).sum()),
            bid=bid,
            ask=bid + rules.tick_size,
            book_qty=book_qty,
        )

    def ticker_24hr(self) -> dict[str, Any]:
        """Binance's FULL 24hr ticker."""
        change = self.last - self.open
        return {
            "symbol": self.symbol,
            "priceChange": f"{change:.8f}",
            "priceChangePercent": f"{(change / self.open * 100) if self.open else 0:.3f}",
            "weightedAvgPrice": f"{self.quote_volume / self.volume if self.volume else 0:.8f}",
            "prevClosePrice": price_string(self.previous_close),
            "lastPrice": price_string(self.last),
            "lastQty": fixed8(self.book_qty),
            "bidPrice": fixed8(self.bid),
            "bidQty": fixed8(self.book_qty),
            "askPrice": fixed8(self.ask),
            "askQty": fixed8(self.book_qty),
            "openPrice": price_string(self.open),
            "highPrice": price_string(self.high),
            "lowPrice": price_string(self.low),
            "volume": f"{self.volume:.8f}",
            "quoteVolume": f"{self.quote_volume:.8f}",
            "openTime": self.open_time,
            "closeTime": self.close_time,
            "firstId": -1,
            "lastId": -1,
            "count": 0,
        }

    def book_ticker(self) -> dict[str, Any]:
        """Best bid and ask: one tick apart around the last close."""
        return {
            "symbol": self.symbol,
            "bidPrice": fixed8(self.bid),
            "bidQty": fixed8(self.book_qty),
            "askPrice": fixed8(self.ask),
            "askQty": fixed8(self.book_qty),
        }


def ticker_24hr(store: CandleStore, query: Query) -> Any:
    """24hr statistics, for volume pairlists and ``fetch_ticker(s)``."""
    items = [DayStats.of(store, symbol).ticker_24hr() for symbol in requested_symbols(store, query)]
    return one_or_many(query, items)


def ticker_price(store: CandleStore, query: Query) -> Any:
    """Last price per symbol."""
    items = [
        {"symbol": symbol, "price": price_string(float(store.finest(symbol).close[-1]))}
        for symbol in requested_symbols(store, query)
    ]
    return one_or_many(query, items)


def book_ticker(store: CandleStore, query: Query) -> Any:
    """Best bid/ask per symbol, for ``fetch_bids_asks`` (freqtrade merges it into tickers)."""
    items = [DayStats.of(store, symbol).book_ticker() for symbol in requested_symbols(store, query)]
    return one_or_many(query, items)


def depth(store: CandleStore, query: Query) -> dict[str, Any]:
    """A thin synthetic order book around the last close, for ``use_order_book`` pricing."""
    symbol = query.get("symbol") or ""
    if not symbol:
        raise missing_parameter("symbol")
    stats = DayStats.of(store, symbol)
    levels = min(int_param(query, "limit") or DEPTH_DEFAULT_LIMIT, DEPTH_MAX_LIMIT)
    tick = stats.ask - stats.bid
    bids = [
        [fixed8(stats.bid - tick * level), fixed8(stats.book_qty)]
        for level in range(levels)
        if stats.bid - tick * level > 0
    ]
    asks = [[fixed8(stats.ask + tick * level), fixed8(stats.book_qty)] for level in range(levels)]
    return {"lastUpdateId": stats.close_time, "bids": bids, "asks": asks}


ENDPOINTS: dict[str, Endpoint] = {
    "/api/v3/ping": ping,
    "/api/v3/time": server_time,
    "/api/v3/exchangeInfo": exchange_info,
    "/api/v3/klines": klines,
    "/api/v3/uiKlines": klines,
    "/api/v3/ticker/24hr": ticker_24hr,
    "/api/v3/ticker/price": ticker_price,
    "/api/v3/ticker/bookTicker": book_ticker,
    "/api/v3/depth": depth,
}

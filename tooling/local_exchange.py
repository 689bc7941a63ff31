"""A loopback HTTP server answering like Binance's spot REST API and Bybit's v5, from a datadir.

Freqtrade reaches exchanges only through ccxt, so pointing ccxt's Binance URLs at this server lets
real ``freqtrade`` commands (list-markets, download-data, backtesting, dry runs) work offline and
reproducibly on the bundled candles, without a network and without ever reaching binance.com.
Only the public market-data endpoints exist; anything else answers 404 in Binance's error format.
The same server answers Bybit's public v5 spot endpoints too (:mod:`tooling.bybit_exchange`).

    python -m tooling.local_exchange --datadir user_data/data/binance --port 18765
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import json
import logging
import math
import os
import re
import signal
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 18765
KLINES_DEFAULT_LIMIT = 500
KLINES_MAX_LIMIT = 1000
DEPTH_DEFAULT_LIMIT = 100
DEPTH_MAX_LIMIT = 5000
DAY_MS = 86_400_000

# Every interval Binance spot accepts, in milliseconds ("1M" has no fixed length: never served).
BINANCE_INTERVALS_MS: dict[str, int] = {
    "1s": 1_000,
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "2h": 7_200_000,
    "4h": 14_400_000,
    "6h": 21_600_000,
    "8h": 28_800_000,
    "12h": 43_200_000,
    "1d": DAY_MS,
    "3d": 3 * DAY_MS,
    "1w": 7 * DAY_MS,
}
ORDER_TYPES: tuple[str, ...] = (
    "LIMIT",
    "LIMIT_MAKER",
    "MARKET",
    "STOP_LOSS_LIMIT",
    "TAKE_PROFIT_LIMIT",
)
# Spot candle files only: futures files carry a settle currency and a candle-type suffix.
CANDLE_FILE = re.compile(
    r"^(?P<base>[A-Z0-9]+)_(?P<quote>[A-Z0-9]+)-(?P<interval>\d+[smhdw])\.feather$"
)


class BinanceError(Exception):
    """An error in Binance's own ``{"code", "msg"}`` format, which ccxt maps to its types."""

    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(msg)
        self.status = status
        self.code = code
        self.msg = msg


class PortInUseError(OSError):
    """The port is taken: named plainly so a Makefile user sees why the server did not start."""

    def __init__(self, port: int) -> None:
        super().__init__(errno.EADDRINUSE, f"port {port} is already in use")
        self.port = port

    def __str__(self) -> str:
        return self.strerror or f"port {self.port} is already in use"


def invalid_symbol() -> BinanceError:
    """Binance's answer for a symbol it does not list."""
    return BinanceError(400, -1121, "Invalid symbol.")


def invalid_interval(msg: str = "Invalid interval.") -> BinanceError:
    """Binance's answer for an interval it cannot serve."""
    return BinanceError(400, -1120, msg)


def missing_parameter(name: str) -> BinanceError:
    """Binance's answer for a mandatory parameter that was not sent."""
    return BinanceError(
        400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


# ---------------------------------------------------------------------------------------------
# Trading rules
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarketRules:
    """The price and quantity grid of one symbol: what ccxt turns into precision and limits."""

    tick_size: Decimal
    max_price: Decimal
    step_size: Decimal
    max_qty: Decimal
    market_max_qty: Decimal
    min_notional: Decimal = Decimal("5")
    max_notional: Decimal = Decimal("9000000")

    def filters(self) -> list[dict[str, Any]]:
        """Binance's ``filters`` array, numbers as 8-decimal strings like the real API."""
        return [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": fixed8(self.tick_size),
                "maxPrice": fixed8(self.max_price),
                "tickSize": fixed8(self.tick_size),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": fixed8(self.step_size),
                "maxQty": fixed8(self.max_qty),
                "stepSize": fixed8(self.step_size),
            },
            {"filterType": "ICEBERG_PARTS", "limit": 10},
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": fixed8(Decimal(0)),
                "maxQty": fixed8(self.market_max_qty),
                "stepSize": fixed8(Decimal(0)),
            },
            {
                "filterType": "TRAILING_DELTA",
                "minTrailingAboveDelta": 10,
                "maxTrailingAboveDelta": 2000,
                "minTrailingBelowDelta": 10,
                "maxTrailingBelowDelta": 2000,
            },
            {
                "filterType": "PERCENT_PRICE_BY_SIDE",
                "bidMultiplierUp": "5",
                "bidMultiplierDown": "0.2",
                "askMultiplierUp": "5",
                "askMultiplierDown": "0.2",
                "avgPriceMins": 5,
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": fixed8(self.min_notional),
                "applyMinToMarket": True,
                "maxNotional": fixed8(self.max_notional),
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
        ]


def _rules(tick: str, max_price: str, step: str, max_qty: str, market_max: str) -> MarketRules:
    return MarketRules(
        Decimal(tick), Decimal(max_price), Decimal(step), Decimal(max_qty), Decimal(market_max)
    )


# Binance's published spot filters for the bundled pairs (2024); MARKET_LOT_SIZE maxima are
# dynamic on Binance and only indicative here.
KNOWN_RULES: dict[str, MarketRules] = {
    "BTCUSDT": _rules("0.01", "1000000", "0.00001", "9000", "120"),
    "ETHUSDT": _rules("0.01", "1000000", "0.0001", "9000", "2200"),
    "SOLUSDT": _rules("0.01", "10000", "0.001", "9000000", "22000"),
    "BNBUSDT": _rules("0.01", "100000", "0.001", "900000", "2800"),
    "XRPUSDT": _rules("0.0001", "1000", "0.1", "9222449", "2400000"),
    "ADAUSDT": _rules("0.0001", "1000", "0.1", "900000", "1300000"),
    "AVAXUSDT": _rules("0.01", "10000", "0.01", "9000000", "40000"),
    "DOGEUSDT": _rules("0.00001", "1000", "1", "9000000", "9000000"),
    "LINKUSDT": _rules("0.01", "10000", "0.01", "9000000", "60000"),
    "DOTUSDT": _rules("0.001", "1000", "0.01", "9000000", "150000"),
}


def derived_rules(last_close: float) -> MarketRules:
    """Rules for a pair outside the table, scaled to its price the way Binance scales them.

    About five significant digits of price (never coarser than a cent) and a quantity step worth
    roughly 0.1 to 1 quote unit, so amounts and costs round like on a real listing.
    """
    magnitude = math.floor(math.log10(last_close)) if last_close > 0 else -8
    tick_exponent = min(max(magnitude - 4, -8), -2)
    step_exponent = min(max(-(magnitude + 1), -8), 0)
    max_qty = Decimal(9000) if magnitude >= 3 else Decimal(9_000_000)
    return MarketRules(
        tick_size=Decimal(10) ** tick_exponent,
        max_price=Decimal(10) ** max(magnitude + 3, 3),
        step_size=Decimal(10) ** step_exponent,
        max_qty=max_qty,
        market_max_qty=max_qty / 100,
    )


def market_rules(symbol: str, last_close: float) -> MarketRules:
    """The real rules when known, else rules derived from the last close."""
    return KNOWN_RULES.get(symbol) or derived_rules(last_close)


def fixed8(value: Decimal) -> str:
    """Binance's number format for rules: always 8 decimals."""
    return f"{value:.8f}"


def price_string(value: float) -> str:
    """Binance's 8-decimal format, unless that would change the float the datadir holds.

    Resampled files hold float sums (``159541.53733000002``); sending them exactly keeps what
    freqtrade downloads identical to the source file.
    """
    text = f"{value:.8f}"
    if float(text) == value:
        return text
    return np.format_float_positional(value, unique=True, trim="-")


# ---------------------------------------------------------------------------------------------
# Candles
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CandleSeries:
    """One symbol's candles at one interval, as arrays for fast slicing."""

    interval_ms: int
    open_time: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, interval_ms: int) -> CandleSeries:
        """Build from a Freqtrade candle frame (``date`` in UTC plus OHLCV columns)."""
        open_time = pd.DatetimeIndex(frame["date"]).as_unit("ms").asi8.astype(np.int64)
        return cls(
            interval_ms=interval_ms,
            open_time=open_time,
            open=frame["open"].to_numpy(dtype=np.float64),
            high=frame["high"].to_numpy(dtype=np.float64),
            low=frame["low"].to_numpy(dtype=np.float64),
            close=frame["close"].to_numpy(dtype=np.float64),
            volume=frame["volume"].to_numpy(dtype=np.float64),
        )

    def to_frame(self) -> pd.DataFrame:
        """Back to a Freqtrade-shaped frame (used for resampling)."""
        return pd.DataFrame(
            {
                "date": pd.to_datetime(self.open_time, unit="ms", utc=True),
                "open": self.open,
                "high": self.high,
                "low": self.low,
                "close": self.close,
                "volume": self.volume,
            }
        )

    def __len__(self) -> int:
        return len(self.open_time)

    def window(self, start: int | None, end: int | None, limit: int) -> slice:
        """Binance's kline selection: open time within [start, end], inclusive.

        With a start the first ``limit`` candles from it; without one the last ``limit`` candles
        up to ``end`` (or the latest ones).
        """
        low = 0 if start is None else int(np.searchsorted(self.open_time, start, side="left"))
        high = len(self) if end is None else int(np.searchsorted(self.open_time, end, side="right"))
        if start is None:
            return slice(max(high - limit, 0), high)
        return slice(low, max(min(high, low + limit), low))

    def klines(self, rows: slice) -> list[list[Any]]:
        """Binance's 12-field kline arrays for ``rows``.

        The datadir holds no quote volume, trade count or taker split: quote volume is estimated
        as volume x typical price, the others are zero.
        """
        result: list[list[Any]] = []
        for index in range(*rows.indices(len(self))):
            open_time = int(self.open_time[index])
            high, low, close = self.high[index], self.low[index], self.close[index]
            volume = self.volume[index]
            result.append(
                [
                    open_time,
                    price_string(self.open[index]),
                    price_string(high),
                    price_string(low),
                    price_string(close),
                    price_string(volume),
                    open_time + self.interval_ms - 1,
                    f"{volume * (high + low + close) / 3:.8f}",
                    0,
                    "0.00000000",
                    "0.00000000",
                    "0",
                ]
            )
        return result


def resample(source: CandleSeries, interval_ms: int) -> CandleSeries:
    """Aggregate finer candles into a coarser interval, aligned to UTC midnight like Binance."""
    frame = source.to_frame().set_index("date")
    grouped = frame.resample(pd.Timedelta(milliseconds=interval_ms), origin="epoch").agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
    )
    grouped = grouped.dropna(subset=["open"]).reset_index()
    return CandleSeries.from_frame(grouped, interval_ms)


class CandleStore:
    """The datadir's spot candle files, read lazily and cached per (symbol, interval)."""

    def __init__(self, datadir: Path) -> None:
        self.datadir = Path(datadir)
        if not self.datadir.is_dir():
            raise FileNotFoundError(f"Candle directory {self.datadir} does not exist.")
        self._files: dict[str, dict[str, Path]] = {}
        self._assets: dict[str, tuple[str, str]] = {}
        for path in sorted(self.datadir.glob("*.feather")):
            match = CANDLE_FILE.match(path.name)
            if match is None or match["interval"] not in BINANCE_INTERVALS_MS:
                continue
            symbol = match["base"] + match["quote"]
            self._assets[symbol] = (match["base"], match["quote"])
            self._files.setdefault(symbol, {})[match["interval"]] = path
        if not self._files:
            raise FileNotFoundError(f"No spot candle files (PAIR-TF.feather) in {self.datadir}.")
        self._cache: dict[tuple[str, str], CandleSeries] = {}
        self._last_close: dict[str, float] = {}
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        """The exchange's "now": the wall clock here, the replayed time in a replay."""
        return now_ms()

    def symbols(self) -> list[str]:
        """Every symbol with at least one candle file, sorted."""
        return sorted(self._files)

    def assets(self, symbol: str) -> tuple[str, str]:
        """(base, quote) of a served symbol."""
        if symbol not in self._assets:
            raise invalid_symbol()
        return self._assets[symbol]

    def intervals(self, symbol: str) -> list[str]:
        """Intervals with a file for ``symbol``, finest first."""
        return sorted(self._files.get(symbol, {}), key=BINANCE_INTERVALS_MS.__getitem__)

    def series(self, symbol: str, interval: str) -> CandleSeries:
        """Candles of ``symbol`` at ``interval``: from its file, else resampled from a finer one."""
        if symbol not in self._files:
            raise invalid_symbol()
        if interval not in BINANCE_INTERVALS_MS:
            raise invalid_interval()
        with self._lock:
            return self._cached(symbol, interval)

    def finest(self, symbol: str) -> CandleSeries:
        """The most detailed candles of ``symbol``: what tickers are computed from."""
        if symbol not in self._files:
            raise invalid_symbol()
        return self.series(symbol, self.intervals(symbol)[0])

    def last_close(self, symbol: str) -> float:
        """The latest close, read from the smallest file: exchangeInfo needs only this per pair."""
        if symbol not in self._files:
            raise invalid_symbol()
        with self._lock:
            if symbol not in self._last_close:
                path = self._files[symbol][self.intervals(symbol)[-1]]
                closes = pd.read_feather(path, columns=["close"])["close"]
                self._last_close[symbol] = float(closes.iloc[-1]) if len(closes) else 0.0
            return self._last_close[symbol]

    def _cached(self, symbol: str, interval: str) -> CandleSeries:
        """Load once; the caller holds the lock."""
        series = self._cache.get((symbol, interval))
        if series is None:
            series = self._load(symbol, interval)
            self._cache[(symbol, interval)] = series
        return series

    def _load(self, symbol: str, interval: str) -> CandleSeries:
        interval_ms = BINANCE_INTERVALS_MS[interval]
        path = self._files[symbol].get(interval)
        if path is not None:
            logger.debug("Reading %s", path)
            return CandleSeries.from_frame(pd.read_feather(path), interval_ms)
        source = self._resample_source(symbol, interval_ms)
        if source is None:
            raise invalid_interval(
                f"Invalid interval. Interval {interval} is not available for {symbol} here: "
                f"candle files exist for {', '.join(self.intervals(symbol))}."
            )
        logger.debug("Resampling %s %s from %s", symbol, interval, source)
        return resample(self._cached(symbol, source), interval_ms)

    def _resample_source(self, symbol: str, interval_ms: int) -> str | None:
        """The coarsest file interval that divides ``interval_ms``, for intervals within a day.

        Binance aligns 3d and 1w candles to its own anchors, so those are never invented here.
        """
        if DAY_MS % interval_ms:
            return None
        candidates = [
            interval
            for interval in self.intervals(symbol)
            if BINANCE_INTERVALS_MS[interval] < interval_ms
            and interval_ms % BINANCE_INTERVALS_MS[interval] == 0
        ]
        return candidates[-1] if candidates else None


# ---------------------------------------------------------------------------------------------
# Replay: the candles served as if live
# ---------------------------------------------------------------------------------------------

HOUR_MS = 3_600_000


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


def _forming(
    series: CandleSeries, closed: int, price: float, volume: float, high: float, low: float
) -> CandleSeries:
    """``series`` cut after ``closed`` candles plus one forming candle with the given values."""
    cut = slice(0, closed + 1)
    open_time = series.open_time[cut]
    opened = series.open[cut].copy()
    highs, lows = series.high[cut].copy(), series.low[cut].copy()
    closes, volumes = series.close[cut].copy(), series.volume[cut].copy()
    highs[-1], lows[-1], closes[-1], volumes[-1] = high, low, price, volume
    return CandleSeries(series.interval_ms, open_time, opened, highs, lows, closes, volumes)


class ReplayStore(CandleStore):
    """The datadir seen at the replayed "now": closed candles, then one candle still forming.

    The forming candle holds only what is known at its start: the finest file's current candle
    is its open price (volume 0); a coarser forming candle aggregates the finer candles closed
    so far plus that price, as Binance's would. Tickers and the order book quote that price,
    and nothing after "now" is ever served.
    """

    def __init__(self, datadir: Path, clock: ReplayClock) -> None:
        super().__init__(datadir)
        self.clock = clock

    def now_ms(self) -> int:
        """The replayed time."""
        return self.clock.now_ms()

    def series(self, symbol: str, interval: str) -> CandleSeries:
        """Candles of ``symbol`` up to the replayed now, the last one forming."""
        return self._at(super().series(symbol, interval), symbol, self.now_ms())

    def finest(self, symbol: str) -> CandleSeries:
        return self.series(symbol, self.intervals(symbol)[0])

    def _at(self, series: CandleSeries, symbol: str, now: int) -> CandleSeries:
        index = int(np.searchsorted(series.open_time, now, side="right")) - 1
        if index < 0:
            raise BinanceError(400, -1121, f"Invalid symbol. {symbol} has no candle before now.")
        fine = super().series(symbol, self.intervals(symbol)[0])
        if fine.interval_ms > series.interval_ms:
            return _forming(
                series,
                index,
                float(series.open[index]),
                0.0,
                float(series.open[index]),
                float(series.open[index]),
            )
        current = int(np.searchsorted(fine.open_time, now, side="right")) - 1
        price = float(fine.open[max(current, 0)])
        if int(series.open_time[index]) + series.interval_ms <= now:
            # Replay ran past the file's last candle (or into a gap): the market stands still.
            return _forming(
                series,
                index,
                float(series.close[index]),
                0.0,
                float(series.high[index]),
                float(series.low[index]),
            )
        begin = int(np.searchsorted(fine.open_time, series.open_time[index], side="left"))
        closed = slice(begin, max(current, begin))
        high = max([price, *fine.high[closed].tolist()])
        low = min([price, *fine.low[closed].tolist()])
        volume = float(fine.volume[closed].sum())
        return _forming(series, index, price, volume, high, low)


# ---------------------------------------------------------------------------------------------
# Endpoints
# ---------------------------------------------------------------------------------------------

Query = dict[str, str]
Endpoint = Callable[[CandleStore, Query], Any]


def now_ms() -> int:
    """Wall-clock time in ms: freqtrade compares it with its own clock before trading."""
    return time.time_ns() // 1_000_000


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


# ---------------------------------------------------------------------------------------------
# HTTP server
# ---------------------------------------------------------------------------------------------


class _ExchangeServer(ThreadingHTTPServer):
    """The HTTP server, carrying the candle store and a tally of the endpoints hit."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], store: CandleStore) -> None:
        from tooling.bybit_exchange import ENDPOINTS as BYBIT_ENDPOINTS

        self.store = store
        # Binance's /api/v3 paths and Bybit's /v5 paths never overlap: one server answers both.
        self.endpoints: dict[str, Endpoint] = {**ENDPOINTS, **BYBIT_ENDPOINTS}
        self.hits: Counter[str] = Counter()
        self.hits_lock = threading.Lock()
        super().__init__(address, _Handler)

    def record(self, endpoint: str) -> None:
        """Count one request, so tests and users can see what ccxt and freqtrade asked for."""
        with self.hits_lock:
            self.hits[endpoint] += 1


class _ExchangeServerV6(_ExchangeServer):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    """Routes a request to its endpoint and answers JSON, errors in Binance's format."""

    server: _ExchangeServer
    protocol_version = "HTTP/1.1"  # keep-alive: ccxt reuses its connections
    server_version = "freqai-swing-local-exchange"

    def do_GET(self) -> None:
        """Answer a market-data request."""
        parts = urlsplit(self.path)
        self.server.record(f"GET {parts.path}")
        endpoint = self.server.endpoints.get(parts.path)
        if endpoint is None:
            self._unknown(parts.path)
            return
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        try:
            payload = endpoint(self.server.store, query)
        except BinanceError as error:
            self._send(error.status, {"code": error.code, "msg": error.msg})
        except Exception:
            logger.exception("Local exchange failed on %s", self.path)
            self._send(500, {"code": -1000, "msg": "An unknown error occurred while processing."})
        else:
            self._send(200, payload)

    def do_POST(self) -> None:
        """Orders and account calls are not impersonated: say so instead of pretending."""
        self._discard_body()
        self.server.record(f"POST {urlsplit(self.path).path}")
        self._unknown(urlsplit(self.path).path)

    do_PUT = do_POST  # noqa: N815
    do_DELETE = do_POST  # noqa: N815

    def _discard_body(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)

    def _unknown(self, path: str) -> None:
        logger.info("Local exchange has no endpoint %s %s", self.command, path)
        self._send(
            404, {"code": -1000, "msg": f"Unknown endpoint {self.command} {path} (local exchange)."}
        )

    def _send(self, status: int, payload: Any) -> None:
        body = json.dumps(payload, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base-class signature
        """One debug line per request instead of http.server's stderr output."""
        logger.debug("%s %s", self.address_string(), format % args)


def loopback_host(host: str) -> str:
    """The address to bind, refusing anything reachable from outside this machine."""
    if host == "localhost":
        return DEFAULT_HOST
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is None or not address.is_loopback:
        raise ValueError(
            f"refusing to bind {host!r}: the local exchange listens on loopback only "
            "(127.0.0.1, ::1 or localhost)"
        )
    return host


class LocalExchange:
    """The server's lifecycle: bind on loopback, serve in a background thread, stop.

    ``with LocalExchange(datadir) as exchange:`` gives a running server on a free port, whose
    ``api_url`` goes into :func:`offline_overlay`.
    """

    def __init__(
        self,
        datadir: Path,
        host: str = DEFAULT_HOST,
        port: int = 0,
        replay: ReplayClock | None = None,
        clock_file: Path | None = None,
    ) -> None:
        self.host = loopback_host(host)
        if clock_file is not None and replay is None:
            raise ValueError("a clock file is only written in replay mode")
        self.store = CandleStore(Path(datadir)) if replay is None else ReplayStore(datadir, replay)
        self.replay = replay
        self.clock_file = None if clock_file is None else Path(clock_file)
        self._requested_port = port
        self._server: _ExchangeServer | None = None
        self._thread: threading.Thread | None = None
        self._clock_stop = threading.Event()
        self._clock_thread: threading.Thread | None = None

    def start(self) -> LocalExchange:
        """Bind and serve in a daemon thread; raises :class:`PortInUseError` if taken."""
        if self._server is not None:
            return self
        server_class = _ExchangeServerV6 if ":" in self.host else _ExchangeServer
        try:
            self._server = server_class((self.host, self._requested_port), self.store)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortInUseError(self._requested_port) from error
            raise
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="local-exchange",
            daemon=True,
        )
        self._thread.start()
        if self.replay is not None and self.clock_file is not None:
            write_clock_file(self.clock_file, self.replay)
            self._clock_stop.clear()
            self._clock_thread = threading.Thread(
                target=self._keep_clock_file, name="replay-clock", daemon=True
            )
            self._clock_thread.start()
        logger.info("Local exchange serving %d pairs on %s", len(self.store.symbols()), self.url)
        return self

    def _keep_clock_file(self) -> None:
        """Rewrite the shared clock at every replay step, so the bot's clock jumps with ours."""
        assert self.replay is not None and self.clock_file is not None
        while True:
            wait_ms = self.replay.next_step_real_ms(now_ms()) - now_ms()
            if self._clock_stop.wait(max(wait_ms, 1) / 1000):
                return
            write_clock_file(self.clock_file, self.replay)

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is None:
            return
        if self._clock_thread is not None:
            self._clock_stop.set()
            self._clock_thread.join()
            self._clock_thread = None
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = None
        self._thread = None

    @property
    def port(self) -> int:
        """The bound port (the one picked by the system when started with port 0)."""
        if self._server is None:
            raise RuntimeError("The local exchange is not started.")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Root URL, e.g. ``http://127.0.0.1:18765``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def api_url(self) -> str:
        """Base URL of the spot API, what ccxt calls ``urls.api.public``."""
        return f"{self.url}/api/v3"

    @property
    def bybit_url(self) -> str:
        """Base URL of Bybit's v5 API here (its root), what ccxt's bybit calls ``urls.api``."""
        return self.url

    @property
    def endpoint_hits(self) -> Counter[str]:
        """How often each ``METHOD /path`` was requested since start."""
        if self._server is None:
            return Counter()
        with self._server.hits_lock:
            return Counter(self._server.hits)

    def __enter__(self) -> LocalExchange:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


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


# ---------------------------------------------------------------------------------------------
# Freqtrade configuration
# ---------------------------------------------------------------------------------------------


def offline_overlay(api_url: str) -> dict[str, Any]:
    """The freqtrade config block that points ccxt's Binance at ``api_url``.

    Only spot markets are fetched (the futures hosts are not impersonated), and websockets are
    off: in dry runs they would otherwise stream live prices from the real Binance.
    """
    api_url = api_url.rstrip("/")
    if not api_url.endswith("/api/v3"):
        raise ValueError(f"{api_url!r} is not a spot API URL ending in /api/v3")
    root = api_url.removesuffix("/api/v3")
    ccxt_config = {
        "urls": {
            "api": {
                "public": api_url,
                "private": api_url,
                "v1": f"{root}/api/v1",
                "sapi": f"{root}/sapi/v1",
            }
        },
        "options": {"fetchMarkets": {"types": ["spot"]}},
    }
    return {
        "exchange": {
            "enable_ws": False,
            "ccxt_config": ccxt_config,
            "ccxt_async_config": deepcopy(ccxt_config),
        }
    }


def write_offline_overlay(path: Path, api_url: str) -> Path:
    """Write :func:`offline_overlay` as JSON, for ``freqtrade ... -c <path>``."""
    path = Path(path)
    path.write_text(json.dumps(offline_overlay(api_url), indent=4) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


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


if __name__ == "__main__":
    raise SystemExit(main())

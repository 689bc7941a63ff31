"""The datadir's candles: read lazily, resampled on demand, and seen at a replayed "now"."""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tooling.local_exchange.clock import ReplayClock, now_ms
from tooling.local_exchange.markets import (
    BINANCE_INTERVALS_MS,
    DAY_MS,
    BinanceError,
    invalid_interval,
    invalid_symbol,
    price_string,
)

logger = logging.getLogger(__name__)

# Spot candle files only: futures files carry a settle currency and a candle-type suffix.
CANDLE_FILE = re.compile(
    r"^(?P<base>[A-Z0-9]+)_(?P<quote>[A-Z0-9]+)-(?P<interval>\d+[smhdw])\.feather$"
)


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

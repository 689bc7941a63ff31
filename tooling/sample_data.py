"""Slice the real Binance candles of ``../shared/data`` into the bundle's ``user_data``.

The bundled sample is a fact, not a fixture: it is copied byte-for-byte (rows, not values, are
selected), so this command documents where the committed files came from and can rebuild them.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

logger = logging.getLogger(__name__)

SAMPLE_PAIRS: tuple[str, ...] = (
    "BTC/USDT",
    "ETH/USDT",
    "SOL/USDT",
    "BNB/USDT",
    "XRP/USDT",
    "ADA/USDT",
    "AVAX/USDT",
    "DOGE/USDT",
    "LINK/USDT",
    "DOT/USDT",
)
SAMPLE_TIMEFRAMES: tuple[str, ...] = ("1h", "4h", "1d")
SAMPLE_START = "2023-01-01"
SAMPLE_END = "2024-06-30 23:00"


def candle_file_name(pair: str, timeframe: str) -> str:
    """Freqtrade's file name for a spot candle file (``BTC/USDT`` -> ``BTC_USDT-1h.feather``)."""
    return f"{pair.replace('/', '_')}-{timeframe}.feather"


def copy_sample(
    source_dir: Path,
    target_dir: Path,
    start: str = SAMPLE_START,
    end: str = SAMPLE_END,
    pairs: tuple[str, ...] = SAMPLE_PAIRS,
    timeframes: tuple[str, ...] = SAMPLE_TIMEFRAMES,
) -> list[Path]:
    """Copy the candles of ``pairs`` x ``timeframes`` between ``start`` and ``end`` (inclusive)."""
    target_dir.mkdir(parents=True, exist_ok=True)
    start_ts = pd.Timestamp(start, tz="UTC")
    end_ts = pd.Timestamp(end, tz="UTC")
    written: list[Path] = []
    for pair in pairs:
        for timeframe in timeframes:
            source = source_dir / candle_file_name(pair, timeframe)
            if not source.is_file():
                raise FileNotFoundError(
                    f"Candle file {source} is missing: cannot build the sample."
                )
            candles = pd.read_feather(source)
            window = candles[(candles["date"] >= start_ts) & (candles["date"] <= end_ts)]
            target = target_dir / source.name
            window.reset_index(drop=True).to_feather(target, compression="zstd")
            logger.info("%s: %d candles -> %s", source.name, len(window), target)
            written.append(target)
    return written


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    parser.add_argument("--source", type=Path, default=Path("../shared/data/binance"))
    parser.add_argument("--target", type=Path, default=Path("user_data/data/binance"))
    parser.add_argument("--start", default=SAMPLE_START)
    parser.add_argument("--end", default=SAMPLE_END)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s - %(name)s - %(levelname)s - %(message)s"
    )
    try:
        copy_sample(args.source, args.target, args.start, args.end)
    except FileNotFoundError as error:
        logger.error("%s Pass the full history's folder with --source.", error)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

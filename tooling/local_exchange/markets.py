"""Binance's market rules: intervals, error answers, the price and quantity grid of each symbol."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

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


class BinanceError(Exception):
    """An error in Binance's own ``{"code", "msg"}`` format, which ccxt maps to its types."""

    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(msg)
        self.status = status
        self.code = code
        self.msg = msg


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

"""A closed trade as the bundle's rules and messages see it, read from Freqtrade's database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class ClosedTrade:
    """What the risk rules and the operator messages need of a closed trade (Freqtrade's
    ``Trade`` has more).

    Attributes:
        pair: the trade's pair (``"BTC/USDT"``).
        close_date: when it closed (time-zone aware, UTC).
        profit_ratio: its profit as a share of its stake, net of fees.
        profit_abs: its profit in stake currency, net of fees.
    """

    pair: str
    close_date: datetime
    profit_ratio: float
    profit_abs: float

    @classmethod
    def of(cls, trade: Any) -> ClosedTrade:
        """The closed trade of a Freqtrade ``Trade`` (its close date read as UTC when naive)."""
        closed: datetime = trade.close_date
        if closed.tzinfo is None:
            closed = closed.replace(tzinfo=UTC)
        return cls(
            pair=str(trade.pair),
            close_date=closed,
            profit_ratio=float(trade.close_profit or 0.0),
            profit_abs=float(trade.close_profit_abs or 0.0),
        )


def database_closed_trades() -> list[ClosedTrade]:
    """Every closed trade of the running bot's (or backtest's) Freqtrade trade store."""
    from freqtrade.persistence import Trade

    return [
        ClosedTrade.of(trade)
        for trade in Trade.get_trades_proxy(is_open=False)
        if trade.close_date is not None
    ]

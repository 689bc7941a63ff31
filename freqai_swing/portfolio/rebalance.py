"""When and by how much a position is traded back to its target."""

from __future__ import annotations


def rebalance_stake(
    current_value: float,
    target_value: float,
    equity: float,
    band: float,
    min_order_fraction: float,
) -> float:
    """Stake to add (positive) or to sell (negative); 0 while inside the band.

    A position is left alone while it is within ``band`` × target of its target; a target of
    0 sells everything; no order is smaller than ``min_order_fraction`` of equity (except that
    full exit).
    """
    if target_value <= 0:
        return -current_value if current_value > 0 else 0.0
    difference = target_value - current_value
    if abs(difference) <= band * target_value:
        return 0.0
    if abs(difference) < min_order_fraction * equity:
        return 0.0
    return difference


def partial_exit_stake(sell_value: float, position_value: float, trade_stake: float) -> float:
    """The negative stake that makes Freqtrade sell ``sell_value`` of a position now worth
    ``position_value``.

    Freqtrade turns a negative stake into an amount at the trade's *cost*
    (``amount × stake / trade.stake_amount``), not at today's price: selling half of a position
    that has grown tenfold takes half of its stake, not half of its value.
    """
    if position_value <= 0 or trade_stake <= 0:
        return 0.0
    share = min(max(sell_value / position_value, 0.0), 1.0)
    return -share * trade_stake

"""The bundle's hyperopt objective: Calmar, capped, and discounted when trades are few.

Freqtrade's own ``CalmarHyperOptLoss`` ranks a run with two lucky trades and a tiny drawdown
above any real strategy; on 1h crypto that is how hyperopt overfits. Here the Calmar ratio is
capped, scaled down below ``min_trades`` and a shortfall of trades costs up to one full unit of
score, so the optimiser prefers many trades with a steady equity curve.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CalmarObjective:
    """Score of a hyperopt epoch; higher is better (the loss is its negative).

    Attributes:
        min_trades: trades below which the score is scaled down and penalised.
        calmar_cap: |Calmar| is clipped to this, so a near-zero drawdown cannot dominate.
    """

    min_trades: int = 30
    calmar_cap: float = 10.0

    def __post_init__(self) -> None:
        if self.min_trades < 1:
            raise ValueError(f"min_trades must be at least 1, got {self.min_trades}")
        if self.calmar_cap <= 0:
            raise ValueError(f"calmar_cap must be positive, got {self.calmar_cap}")

    def score(self, calmar: float, trade_count: int) -> float:
        """``clip(calmar) × min(1, n / min_trades) − shortfall``, shortfall in [0, 1]."""
        capped = max(-self.calmar_cap, min(self.calmar_cap, calmar))
        coverage = min(1.0, trade_count / self.min_trades)
        shortfall = max(0, self.min_trades - trade_count) / self.min_trades
        return capped * coverage - shortfall

    def loss(self, calmar: float, trade_count: int) -> float:
        return -self.score(calmar, trade_count)

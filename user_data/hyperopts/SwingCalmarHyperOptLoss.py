"""Hyperopt loss: capped Calmar, discounted below 30 trades (``--hyperopt-loss
SwingCalmarHyperOptLoss``); see ``freqai_swing.hyperopt_loss``.

It lives in the userdir's ``hyperopts/`` because that is where freqtrade looks for user losses:
``freqtrade list-hyperoptloss`` lists no other folder.
"""

from datetime import datetime
from typing import Any

from freqtrade.data.metrics import calculate_calmar
from freqtrade.optimize.hyperopt import IHyperOptLoss
from pandas import DataFrame

from freqai_swing.hyperopt_loss import CalmarObjective


class SwingCalmarHyperOptLoss(IHyperOptLoss):
    """Rewards Calmar (return over drawdown) and penalises too few trades."""

    objective = CalmarObjective()

    @staticmethod
    def hyperopt_loss_function(
        results: DataFrame,
        trade_count: int,
        min_date: datetime,
        max_date: datetime,
        starting_balance: float,
        *args: Any,
        **kwargs: Any,
    ) -> float:
        calmar = calculate_calmar(results, min_date, max_date, starting_balance)
        return SwingCalmarHyperOptLoss.objective.loss(calmar, trade_count)

"""The bundle's hyperopt objective on hand-computed cases."""

from __future__ import annotations

import pytest

from freqai_swing.hyperopt_loss import CalmarObjective


@pytest.mark.parametrize(
    ("calmar", "trades", "expected"),
    [
        (2.0, 30, 2.0),  # enough trades: the Calmar itself
        (2.0, 300, 2.0),
        (2.0, 15, 2.0 * 0.5 - 0.5),  # half the trades: half the Calmar, half a unit of penalty
        (50.0, 3, 10.0 * 0.1 - 0.9),  # a lucky handful of trades: capped, then discounted
        (-50.0, 30, -10.0),  # capped below too
        (0.0, 0, -1.0),  # no trade at all: the full penalty
        (-3.0, 6, -3.0 * 0.2 - 0.8),
    ],
)
def test_score(calmar: float, trades: int, expected: float) -> None:
    objective = CalmarObjective()
    assert objective.score(calmar, trades) == pytest.approx(expected)
    assert objective.loss(calmar, trades) == pytest.approx(-expected)


def test_more_trades_never_score_lower_at_the_same_positive_calmar() -> None:
    objective = CalmarObjective()
    scores = [objective.score(1.5, n) for n in range(0, 61)]
    assert scores == sorted(scores)


@pytest.mark.parametrize(("field", "value"), [("min_trades", 0), ("calmar_cap", 0.0)])
def test_bad_settings_are_refused(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        CalmarObjective(**{field: value})

"""The lifecycle's one decision step: rollback, promotion, retrain trigger and retirement."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from freqai_swing.lifecycle.config import SelfTrainSettings
from freqai_swing.lifecycle.promotion import Performance
from freqai_swing.lifecycle.step import (
    Candidate,
    LifecycleState,
    Observations,
    retirement_due,
    step,
    with_new_model,
)
from freqai_swing.settings import SwingConfigError, load_swing_settings

NOW = datetime(2024, 5, 1, tzinfo=UTC)
SETTINGS = SelfTrainSettings(retire_after=3)
WINNER = tuple(0.02 + 0.001 * (i % 5) for i in range(25))
LOSER = tuple(-0.01 + 0.001 * (i % 5) for i in range(25))
POOR = Performance(trades=15, sharpe=-0.8, max_drawdown=0.05, win_rate=0.40,
                   total_return=-0.03, buy_and_hold_return=0.02)  # fmt: skip
GOOD = Performance(trades=15, sharpe=1.8, max_drawdown=0.04, win_rate=0.55,
                   total_return=0.05, buy_and_hold_return=0.02)  # fmt: skip


def champion_state(**changes: object) -> LifecycleState:
    state = LifecycleState(
        champion="a@1",
        champion_since=NOW - timedelta(days=10),
        last_training=NOW - timedelta(days=2),
    )
    return replace(state, **changes)  # type: ignore[arg-type]


def falling_equity() -> pd.Series:
    days = pd.date_range(NOW - timedelta(days=10), NOW, freq="D", tz="UTC")
    values = [10_000.0] * (len(days) - 1) + [8_500.0]
    return pd.Series(values, index=days)


def test_a_champion_promoted_by_test_rolls_back_beyond_the_drawdown() -> None:
    state = champion_state(promoted_by_test=True)
    seen = Observations(now=NOW, equity=falling_equity(), rollback_target="old@0")
    decisions = step(state, seen, SETTINGS)
    assert decisions.rollback is not None and decisions.rollback.target == "old@0"
    assert decisions.rollback.drawdown == pytest.approx(0.15)
    assert decisions.state.champion == "old@0" and not decisions.state.promoted_by_test
    assert decisions.kinds() == ["rollback", "no-retrain"]
    # not promoted by a test, or nothing to go back to: no rollback
    assert step(champion_state(), seen, SETTINGS).rollback is None
    no_target = Observations(now=NOW, equity=falling_equity())
    assert step(state, no_target, SETTINGS).rollback is None


def test_the_ab_test_promotes_keeps_or_goes_on_testing() -> None:
    since = NOW - timedelta(days=5)
    state = champion_state(challenger="b@2", challenger_since=since)
    better = step(state, Observations(NOW, challenger_returns=WINNER, champion_returns=LOSER),
                  SETTINGS)  # fmt: skip
    assert better.kinds() == ["promote", "no-retrain"]
    assert better.state.champion == "b@2" and better.state.promoted_by_test
    assert better.state.challenger is None
    worse = step(state, Observations(NOW, challenger_returns=LOSER, champion_returns=WINNER),
                 SETTINGS)  # fmt: skip
    assert worse.kinds() == ["keep", "no-retrain"] and worse.state.champion == "a@1"
    few = step(state, Observations(NOW, challenger_returns=WINNER[:5]), SETTINGS)
    assert few.kinds() == ["testing"] and few.state.challenger == "b@2"
    # out of time: kept out, the reason says so
    late = replace(state, challenger_since=NOW - timedelta(days=SETTINGS.max_challenger_days))
    expired = step(late, Observations(NOW, challenger_returns=WINNER[:5]), SETTINGS)
    assert expired.ab_test is not None and expired.ab_test.verdict == "keep"
    assert expired.ab_test.reason.endswith(f"after {SETTINGS.max_challenger_days} days")


def test_the_retrain_trigger_schedule_thresholds_and_force() -> None:
    fresh = champion_state()
    assert step(fresh, Observations(NOW), SETTINGS).retrain.reasons == ()  # type: ignore[union-attr]
    due = champion_state(last_training=NOW - timedelta(days=7))
    reasons = step(due, Observations(NOW, performance=POOR), SETTINGS).retrain.reasons  # type: ignore[union-attr]
    assert reasons[0].startswith("scheduled") and any("Sharpe" in r for r in reasons)
    forced = step(fresh, Observations(NOW, force_retrain=True), SETTINGS)
    assert forced.retrain is not None and forced.retrain.reasons == ("forced",)
    assert not forced.retrain.first_model
    # no retrain decision while a challenger is tested, nor without training allowed
    testing = champion_state(challenger="b@2")
    assert step(testing, Observations(NOW, force_retrain=True), SETTINGS).retrain is None
    assert step(fresh, Observations(NOW, allow_training=False), SETTINGS).retrain is None
    # the very first model goes straight to production
    first = step(LifecycleState(), Observations(NOW), SETTINGS).retrain
    assert first is not None and first.reasons == ("no model yet",) and first.first_model
    assert with_new_model(LifecycleState(), "a@1", NOW).champion == "a@1"
    assert with_new_model(fresh, "b@2", NOW).challenger == "b@2"


def test_a_failing_champion_is_retired_to_the_best_qualified_checkpoint() -> None:
    candidates = (
        Candidate("x@1", replace(GOOD, sharpe=1.2)),
        Candidate("best@2", GOOD),
        Candidate("few@3", replace(GOOD, trades=3, sharpe=5.0)),  # too few trades
        Candidate("deep@4", replace(GOOD, max_drawdown=0.3, sharpe=4.0)),  # fails drawdown
        Candidate("a@1", replace(GOOD, sharpe=9.0)),  # the champion itself
        Candidate("none@5", None),
    )
    state = champion_state()
    for streak in (1, 2):
        assert not retirement_due(state, SETTINGS)
        decisions = step(state, Observations(NOW, performance=POOR), SETTINGS)
        assert decisions.retirement is None
        state = decisions.state
        assert state.failing_streak == streak
    assert retirement_due(state, SETTINGS)
    decisions = step(state, Observations(NOW, performance=POOR, candidates=candidates), SETTINGS)
    assert decisions.retirement is not None and decisions.retirement.target == "best@2"
    assert decisions.retirement.streak == 3 and "Sharpe -0.80" in decisions.retirement.reason
    assert decisions.state.champion == "best@2" and decisions.state.failing_streak == 0
    assert decisions.kinds() == ["retire", "retrain"]
    # a good decision in between starts the count again; an unobserved one leaves it
    assert step(state, Observations(NOW, performance=GOOD), SETTINGS).state.failing_streak == 0
    assert step(state, Observations(NOW), SETTINGS).state.failing_streak == 2


def test_a_failing_champion_without_a_qualified_checkpoint_goes_to_cash() -> None:
    state = champion_state(failing_streak=2)
    weak = (Candidate("x@1", POOR),)
    decisions = step(state, Observations(NOW, performance=POOR, candidates=weak), SETTINGS)
    assert decisions.retirement is not None and decisions.retirement.target is None
    assert decisions.retirement.reason.endswith("retired for cash")
    assert decisions.state.champion is None and decisions.state.cash
    # in cash a new model is a challenger (tested against no trades), not a first model
    assert decisions.retrain is not None and not decisions.retrain.first_model
    assert with_new_model(decisions.state, "n@9", NOW).challenger == "n@9"
    # retire_after 0 switches the rule off
    off = replace(SETTINGS, retire_after=0)
    never = step(replace(state, failing_streak=99), Observations(NOW, performance=POOR), off)
    assert never.retirement is None and never.state.failing_streak == 0


def test_retire_after_is_a_validated_setting() -> None:
    assert SelfTrainSettings().retire_after == 30
    block = {"swing": {"selftrain": {"retire_after": 0}}}
    assert load_swing_settings(block).selftrain.retire_after == 0
    with pytest.raises(SwingConfigError, match="retire_after"):
        load_swing_settings({"swing": {"selftrain": {"retire_after": -1}}})

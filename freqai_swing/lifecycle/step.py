"""One lifecycle decision, shared by the live pass and the replay.

:func:`step` takes what the lifecycle remembers (:class:`LifecycleState`) and what was observed
at this decision (:class:`Observations`) and decides, in this order: the rollback of a champion
promoted by test, the A/B test of the challenger (promote, keep the champion, or go on
testing), the retirement of a champion that keeps failing its own thresholds, and the retrain
trigger. It is pure: no files, no clock, no bots. ``tooling/selftrain.py`` observes the bots
and acts on the decisions (installs, announcements, registry writes); the replay
(:func:`freqai_swing.lifecycle.simulation.simulate_lifecycle`) observes backtest trades.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

import pandas as pd

from freqai_swing.lifecycle.config import SelfTrainSettings
from freqai_swing.lifecycle.promotion import (
    Performance,
    PromotionResult,
    promotion_test,
    retrain_reasons,
    should_roll_back,
    threshold_failures,
)

#: The promotion test: ``(challenger returns, champion returns, settings)``.
PromotionTest = Callable[[Sequence[float], Sequence[float], SelfTrainSettings], PromotionResult]

Verdict = Literal["promote", "keep", "testing"]


@dataclass(frozen=True)
class LifecycleState:
    """What the lifecycle remembers between two decisions.

    Attributes:
        champion: the production version; ``None`` before the first model and in cash.
        champion_since: when it became the champion (the rollback rule looks from there).
        promoted_by_test: it won an A/B test (only then does the rollback rule watch it).
        challenger: the version under A/B test.
        challenger_since: the start of its A/B period; ``None`` while its bot only just
            started (no test at this decision).
        last_training: the last registration of a trained model.
        failing_streak: decisions in a row at which the champion failed its thresholds.
        cash: a champion was retired to cash (a new model is tested against no trades
            rather than installed as the first model).
    """

    champion: str | None = None
    champion_since: datetime | None = None
    promoted_by_test: bool = False
    challenger: str | None = None
    challenger_since: datetime | None = None
    last_training: datetime | None = None
    failing_streak: int = 0
    cash: bool = False


@dataclass(frozen=True)
class Candidate:
    """A registered checkpoint the champion may be retired to, with its figures."""

    version_id: str
    performance: Performance | None


@dataclass(frozen=True, eq=False)
class Observations:
    """What the caller observed for this decision.

    Attributes:
        now: the decision's time.
        equity: the production equity up to ``now`` (the rollback rule).
        challenger_returns / champion_returns: per-trade returns of both over the A/B period.
        performance: the champion's last ``evaluation_days`` (``None``: not observed).
        regime: a regime change of the market pair, if any.
        rollback_target: the previous champion a rollback would restore, if any.
        candidates: checkpoints a retirement may choose from.
        force_retrain: ``--force-retrain``.
        allow_training: ``False`` decides only rollback, A/B test and retirement.
    """

    now: datetime
    equity: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    challenger_returns: tuple[float, ...] = ()
    champion_returns: tuple[float, ...] = ()
    performance: Performance | None = None
    regime: str | None = None
    rollback_target: str | None = None
    candidates: tuple[Candidate, ...] = ()
    force_retrain: bool = False
    allow_training: bool = True


@dataclass(frozen=True)
class Rollback:
    """Give production back to ``target``: the champion fell ``drawdown`` since promotion."""

    champion: str
    target: str
    drawdown: float


@dataclass(frozen=True)
class ABDecision:
    """The A/B test's verdict on ``challenger`` and the reason to record."""

    verdict: Verdict
    challenger: str
    result: PromotionResult
    reason: str


@dataclass(frozen=True)
class Retirement:
    """Retire ``champion`` for ``target`` (``None``: cash) after ``streak`` failing decisions."""

    champion: str
    target: str | None
    failures: tuple[str, ...]
    streak: int

    @property
    def reason(self) -> str:
        successor = self.target or "cash"
        return (
            f"failed its thresholds at {self.streak} decisions in a row "
            f"({'; '.join(self.failures)}); retired for {successor}"
        )


@dataclass(frozen=True)
class Retrain:
    """The retrain trigger: its reasons (empty: no retrain) and where a new model goes."""

    reasons: tuple[str, ...]
    first_model: bool


@dataclass(frozen=True)
class Decisions:
    """One step's decisions and the state after them (before any new model)."""

    state: LifecycleState
    rollback: Rollback | None = None
    ab_test: ABDecision | None = None
    retirement: Retirement | None = None
    retrain: Retrain | None = None

    def kinds(self) -> list[str]:
        """The decisions by name, in order (``retrain`` / ``no-retrain`` for the trigger)."""
        kinds = []
        if self.rollback is not None:
            kinds.append("rollback")
        if self.ab_test is not None:
            kinds.append(self.ab_test.verdict)
        if self.retirement is not None:
            kinds.append("retire")
        if self.retrain is not None:
            kinds.append("retrain" if self.retrain.reasons else "no-retrain")
        return kinds


def step(
    state: LifecycleState,
    observations: Observations,
    settings: SelfTrainSettings,
    decide: PromotionTest = promotion_test,
) -> Decisions:
    """Decide rollback, A/B test, retirement and retrain at ``observations.now``.

    ``decide`` is the promotion test (tests replace it to force a promotion).
    """
    state, rollback = _rollback(state, observations, settings)
    state, ab_test = _ab_test(state, observations, settings, decide)
    changed = rollback is not None or (ab_test is not None and ab_test.verdict == "promote")
    state, retirement = _retirement(state, observations, settings, changed)
    retrain = _retrain(state, observations, settings)
    return Decisions(state, rollback, ab_test, retirement, retrain)


def retirement_due(state: LifecycleState, settings: SelfTrainSettings) -> bool:
    """Whether a failing champion would be retired at this decision, so that the caller
    gathers the candidates only then (they cost a backtest's or the registry's look-up)."""
    due = settings.retire_after > 0 and state.failing_streak + 1 >= settings.retire_after
    return due and state.champion is not None


def with_new_model(state: LifecycleState, version_id: str, now: datetime) -> LifecycleState:
    """The state after a new model was registered: the first champion, or the challenger."""
    if state.champion is None and not state.cash:
        return replace(
            state, champion=version_id, champion_since=now, promoted_by_test=False,
            last_training=now, failing_streak=0,
        )  # fmt: skip
    return replace(state, challenger=version_id, challenger_since=now, last_training=now)


def _rollback(
    state: LifecycleState, observations: Observations, settings: SelfTrainSettings
) -> tuple[LifecycleState, Rollback | None]:
    target = observations.rollback_target
    if not state.promoted_by_test or state.champion is None or state.champion_since is None:
        return state, None
    if target is None:
        return state, None
    roll, drawdown = should_roll_back(observations.equity, state.champion_since, settings)
    if not roll:
        return state, None
    after = replace(
        state, champion=target, champion_since=observations.now, promoted_by_test=False,
        failing_streak=0,
    )  # fmt: skip
    return after, Rollback(state.champion, target, drawdown)


def _ab_test(
    state: LifecycleState,
    observations: Observations,
    settings: SelfTrainSettings,
    decide: PromotionTest,
) -> tuple[LifecycleState, ABDecision | None]:
    challenger, since = state.challenger, state.challenger_since
    if challenger is None or since is None:
        return state, None
    result = decide(observations.challenger_returns, observations.champion_returns, settings)
    expired = observations.now - since >= timedelta(days=settings.max_challenger_days)
    if result.promote:
        after = replace(
            state, champion=challenger, champion_since=observations.now, promoted_by_test=True,
            challenger=None, challenger_since=None, failing_streak=0, cash=False,
        )  # fmt: skip
        return after, ABDecision("promote", challenger, result, result.reason)
    if len(observations.challenger_returns) >= settings.min_challenger_trades or expired:
        after = replace(state, challenger=None, challenger_since=None)
        reason = reject_reason(result, expired, settings)
        return after, ABDecision("keep", challenger, result, reason)
    return state, ABDecision("testing", challenger, result, result.reason)


def reject_reason(result: PromotionResult, expired: bool, settings: SelfTrainSettings) -> str:
    """The test's reason, saying so when the challenger ran out of time."""
    if expired and result.challenger_trades < settings.min_challenger_trades:
        return f"{result.reason} after {settings.max_challenger_days} days"
    return result.reason


def _retirement(
    state: LifecycleState, observations: Observations, settings: SelfTrainSettings, changed: bool
) -> tuple[LifecycleState, Retirement | None]:
    if settings.retire_after == 0 or state.champion is None or changed:
        return replace(state, failing_streak=0), None
    if observations.performance is None:
        return state, None
    failures = threshold_failures(observations.performance, settings)
    streak = state.failing_streak + 1 if failures else 0
    if streak < settings.retire_after:
        return replace(state, failing_streak=streak), None
    target = best_candidate(observations.candidates, state, settings)
    after = replace(
        state, champion=target, champion_since=observations.now, promoted_by_test=False,
        failing_streak=0, cash=target is None,
    )  # fmt: skip
    return after, Retirement(state.champion, target, tuple(failures), streak)


def best_candidate(
    candidates: Sequence[Candidate], state: LifecycleState, settings: SelfTrainSettings
) -> str | None:
    """The candidate with the highest Sharpe among those that meet every threshold on at
    least ``min_evaluation_trades`` trades (never the champion nor the challenger)."""
    qualified = [
        candidate
        for candidate in candidates
        if candidate.version_id not in {state.champion, state.challenger}
        and candidate.performance is not None
        and candidate.performance.trades >= settings.min_evaluation_trades
        and not threshold_failures(candidate.performance, settings)
    ]
    best = max(qualified, key=_sharpe, default=None)
    return best.version_id if best else None


def _sharpe(candidate: Candidate) -> float:
    return candidate.performance.sharpe if candidate.performance else 0.0


def _retrain(
    state: LifecycleState, observations: Observations, settings: SelfTrainSettings
) -> Retrain | None:
    if not observations.allow_training or state.challenger is not None:
        return None
    reasons = retrain_reasons(
        observations.now,
        state.last_training,
        observations.performance,
        observations.regime,
        settings,
    )
    if observations.force_retrain:
        reasons.insert(0, "forced")
    return Retrain(tuple(reasons), first_model=state.champion is None and not state.cash)

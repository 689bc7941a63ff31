"""Replay of the lifecycle over history: the gated champion/challenger against "always newest".

The simulation is driven by trades that real ``freqtrade backtesting`` runs produced (see
``tooling/selftrain.py``): for every weekly model ``k`` one backtest in which that model alone
trades from its training end to the end of the period. From those the replay picks, day by day,
the trades that the production model of the day opened, exactly as the real lifecycle would have
let it trade; the challenger's paper trades are its own backtest's trades from its start on.
Decisions go through the same :func:`~freqai_swing.lifecycle.step.step` (promotion test,
rollback rule, retirement, retrain trigger) and the same :class:`ModelRegistry` as the live
lifecycle, dated with the simulated clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from freqai_swing.equity import daily_equity
from freqai_swing.lifecycle.config import SelfTrainSettings
from freqai_swing.lifecycle.evaluation import window_performance
from freqai_swing.lifecycle.promotion import Performance, promotion_test, should_roll_back
from freqai_swing.lifecycle.registry import ModelRegistry, ModelVersion
from freqai_swing.lifecycle.step import (
    Candidate,
    Decisions,
    LifecycleState,
    Observations,
    PromotionTest,
    reject_reason,
    retirement_due,
    step,
    with_new_model,
)
from freqai_swing.walk_forward import Split, equity_figures, trade_figures

__all__ = ["ModelRun", "Replay", "WeeklyModel", "reject_reason"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WeeklyModel:
    """One weekly model of the replay: its index and training end."""

    index: int
    trained_at: pd.Timestamp


@dataclass
class SimulationResult:
    """What the replay did and the two equity curves."""

    gated_equity: pd.Series
    newest_equity: pd.Series
    gated_trades: pd.DataFrame
    newest_trades: pd.DataFrame
    events: list[dict[str, Any]] = field(default_factory=list)

    def summary(self, start: pd.Timestamp, end: pd.Timestamp) -> dict[str, Any]:
        return {
            "gated": {
                **equity_figures(self.gated_equity),
                **trade_figures(self.gated_trades, start, end),
            },
            "newest": {
                **equity_figures(self.newest_equity),
                **trade_figures(self.newest_trades, start, end),
            },
            "promotions": sum(e["kind"] == "promote" for e in self.events),
            "rejections": sum(e["kind"] == "keep" for e in self.events),
            "rollbacks": sum(e["kind"] == "rollback" for e in self.events),
            "retirements": sum(e["kind"] == "retire" for e in self.events),
        }


def _opened(trades: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    opened = pd.to_datetime(trades["open_date"], utc=True)
    return trades[(opened >= start) & (opened < end)]


def _closed_by(trades: pd.DataFrame, moment: pd.Timestamp) -> pd.DataFrame:
    return trades[pd.to_datetime(trades["close_date"], utc=True) <= moment]


@dataclass(frozen=True)
class ModelRun:
    """What a model's own backtest left: its trades, FreqAI identifier and model folder."""

    trades: pd.DataFrame
    identifier: str
    folder: Path | None
    metrics: dict[str, Any] = field(default_factory=dict)


def model_version(model: WeeklyModel, run: ModelRun) -> ModelVersion:
    """The registry record of a weekly model."""
    stamp = int(model.trained_at.timestamp())
    return ModelVersion(
        version_id=f"{run.identifier}@{stamp}",
        identifier=run.identifier,
        trained_at=model.trained_at.to_pydatetime(),
        train_start=(model.trained_at - pd.Timedelta(days=1)).to_pydatetime(),
        train_end=model.trained_at.to_pydatetime(),
        metrics=run.metrics,
    )


def simulate_lifecycle(
    models: Sequence[WeeklyModel],
    model_run: Callable[[WeeklyModel], ModelRun],
    newest_trades: pd.DataFrame,
    closes: pd.DataFrame,
    end: pd.Timestamp,
    settings: SelfTrainSettings,
    registry: ModelRegistry,
    starting_balance: float,
    injected_drawdown: tuple[pd.Timestamp, float] | None = None,
    decide: PromotionTest = promotion_test,
) -> SimulationResult:
    """Replay the lifecycle day by day from the first model's training end to ``end``.

    Each day is one :func:`step` of the lifecycle on what the backtests show that day. A
    retrain decided on a day when no weekly model starts finds no new model (the replay has
    backtests of the weekly models only), as a live retrain without new data does.

    Args:
        models: the weekly models, oldest first; the first one is the initial champion.
        model_run: the backtest in which one model alone traded from its training end to
            ``end`` (called only for the models the lifecycle actually uses).
        newest_trades: FreqAI's default: each week traded by the model trained right before it.
        injected_drawdown: for tests, ``(day, fraction)`` knocks the production equity down by
            ``fraction`` on ``day``, as a crash of the market would.
        decide: the promotion test (tests replace it to force a promotion).
    """
    start = models[0].trained_at
    replay = Replay(models, model_run, closes, settings, registry, starting_balance)
    replay.begin(start)
    for day in pd.date_range(start, end, freq="D", tz="UTC")[1:]:
        replay.day(day, injected_drawdown, decide)
    gated, gated_equity = replay.finish(end)
    if injected_drawdown is not None:
        moment = injected_drawdown[0]
        gated_equity = gated_equity.where(gated_equity.index < moment, gated_equity * replay.shock)
    whole = Split(0, start, start, end)
    newest = _opened(newest_trades, start, end)
    return SimulationResult(
        gated_equity,
        daily_equity(newest, closes, whole, starting_balance),
        gated,
        newest,
        replay.events,
    )


class Replay:
    """The replay's side of the lifecycle: it observes backtest trades for :func:`step` and
    acts on the decisions in its registry and in the production segments it trades."""

    def __init__(
        self,
        models: Sequence[WeeklyModel],
        model_run: Callable[[WeeklyModel], ModelRun],
        closes: pd.DataFrame,
        settings: SelfTrainSettings,
        registry: ModelRegistry,
        starting_balance: float,
    ) -> None:
        self.models, self.model_run, self.closes = models, model_run, closes
        self.settings, self.registry = settings, registry
        self.balance = starting_balance
        self.by_start = {m.trained_at: m for m in models}
        self.model_of: dict[str, WeeklyModel] = {}
        self.segments: list[tuple[WeeklyModel, pd.Timestamp, pd.Timestamp]] = []
        self.events: list[dict[str, Any]] = []
        self.state = LifecycleState()
        self.start = models[0].trained_at
        self.shock = 1.0
        self._runs: dict[int, ModelRun] = {}

    def trades_of(self, model: WeeklyModel) -> pd.DataFrame:
        if model.index not in self._runs:
            self._runs[model.index] = self.model_run(model)
        return self._runs[model.index].trades

    def note(self, kind: str, day: pd.Timestamp, **figures: Any) -> None:  # noqa: ANN401
        self.events.append({"kind": kind, "day": day, **figures})

    def register(self, model: WeeklyModel, day: pd.Timestamp) -> str:
        self.trades_of(model)
        run = self._runs[model.index]
        version = self.registry.register(
            model_version(model, run), run.folder, at=day.to_pydatetime()
        )
        self.registry.prune()
        self.model_of[version.version_id] = model
        return version.version_id

    def begin(self, start: pd.Timestamp) -> None:
        """The first model is the initial champion."""
        first = self.register(self.models[0], start)
        self.registry.promote(
            first, {}, "initial champion", at=start.to_pydatetime(), kind="initial"
        )
        self.note("initial", start, model=self.models[0].index)
        self.state = with_new_model(self.state, first, start)

    def champion(self) -> WeeklyModel | None:
        return self.model_of[self.state.champion] if self.state.champion else None

    def running(self, day: pd.Timestamp) -> list[tuple[WeeklyModel, pd.Timestamp, pd.Timestamp]]:
        """The production segments up to ``day``: the past ones and the champion's own."""
        champion, since = self.champion(), self.state.champion_since
        if champion is None or since is None:
            return list(self.segments)
        return [*self.segments, (champion, pd.Timestamp(since), day)]

    def gated(self, day: pd.Timestamp) -> pd.DataFrame:
        return _gated_trades(self.running(day), self.trades_of, self.models[0])

    def day(
        self,
        day: pd.Timestamp,
        injected_drawdown: tuple[pd.Timestamp, float] | None,
        decide: PromotionTest,
    ) -> None:
        """One day: observe, :func:`step`, act."""
        logger.debug("Replaying %s, champion %s.", day.date(), self.state.champion)
        gated = self.gated(day)
        equity = daily_equity(
            gated, self.closes, Split(0, self.start, self.start, day), self.balance
        )
        if injected_drawdown is not None and day >= injected_drawdown[0]:
            self.shock = 1 - injected_drawdown[1]
            equity = equity.where(equity.index < injected_drawdown[0], equity * self.shock)
        decisions = step(self.state, self.observe(day, gated, equity), self.settings, decide)
        self.act(day, decisions)

    def observe(self, day: pd.Timestamp, gated: pd.DataFrame, equity: pd.Series) -> Observations:
        state, settings = self.state, self.settings
        mine: tuple[float, ...] = ()
        theirs: tuple[float, ...] = ()
        target = self.registry.previous_champion() if state.promoted_by_test else None
        if state.challenger is not None and state.challenger_since is not None:
            since = pd.Timestamp(state.challenger_since)
            mine = self._returns(self.model_of[state.challenger], since, day)
            champion = self.champion()
            if target is not None and self._rolls_back(equity):
                # a rollback at this decision comes first: the test compares with its target
                champion = self.model_of[target.version_id]
            theirs = self._returns(champion, since, day) if champion else ()
        performance = None
        if settings.retire_after > 0:
            performance = self._performance(gated, day)
        candidates: tuple[Candidate, ...] = ()
        if retirement_due(state, settings):
            candidates = tuple(
                Candidate(v.version_id, self._performance(self.trades_of(model), day))
                for v in self.registry.fallbacks()
                if (model := self.model_of.get(v.version_id)) is not None
            )
        return Observations(
            now=day,
            equity=equity,
            challenger_returns=mine,
            champion_returns=theirs,
            performance=performance,
            rollback_target=target.version_id if target else None,
            candidates=candidates,
        )

    def _rolls_back(self, equity: pd.Series) -> bool:
        since = self.state.champion_since
        return since is not None and should_roll_back(equity, since, self.settings)[0]

    def _returns(
        self, model: WeeklyModel, since: pd.Timestamp, day: pd.Timestamp
    ) -> tuple[float, ...]:
        trades = _closed_by(_opened(self.trades_of(model), since, day), day)
        return tuple(trades["profit_ratio"])

    def _performance(self, trades: pd.DataFrame, day: pd.Timestamp) -> Performance:
        since = day - pd.Timedelta(days=self.settings.evaluation_days)
        window = _closed_by(_opened(trades, since, day), day)
        return window_performance(
            window,
            self.closes,
            day,
            self.settings.evaluation_days,
            self.balance,
        )

    def act(self, day: pd.Timestamp, decisions: Decisions) -> None:
        """Record the decisions in the registry and the events; a retrain takes the weekly
        model that starts today as the challenger."""
        at = day.to_pydatetime()
        before = self.champion()
        since = pd.Timestamp(self.state.champion_since) if self.state.champion_since else day
        if decisions.rollback is not None and before is not None:
            drawdown = decisions.rollback.drawdown
            restored = self.registry.rollback(
                {"drawdown_since_promotion": drawdown},
                f"drawdown {drawdown:.1%} since the promotion of model {before.index}",
                at=at,
            )
            self.segments.append((before, since, day))
            before, since = self.model_of[restored.version_id], day
            self.note("rollback", day, model=before.index, drawdown=drawdown)
        ab_test = decisions.ab_test
        if ab_test is not None and ab_test.verdict != "testing":
            figures = ab_test.result.figures()
            challenger = self.model_of[ab_test.challenger]
            if ab_test.verdict == "promote":
                self.registry.promote(ab_test.challenger, figures, ab_test.reason, at=at)
                if before is not None:
                    self.segments.append((before, since, day))
                before, since = challenger, day
            else:
                self.registry.reject(ab_test.challenger, figures, ab_test.reason, at=at)
            self.note(ab_test.verdict, day, model=challenger.index, **figures)
        retirement = decisions.retirement
        if retirement is not None and before is not None:
            figures = {"streak": retirement.streak, "failures": list(retirement.failures)}
            self.registry.retire(retirement.target, figures, retirement.reason, at=at)
            self.segments.append((before, since, day))
            successor = self.model_of[retirement.target] if retirement.target else None
            self.note(
                "retire", day, model=successor.index if successor else None,
                retired=before.index, streak=retirement.streak, reason=retirement.reason,
            )  # fmt: skip
        self.state = decisions.state
        model = self.by_start.get(day)
        retrain = decisions.retrain
        if retrain is not None and retrain.reasons and model is not None:
            champion = self.champion()
            if champion is None or model.index != champion.index:
                self.state = with_new_model(self.state, self.register(model, day), day)
                self.note("challenger", day, model=model.index)

    def finish(self, end: pd.Timestamp) -> tuple[pd.DataFrame, pd.Series]:
        """The gated trades and equity over the whole replay."""
        segments = self.running(end)
        gated = _gated_trades(segments, self.trades_of, self.models[0])
        whole = Split(0, self.start, self.start, end)
        return gated, daily_equity(gated, self.closes, whole, self.balance)


def _gated_trades(
    segments: Sequence[tuple[WeeklyModel, pd.Timestamp, pd.Timestamp]],
    trades_of: Callable[[WeeklyModel], pd.DataFrame],
    first: WeeklyModel,
) -> pd.DataFrame:
    parts = [_opened(trades_of(model), since, until) for model, since, until in segments]
    parts = [part for part in parts if len(part)]
    if not parts:
        return trades_of(first).iloc[0:0]
    return pd.concat(parts, ignore_index=True)

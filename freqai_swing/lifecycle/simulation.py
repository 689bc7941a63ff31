"""Replay of the lifecycle over history: the gated champion/challenger against "always newest".

The simulation is driven by trades that real ``freqtrade backtesting`` runs produced (see
``tooling/selftrain.py``): for every weekly model ``k`` one backtest in which that model alone
trades from its training end to the end of the period. From those the replay picks, day by day,
the trades that the production model of the day opened, exactly as the real lifecycle would have
let it trade; the challenger's paper trades are its own backtest's trades from its start on.
Decisions go through the same :func:`promotion_test`, :func:`should_roll_back` and the same
:class:`ModelRegistry` as the live lifecycle, dated with the simulated clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from freqai_swing.lifecycle.config import SelfTrainSettings
from freqai_swing.lifecycle.promotion import PromotionResult, promotion_test, should_roll_back
from freqai_swing.lifecycle.registry import ModelRegistry, ModelVersion
from freqai_swing.walk_forward import Split, equity_figures, trade_figures

logger = logging.getLogger(__name__)

#: Marks a day's equity from trades and hourly closes: ``(trades, closes, split, balance)``.
EquityFunction = Callable[[pd.DataFrame, pd.DataFrame, Split, float], pd.Series]


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


def _version(model: WeeklyModel, run: ModelRun) -> ModelVersion:
    stamp = int(model.trained_at.timestamp())
    return ModelVersion(
        version_id=f"{run.identifier}@{stamp}",
        identifier=run.identifier,
        trained_at=model.trained_at.to_pydatetime(),
        train_start=(model.trained_at - pd.Timedelta(days=1)).to_pydatetime(),
        train_end=model.trained_at.to_pydatetime(),
        metrics=run.metrics,
    )


def simulate_lifecycle(  # noqa: C901 - one loop over the seven steps, in order
    models: Sequence[WeeklyModel],
    model_run: Callable[[WeeklyModel], ModelRun],
    newest_trades: pd.DataFrame,
    closes: pd.DataFrame,
    end: pd.Timestamp,
    settings: SelfTrainSettings,
    registry: ModelRegistry,
    starting_balance: float,
    daily_equity: EquityFunction,
    injected_drawdown: tuple[pd.Timestamp, float] | None = None,
    decide: Callable[..., PromotionResult] = promotion_test,
) -> SimulationResult:
    """Replay the lifecycle day by day from the first model's training end to ``end``.

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
    days = pd.date_range(start, end, freq="D", tz="UTC")
    by_start = {m.trained_at: m for m in models}
    cache: dict[int, ModelRun] = {}

    def run_of(model: WeeklyModel) -> ModelRun:
        if model.index not in cache:
            cache[model.index] = model_run(model)
        return cache[model.index]

    def trades_of(model: WeeklyModel) -> pd.DataFrame:
        return run_of(model).trades

    def register(model: WeeklyModel, day: pd.Timestamp) -> str:
        run = run_of(model)
        version = registry.register(_version(model, run), run.folder, at=day.to_pydatetime())
        registry.prune()
        return version.version_id

    events: list[dict[str, Any]] = []

    def note(kind: str, day: pd.Timestamp, **figures: Any) -> None:
        events.append({"kind": kind, "day": day, **figures})

    champion = models[0]
    first = register(champion, start)
    registry.promote(first, {}, "initial champion", at=start.to_pydatetime(), kind="initial")
    note("initial", start, model=champion.index)
    champion_since = start
    promoted_by_test = False
    challenger: WeeklyModel | None = None
    challenger_since: pd.Timestamp | None = None
    segments: list[tuple[WeeklyModel, pd.Timestamp, pd.Timestamp]] = []
    version_of: dict[int, str] = {champion.index: first}
    shock = 1.0

    for day in days[1:]:
        logger.debug("Replaying %s, champion %d.", day.date(), champion.index)
        # 1. today's production trades: the champion's since it took over
        running = [*segments, (champion, champion_since, day)]
        gated = _gated_trades(running, trades_of)
        equity = daily_equity(gated, closes, Split(0, start, start, day), starting_balance)
        if injected_drawdown is not None and day >= injected_drawdown[0]:
            shock = 1 - injected_drawdown[1]
            equity = equity.where(equity.index < injected_drawdown[0], equity * shock)
        # 7. rollback
        if promoted_by_test:
            roll, drawdown = should_roll_back(equity, champion_since, settings)
            if roll:
                restored = registry.rollback(
                    {"drawdown_since_promotion": drawdown},
                    f"drawdown {drawdown:.1%} since the promotion of model {champion.index}",
                    at=day.to_pydatetime(),
                )
                segments.append((champion, champion_since, day))
                previous = next(m for m in models if version_of.get(m.index) == restored.version_id)
                note("rollback", day, model=previous.index, drawdown=drawdown)
                champion, champion_since, promoted_by_test = previous, day, False
        # 5./6. the A/B test of the challenger under test
        if challenger is not None and challenger_since is not None:
            mine = _closed_by(_opened(trades_of(challenger), challenger_since, day), day)
            theirs = _closed_by(_opened(trades_of(champion), challenger_since, day), day)
            result = decide(mine["profit_ratio"], theirs["profit_ratio"], settings)
            expired = day - challenger_since >= timedelta(days=settings.max_challenger_days)
            if result.promote:
                registry.promote(
                    version_of[challenger.index],
                    result.figures(),
                    result.reason,
                    at=day.to_pydatetime(),
                )
                segments.append((champion, champion_since, day))
                note("promote", day, model=challenger.index, **result.figures())
                champion, champion_since, promoted_by_test = challenger, day, True
                challenger = None
            elif len(mine) >= settings.min_challenger_trades or expired:
                registry.reject(
                    version_of[challenger.index],
                    result.figures(),
                    reject_reason(result, expired, settings),
                    at=day.to_pydatetime(),
                )
                note("keep", day, model=challenger.index, **result.figures())
                challenger = None
        # 3./4. the weekly trigger: a new challenger when none is under test
        model = by_start.get(day)
        if model is not None and challenger is None and model.index != champion.index:
            version_of[model.index] = register(model, day)
            challenger, challenger_since = model, day
            note("challenger", day, model=model.index)
    segments.append((champion, champion_since, end))
    gated = _gated_trades(segments, trades_of)
    whole = Split(0, start, start, end)
    gated_equity = daily_equity(gated, closes, whole, starting_balance)
    if injected_drawdown is not None:
        moment = injected_drawdown[0]
        gated_equity = gated_equity.where(gated_equity.index < moment, gated_equity * shock)
    newest = _opened(newest_trades, start, end)
    return SimulationResult(
        gated_equity,
        daily_equity(newest, closes, whole, starting_balance),
        gated,
        newest,
        events,
    )


def reject_reason(result: PromotionResult, expired: bool, settings: SelfTrainSettings) -> str:
    """The test's reason, saying so when the challenger ran out of time."""
    if expired and result.challenger_trades < settings.min_challenger_trades:
        return f"{result.reason} after {settings.max_challenger_days} days"
    return result.reason


def _gated_trades(
    segments: Sequence[tuple[WeeklyModel, pd.Timestamp, pd.Timestamp]],
    trades_of: Callable[[WeeklyModel], pd.DataFrame],
) -> pd.DataFrame:
    parts = [_opened(trades_of(model), since, until) for model, since, until in segments]
    parts = [part for part in parts if len(part)]
    if not parts:
        return trades_of(segments[0][0]).iloc[0:0]
    return pd.concat(parts, ignore_index=True)

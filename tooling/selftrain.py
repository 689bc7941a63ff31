"""``freqai-swing selftrain``: one pass of the seed's seven self-training steps.

The production (champion) bot and the challenger bot are ordinary ``freqtrade trade`` processes
in dry-run (the production bot may be live), each with its own user directory, database and
REST API. This command never trades itself: it trains with ``freqtrade backtesting`` (FreqAI's
own training loop, walk-forward validated), records versions in the :class:`ModelRegistry`,
starts and stops the challenger bot, and changes the production bot only by installing a
registry checkpoint into its ``models/<identifier>`` and asking it to reload its config
(``POST /api/v1/reload_config``), after which its FreqAI loads the new model from disk.

Both bots run with ``live_retrain_hours`` set beyond reach and ``expiration_hours`` 0, so that
they trade exactly the model the registry gave them: retraining is this command's decision.
A pass is idempotent and crash safe: every decision is one registry transaction, and the
small state file (challenger start, equity history, failing streak) is replaced atomically.

A pass observes (the bots' trades and equity, the market, the registry), takes its decisions
through the lifecycle's one pure step (:func:`freqai_swing.lifecycle.step.step`, the same the
``--simulate`` replay takes) and acts on them (:func:`act`): registry writes, then the bots.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

import pandas as pd

from freqai_swing.lifecycle.config import SelfTrainSettings
from freqai_swing.lifecycle.evaluation import metrics_performance
from freqai_swing.lifecycle.registry import ModelRegistry, ModelVersion
from freqai_swing.lifecycle.step import (
    ABDecision,
    Candidate,
    Decisions,
    LifecycleState,
    Observations,
    Retirement,
    Retrain,
    Rollback,
    retirement_due,
    step,
)
from tooling.selftrain_bots import (
    announce,
    bot_configs,
    bot_equity,
    bot_identifier,
    bot_is_up,
    bot_overlay,
    client,
    closed_trades,
    start_bot,
    stop_bot,
    switch_production,
)
from tooling.selftrain_context import (
    SELFTRAIN_CONFIG,
    BotSettings,
    SelfTrainContext,
    context_from_arguments,
    load_state,
    save_state,
    with_settings,
)
from tooling.selftrain_training import collect_data, evaluate_production, train_challenger

__all__ = [
    "SELFTRAIN_CONFIG",
    "BotSettings",
    "Effects",
    "LiveEffects",
    "SelfTrainContext",
    "act",
    "bot_configs",
    "bot_equity",
    "bot_identifier",
    "bot_is_up",
    "bot_overlay",
    "client",
    "closed_trades",
    "context_from_arguments",
    "pass_state",
    "run_loop",
    "run_pass",
    "start_bot",
    "stop_bot",
    "with_settings",
]

logger = logging.getLogger(__name__)


class Effects(Protocol):
    """What :func:`act` does besides registry writes (the bots, or a test's recorder)."""

    @property
    def settings(self) -> SelfTrainSettings: ...

    def switch(self, version: ModelVersion) -> None: ...

    def hold_cash(self) -> None: ...

    def start_challenger(self, version: ModelVersion) -> None: ...

    def stop_challenger(self) -> None: ...

    def announce(self, message: str) -> None: ...

    def train(self, registry: ModelRegistry) -> ModelVersion: ...

    def save(self, saved: dict[str, Any]) -> None: ...


@dataclass
class LiveEffects:
    """What the live pass does besides registry writes: bots, installs, announcements,
    training. Tests replace it to drive :func:`act` without bots."""

    context: SelfTrainContext

    def switch(self, version: ModelVersion) -> None:
        switch_production(self.context, version)

    def hold_cash(self) -> None:
        """No production model: the production bot opens no new position (``stopbuy``; a
        promotion's config reload lifts it), its open ones exit as its strategy says."""
        if bot_is_up(self.context.production):
            client(self.context.production).stopbuy()

    def start_challenger(self, version: ModelVersion) -> None:
        stop_bot(self.context.challenger)
        start_bot(self.context, self.context.challenger, version)

    def stop_challenger(self) -> None:
        stop_bot(self.context.challenger)

    def announce(self, message: str) -> None:
        announce(self.context, message)

    def train(self, registry: ModelRegistry) -> ModelVersion:
        return train_challenger(self.context, registry)

    def save(self, saved: dict[str, Any]) -> None:
        save_state(self.context, saved)

    @property
    def settings(self) -> SelfTrainSettings:
        return self.context.settings


def run_pass(
    context: SelfTrainContext, force_retrain: bool = False, allow_training: bool = True
) -> list[str]:
    """One pass of the seven steps; returns the decisions taken (also logged and recorded).

    ``allow_training`` False runs only the rollback, A/B, promotion and retirement steps.
    """
    context.state_dir.mkdir(parents=True, exist_ok=True)
    now = context.clock()
    effects = LiveEffects(context)
    with ModelRegistry(
        context.state_dir / "registry", context.settings.keep_checkpoints
    ) as registry:
        saved = load_state(context)
        collect_data(context)
        resumed = _finish_interrupted(context, registry, saved, effects, now)
        state = pass_state(registry, saved, resumed)
        observations = observe(context, registry, saved, state, now)
        observations = replace(
            observations, force_retrain=force_retrain, allow_training=allow_training
        )
        decisions = step(state, observations, context.settings)
        kinds = act(effects, registry, saved, observations, decisions)
        if context.warehouse is not None:
            registry.sync_warehouse(context.warehouse)
    return kinds


def _finish_interrupted(
    context: SelfTrainContext,
    registry: ModelRegistry,
    saved: dict[str, Any],
    effects: Effects,
    now: datetime,
) -> bool:
    """Finish what a killed pass left half done, record the production equity, and keep a
    production bot in cash out of the market; ``True`` when the challenger bot was resumed."""
    production = registry.production()
    # killed between a promotion's commit and the bot switch: finish the switch
    if production is not None and saved.get("installed") != production.version_id:
        effects.switch(production)
        saved["installed"] = production.version_id
        save_state(context, saved)
    if production is None and _in_cash(registry):
        effects.hold_cash()
    equity = bot_equity(context.production)
    if equity is not None:
        saved.setdefault("equity", []).append([now.isoformat(), equity])
        save_state(context, saved)
    challengers = registry.challengers()
    if challengers and not saved.get("challenger_since"):
        # killed between registering a challenger and starting its bot: start it; its A/B
        # test begins at the next pass
        start_bot(context, context.challenger, challengers[-1])
        saved["challenger_since"] = now.isoformat()
        save_state(context, saved)
        return True
    return False


def _in_cash(registry: ModelRegistry) -> bool:
    return registry.production() is None and any(
        v.promoted_at is not None for v in registry.versions()
    )


def pass_state(
    registry: ModelRegistry, saved: dict[str, Any], resumed: bool = False
) -> LifecycleState:
    """The lifecycle's state from the registry and the pass's state file (``resumed``: the
    challenger's bot only just started, no A/B test at this pass)."""
    production = registry.production()
    challengers = registry.challengers()
    since = saved.get("challenger_since")
    champion = production.version_id if production else None
    streak = saved.get("failing_streak", 0) if saved.get("streak_of") == champion else 0
    registered = [v.registered_at for v in registry.versions() if v.registered_at]
    return LifecycleState(
        champion=champion,
        champion_since=production.promoted_at if production else None,
        promoted_by_test=registry.promoted_by_test(),
        challenger=challengers[-1].version_id if challengers else None,
        challenger_since=(datetime.fromisoformat(since) if since and not resumed else None),
        last_training=max(registered, default=None),
        failing_streak=int(streak),
        cash=_in_cash(registry),
    )


def saved_equity(history: list[tuple[str, float]]) -> pd.Series:
    """The production wallet's equity the state file kept, one ``(ISO time, value)`` per pass
    (a time with microseconds or without: each pass writes its own clock's)."""
    return pd.Series(
        [value for _, value in history],
        index=pd.to_datetime([moment for moment, _ in history], utc=True, format="ISO8601"),
        dtype=float,
    )


def observe(
    context: SelfTrainContext,
    registry: ModelRegistry,
    saved: dict[str, Any],
    state: LifecycleState,
    now: datetime,
) -> Observations:
    """Steps 2 and 5's observations: both bots' A/B trades, the production bot's figures
    and equity, the market's regime, the rollback target and retirement candidates."""
    settings = context.settings
    mine: tuple[float, ...] = ()
    theirs: tuple[float, ...] = ()
    if state.challenger is not None and state.challenger_since is not None:
        since = state.challenger_since
        if bot_is_up(context.challenger):
            mine = tuple(closed_trades(context.challenger, since)["profit_ratio"])
        if bot_is_up(context.production):
            theirs = tuple(closed_trades(context.production, since)["profit_ratio"])
    performance, regime = evaluate_production(context, now)
    equity = saved_equity(saved.get("equity", []))
    target = registry.previous_champion() if state.promoted_by_test else None
    candidates: tuple[Candidate, ...] = ()
    if retirement_due(state, settings):
        candidates = tuple(
            Candidate(v.version_id, metrics_performance(v.metrics)) for v in registry.fallbacks()
        )
    return Observations(
        now=now,
        equity=equity,
        challenger_returns=mine,
        champion_returns=theirs,
        performance=performance,
        regime=regime,
        rollback_target=target.version_id if target else None,
        candidates=candidates,
    )


# -- acting on the decisions ------------------------------------------------------------


def act(
    effects: Effects,
    registry: ModelRegistry,
    saved: dict[str, Any],
    observations: Observations,
    decisions: Decisions,
) -> list[str]:
    """Carry out one step's decisions: registry writes, then the bots, the state file and
    the announcements; returns the decisions by name."""
    now = observations.now
    kinds: list[str] = []
    if decisions.rollback is not None:
        kinds.append(_roll_back(effects, registry, saved, decisions.rollback, now))
    if decisions.ab_test is not None:
        kinds.append(_settle_ab_test(effects, registry, saved, decisions.ab_test, now))
    if decisions.retirement is not None:
        kinds.append(_retire(effects, registry, saved, decisions.retirement, now))
    saved.update(failing_streak=decisions.state.failing_streak, streak_of=decisions.state.champion)
    effects.save(saved)
    if decisions.retrain is not None:
        kinds += _retrain(effects, registry, saved, decisions.retrain, observations)
    return kinds


def _roll_back(
    effects: Effects,
    registry: ModelRegistry,
    saved: dict[str, Any],
    rollback: Rollback,
    now: datetime,
) -> str:
    message = (
        f"freqai-swing selftrain: rollback of {rollback.champion}: "
        f"drawdown {rollback.drawdown:.1%} since its promotion "
        f"> {effects.settings.rollback_drawdown:.0%}"
    )
    restored = registry.rollback({"drawdown_since_promotion": rollback.drawdown}, message, at=now)
    effects.switch(restored)
    saved["installed"] = restored.version_id
    effects.save(saved)
    effects.announce(message)
    return "rollback"


def _settle_ab_test(
    effects: Effects,
    registry: ModelRegistry,
    saved: dict[str, Any],
    ab_test: ABDecision,
    now: datetime,
) -> str:
    challenger, figures = ab_test.challenger, ab_test.result.figures()
    if ab_test.verdict == "testing":
        message = f"challenger under test: {ab_test.reason}"
        registry.log("a/b", message, figures, challenger, at=now)
        return "testing"
    if ab_test.verdict == "promote":
        message = f"freqai-swing selftrain: promoted {challenger}: {ab_test.reason}"
        promoted = registry.promote(challenger, figures, message, at=now)
        effects.stop_challenger()
        effects.switch(promoted)
        saved.update(installed=promoted.version_id, challenger_since=None)
    else:
        message = (
            f"freqai-swing selftrain: kept the champion, challenger {challenger} "
            f"checkpointed: {ab_test.reason}"
        )
        registry.reject(challenger, figures, message, at=now)
        effects.stop_challenger()
        saved["challenger_since"] = None
    effects.save(saved)
    effects.announce(message)
    return ab_test.verdict


def _retire(
    effects: Effects,
    registry: ModelRegistry,
    saved: dict[str, Any],
    retirement: Retirement,
    now: datetime,
) -> str:
    message = f"freqai-swing selftrain: retired {retirement.champion}: {retirement.reason}"
    figures = {"streak": retirement.streak, "failures": list(retirement.failures)}
    successor = registry.retire(retirement.target, figures, message, at=now)
    if successor is not None:
        effects.switch(successor)
        saved["installed"] = successor.version_id
    else:
        effects.hold_cash()
        saved["installed"] = None
    effects.save(saved)
    effects.announce(message)
    return "retire"


def _retrain(
    effects: Effects,
    registry: ModelRegistry,
    saved: dict[str, Any],
    retrain: Retrain,
    observations: Observations,
) -> list[str]:
    """Steps 3 and 4: log the trigger, train, and put the new model to work."""
    now, reasons = observations.now, list(retrain.reasons)
    performance = observations.performance
    figures = {"performance": performance.figures() if performance else None, "reasons": reasons}
    if not reasons:
        registry.log("no-retrain", "no trigger", figures, at=now)
        return ["no-retrain"]
    registry.log("trigger", "retrain: " + "; ".join(reasons), figures, at=now)
    version = effects.train(registry)
    registry.prune()
    if version.status != "testing":
        # the same window as a recorded model: FreqAI trains the same model again
        registry.log(
            "no-new-model",
            f"{version.version_id} is already recorded ({version.status}); no new data since",
            at=now,
        )
        return ["no-new-model"]
    if retrain.first_model:
        message = f"freqai-swing selftrain: first model {version.version_id} in production"
        promoted = registry.promote(
            version.version_id, version.metrics, message, at=now, kind="initial"
        )
        effects.switch(promoted)
        saved["installed"] = promoted.version_id
        effects.save(saved)
        effects.announce(message)
        return ["trained", "initial"]
    # 5. the challenger bot on paper, beside the champion
    effects.start_challenger(version)
    saved["challenger_since"] = now.isoformat()
    effects.save(saved)
    effects.announce(
        f"freqai-swing selftrain: challenger {version.version_id} on paper ({'; '.join(reasons)})"
    )
    return ["trained"]


# -- the loop ----------------------------------------------------------------------------


def run_loop(context: SelfTrainContext, interval_seconds: float, passes: int | None = None) -> None:
    """``--loop``: a pass every ``interval_seconds`` (a failed pass is logged, not fatal)."""
    done = 0
    while passes is None or done < passes:
        try:
            run_pass(context)
        except Exception:
            logger.exception("selftrain pass failed; retrying at the next interval")
        done += 1
        if passes is None or done < passes:
            time.sleep(interval_seconds)

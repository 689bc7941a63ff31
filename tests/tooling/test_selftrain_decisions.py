"""The live pass and the replay decide alike: one sequence of observations through both.

The live path is ``selftrain``'s own: the state from its registry and state file
(:func:`pass_state`), :func:`step`, and :func:`act` with the bots, installs and training
replaced by a recorder. The replay path is :class:`Replay`'s state and its ``act``. Both get
the same observations day by day (a first model, a challenger promoted, a rollback, a
challenger kept out, a failing champion retired to the best checkpoint, then to cash, and a
challenger against cash) and must take the same decisions and leave the same registry.
A last test runs the whole replay loop on synthetic trades with the rule on and off.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from freqai_swing.lifecycle.config import SelfTrainSettings
from freqai_swing.lifecycle.promotion import Performance
from freqai_swing.lifecycle.registry import ModelRegistry, ModelVersion
from freqai_swing.lifecycle.simulation import (
    ModelRun,
    Replay,
    WeeklyModel,
    model_version,
    simulate_lifecycle,
)
from freqai_swing.lifecycle.step import Candidate, Observations, step
from tooling.selftrain import act, pass_state, saved_equity

START = pd.Timestamp("2024-04-01", tz="UTC")
SETTINGS = SelfTrainSettings(min_challenger_trades=3, retire_after=2, min_evaluation_trades=5)
WIN = (0.02, 0.03, 0.025, 0.022)
LOSS = (-0.01, 0.0, -0.02, -0.012)
POOR = Performance(12, -1.5, 0.05, 0.3, -0.04, 0.0)
GOOD = Performance(12, 1.6, 0.03, 0.6, 0.04, 0.0)


def models_and_runs(root: Path) -> tuple[list[WeeklyModel], dict[int, ModelRun]]:
    models = [WeeklyModel(k, START + pd.Timedelta(days=7 * k)) for k in range(4)]
    runs = {}
    for model in models:
        folder = root / "models" / f"swing-{model.index}"
        folder.mkdir(parents=True)
        (folder / "model.bin").write_bytes(bytes([model.index]) * 16)
        runs[model.index] = ModelRun(pd.DataFrame(), f"swing-{model.index}", folder)
    return models, runs


@dataclass
class Recorder:
    """The live pass's effects without bots: training registers the weekly model of the day
    (an already recorded one on other days, as FreqAI retraining without new data)."""

    settings: SelfTrainSettings
    models: list[WeeklyModel]
    runs: dict[int, ModelRun]
    day: pd.Timestamp = START
    done: list[str] = field(default_factory=list)

    def switch(self, version: ModelVersion) -> None:
        self.done.append(f"switch {version.version_id}")

    def hold_cash(self) -> None:
        self.done.append("cash")

    def start_challenger(self, version: ModelVersion) -> None:
        self.done.append(f"challenger {version.version_id}")

    def stop_challenger(self) -> None:
        self.done.append("stop challenger")

    def announce(self, message: str) -> None:
        self.done.append(message)

    def train(self, registry: ModelRegistry) -> ModelVersion:
        model = max((m for m in self.models if m.trained_at <= self.day), key=lambda m: m.index)
        run = self.runs[model.index]
        return registry.register(model_version(model, run), run.folder, at=self.day)

    def save(self, saved: dict[str, Any]) -> None:
        pass


def version_id(runs: dict[int, ModelRun], models: list[WeeklyModel], index: int) -> str:
    return model_version(models[index], runs[index]).version_id


def scenario(models: list[WeeklyModel], runs: dict[int, ModelRun]) -> list[Observations]:
    """Day by day: what both paths observe (rollback target and candidates as each
    registry would name them)."""
    vid = lambda index: version_id(runs, models, index)  # noqa: E731
    day = lambda n: START + pd.Timedelta(days=n)  # noqa: E731
    crash = pd.Series([10_000.0, 10_000.0, 8_000.0], index=[day(7), day(8), day(9)])
    return [
        Observations(day(1)),
        Observations(day(7)),  # weekly model 1: a challenger
        Observations(day(8), challenger_returns=WIN, champion_returns=LOSS),  # promoted
        Observations(day(9), equity=crash, rollback_target=vid(0)),  # 20 % down: rollback
        Observations(day(14)),  # weekly model 2: a challenger
        Observations(day(15), challenger_returns=LOSS, champion_returns=WIN),  # kept out
        Observations(day(16), performance=POOR),  # the champion fails: 1
        Observations(day(17), performance=POOR, candidates=(Candidate(vid(2), GOOD),)),  # 2
        Observations(day(18), performance=POOR),
        Observations(day(19), performance=POOR, candidates=(Candidate(vid(0), POOR),)),
        Observations(day(21)),  # weekly model 3: a challenger against cash
        Observations(day(22), challenger_returns=WIN),  # promoted over cash
    ]


def statuses(registry: ModelRegistry) -> dict[str, str]:
    return {v.version_id: v.status for v in registry.versions()}


def logged(registry: ModelRegistry) -> list[tuple[str, str | None]]:
    kinds = {"initial", "promote", "keep", "rollback", "retire"}
    return [(d.kind, d.version_id) for d in registry.decisions() if d.kind in kinds]


def test_the_live_pass_and_the_replay_take_the_same_decisions(tmp_path: Path) -> None:
    models, runs = models_and_runs(tmp_path)
    observations = scenario(models, runs)
    live_registry = ModelRegistry(tmp_path / "live", SETTINGS.keep_checkpoints)
    recorder = Recorder(SETTINGS, models, runs)
    saved: dict[str, Any] = {}
    first = Observations(START)
    kinds = act(recorder, live_registry, saved, first, step(pass_state(live_registry, saved),
                first, SETTINGS))  # fmt: skip
    assert kinds == ["trained", "initial"]
    replay_registry = ModelRegistry(tmp_path / "replay", SETTINGS.keep_checkpoints)
    replay = Replay(models, lambda model: runs[model.index], flat_closes(), SETTINGS,
                    replay_registry, 10_000.0)  # fmt: skip
    replay.begin(START)
    live_kinds, replay_kinds = [], []
    for seen in observations:
        recorder.day = pd.Timestamp(seen.now)
        live = step(pass_state(live_registry, saved), seen, SETTINGS)
        act(recorder, live_registry, saved, seen, live)
        replayed = step(replay.state, seen, SETTINGS)
        replay.act(pd.Timestamp(seen.now), replayed)
        live_kinds.append(live.kinds())
        replay_kinds.append(replayed.kinds())
        assert live.state.champion == replay.state.champion, seen.now
    assert live_kinds == replay_kinds
    assert [k for kinds in live_kinds for k in kinds if k not in {"no-retrain", "retrain"}] == [
        "promote", "rollback", "keep", "retire", "retire", "promote",
    ]  # fmt: skip
    assert statuses(live_registry) == statuses(replay_registry)
    assert logged(live_registry) == logged(replay_registry)
    assert [kind for kind, _ in logged(live_registry)].count("retire") == 2
    production = live_registry.production()
    assert production is not None and production.version_id == version_id(runs, models, 3)
    assert "cash" in recorder.done
    kinds_in_replay = [event["kind"] for event in replay.events]
    assert kinds_in_replay.count("retire") == 2 and kinds_in_replay[-1] == "promote"
    live_registry.close()
    replay_registry.close()


def synthetic_trades(index: int, profit: float) -> pd.DataFrame:
    """A trade a day from the model's start, each closing a day later at ``profit``."""
    opened = pd.date_range(START + pd.Timedelta(days=7 * index), periods=60, freq="D")
    return pd.DataFrame(
        {
            "pair": "BTC/USDT",
            "open_date": opened,
            "close_date": opened + timedelta(hours=20),
            "profit_ratio": profit,
            "profit_abs": profit * 1_000,
            # a 1 000 stake at 100 with no fees: worth its cost until it closes (flat_closes)
            "amount": 10.0,
            "open_rate": 100.0,
            "fee_open": 0.0,
            "fee_close": 0.0,
        }
    )


def flat_closes() -> pd.DataFrame:
    """BTC at 100 every hour: a trade's equity moves only when it closes."""
    return pd.DataFrame(
        {"BTC/USDT": 100.0}, index=pd.date_range(START, periods=60 * 24, freq="h", tz="UTC")
    )


def test_the_replay_loop_retires_a_losing_champion_only_when_the_rule_is_on(
    tmp_path: Path,
) -> None:
    models, runs = models_and_runs(tmp_path)
    # the first model loses on every trade; the others win a little
    runs = {k: replace(run, trades=synthetic_trades(k, -0.01 if k == 0 else 0.004))
            for k, run in runs.items()}  # fmt: skip
    closes = flat_closes()

    def replay(settings: SelfTrainSettings, name: str) -> list[str]:
        with ModelRegistry(tmp_path / name, settings.keep_checkpoints) as registry:
            result = simulate_lifecycle(
                models, lambda m: runs[m.index], runs[1].trades, closes,
                START + pd.Timedelta(days=35), settings, registry, 10_000.0,
            )  # fmt: skip
        return [event["kind"] for event in result.events]

    quick = replace(SETTINGS, retire_after=5, min_challenger_trades=40, evaluation_days=7)
    on = replay(quick, "on")
    assert "retire" in on
    off = replay(replace(quick, retire_after=0), "off")
    assert "retire" not in off and off.count("challenger") >= 1


def test_the_saved_equity_reads_times_with_and_without_microseconds() -> None:
    # each pass writes its own clock's time; the replayed clock is often on a whole hour
    history = [
        ("2024-02-20T04:00:00.123456+00:00", 10_000.0),
        ("2024-02-21T04:00:00+00:00", 9_900.0),
    ]
    equity = saved_equity(history)
    assert list(equity) == [10_000.0, 9_900.0]
    assert equity.index[1] == pd.Timestamp("2024-02-21T04:00:00", tz="UTC")

"""``freqai-swing selftrain --simulate``: the lifecycle replayed with real freqtrade backtests.

Two kinds of real ``freqtrade backtesting`` runs (FreqAI training included), all through
``tooling.evaluate.backtest_split``:

* **newest**: one walk-forward backtest retraining every ``retrain_every_days`` (7) on the
  ``train_days`` (180) before each week: FreqAI's default, always trading its newest model;
* **model k**: for each weekly model the lifecycle picks up as a challenger, one backtest whose
  single FreqAI window starts at that model's training end and runs to the end of the period,
  so the same model keeps trading for as long as the lifecycle keeps it (champion) or tests it
  (challenger). Its training window is the newest run's window ``k``, so it is the same model.

The gated lifecycle then replays day by day (:func:`simulate_lifecycle`) through the real
registry, promotion test and rollback rule.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from freqai_swing.equity import load_closes, load_trades
from freqai_swing.lifecycle.config import SelfTrainSettings
from freqai_swing.lifecycle.registry import ModelRegistry
from freqai_swing.lifecycle.simulation import (
    ModelRun,
    SimulationResult,
    WeeklyModel,
    simulate_lifecycle,
)
from freqai_swing.walk_forward import Split, WalkForwardSettings
from tooling.evaluate import (
    CONFIG_DIR,
    EvaluationRequest,
    Runner,
    backtest_split,
)
from tooling.local_exchange import LocalExchange, write_offline_overlay

logger = logging.getLogger(__name__)


def _trades(userdir: Path) -> pd.DataFrame:
    """A backtest's trades; an empty frame with Freqtrade's columns when there were none."""
    from freqtrade.data.btanalysis import BT_DATA_COLUMNS

    trades = load_trades(userdir)
    return trades if len(trades.columns) else pd.DataFrame(columns=BT_DATA_COLUMNS)


def _backtest(runner: Runner, split: Split, request: EvaluationRequest, offline: Path) -> Path:
    """``backtest_split``, reusing a finished run of the same split from an interrupted
    replay (its result file is written last), and trying a failed run once more."""
    userdir = request.output / "runs" / runner.name / f"split-{split.index}"
    if (userdir / "backtest_results" / ".last_result.json").is_file():
        logger.info("Reusing the finished backtest in %s.", userdir)
        return userdir
    try:
        return backtest_split(runner, split, request, offline)
    except RuntimeError as error:
        logger.warning("%s; trying once more.", str(error).splitlines()[0])
        shutil.rmtree(userdir, ignore_errors=True)
        return backtest_split(runner, split, request, offline)


def _identifier_folder(userdir: Path) -> Path | None:
    folders = [p for p in (userdir / "models").iterdir() if p.is_dir()]
    return folders[0] if len(folders) == 1 else None


def run_simulation(
    pairs: list[str],
    start: pd.Timestamp,
    end: pd.Timestamp,
    datadir: Path,
    output: Path,
    settings: SelfTrainSettings,
    freqaimodel: str = "SwingXGBoostClassifier",
    injected_drawdown: tuple[pd.Timestamp, float] | None = None,
) -> tuple[SimulationResult, dict[str, Any]]:
    """Backtest, replay and write ``simulation.json`` / ``simulation.md`` under ``output``."""
    from freqai_swing.settings import load_swing_settings

    output.mkdir(parents=True, exist_ok=True)
    overlay = output / "selftrain-simulate.json"
    overlay.write_text(json.dumps({"freqai": {"save_backtest_models": True}}))
    runner = Runner(
        "selftrain",
        "SwingClassifierStrategy",
        freqaimodel,
        ("base.json", "freqai.json", str(overlay.resolve())),
    )
    labels = load_swing_settings(json.loads((CONFIG_DIR / "freqai.json").read_text())).labels
    weekly = WalkForwardSettings(1, settings.train_days, settings.retrain_every_days, 1)
    request = EvaluationRequest(("selftrain",), tuple(pairs), weekly, end, datadir, output, labels)
    weeks = math.ceil((end - start) / pd.Timedelta(days=settings.retrain_every_days))
    models = [
        WeeklyModel(k, start + pd.Timedelta(days=k * settings.retrain_every_days))
        for k in range(weeks)
    ]
    closes = load_closes(datadir, pairs)
    balance = float(json.loads((CONFIG_DIR / "base.json").read_text())["dry_run_wallet"])
    with LocalExchange(datadir, port=0) as exchange:
        offline = write_offline_overlay(output / "offline-overlay.json", exchange.api_url)
        newest_split = Split(0, start - pd.Timedelta(days=settings.train_days), start, end)
        logger.info("Backtesting FreqAI's newest-model baseline %s.", newest_split.timerange)
        newest_dir = _backtest(replace(runner, name="newest"), newest_split, request, offline)
        newest = _trades(newest_dir)

        def model_run(model: WeeklyModel) -> ModelRun:
            days = math.ceil((end - model.trained_at) / pd.Timedelta(days=1))
            split = Split(
                model.index,
                model.trained_at - pd.Timedelta(days=settings.train_days),
                model.trained_at,
                end,
            )
            single = replace(request, walk_forward=replace(weekly, test_days=max(days, 1)))
            logger.info("Backtesting weekly model %d (%s).", model.index, split.timerange)
            userdir = _backtest(replace(runner, name="models"), split, single, offline)
            folder = _identifier_folder(userdir)
            return ModelRun(
                _trades(userdir),
                folder.name if folder else f"model-{model.index}",
                folder,
                {"train_start": str(split.train_start), "train_end": str(split.test_start)},
            )

        # the replay's registry is its own product: a repeated replay starts it afresh
        shutil.rmtree(output / "registry", ignore_errors=True)
        registry = ModelRegistry(output / "registry", settings.keep_checkpoints)
        try:
            result = simulate_lifecycle(
                models,
                model_run,
                newest,
                closes,
                end,
                settings,
                registry,
                balance,
                injected_drawdown,
            )
        finally:
            registry.close()
    summary = {
        "pairs": pairs,
        "start": str(start),
        "end": str(end),
        "freqaimodel": freqaimodel,
        "weekly_models": len(models),
        **result.summary(start, end),
        "events": result.events,
    }
    (output / "simulation.json").write_text(json.dumps(summary, indent=2, default=str))
    (output / "simulation.md").write_text(markdown(summary))
    return result, summary


def markdown(summary: dict[str, Any]) -> str:
    columns = (
        ("total_return", "return", "{:+.1%}"),
        ("sharpe", "Sharpe", "{:.2f}"),
        ("max_drawdown", "max DD", "{:.1%}"),
        ("calmar", "Calmar", "{:.2f}"),
        ("win_rate", "win rate", "{:.1%}"),
        ("trades", "trades", "{}"),
    )
    lines = [
        f"Self-training replay {summary['start'][:10]} → {summary['end'][:10]}, "
        f"{', '.join(summary['pairs'])}, {summary['freqaimodel']}, "
        f"{summary['weekly_models']} weekly models: {summary['promotions']} promotions, "
        f"{summary['rejections']} challengers kept out, {summary['rollbacks']} rollbacks"
        + (f", {summary['retirements']} retirements." if summary.get("retirements") else "."),
        "",
        "| lifecycle | " + " | ".join(title for _, title, _ in columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    for name, label in (("gated", "gated (champion/challenger)"), ("newest", "always newest")):
        cells = [fmt.format(summary[name][key]) for key, _, fmt in columns]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "| day | event | model | figures |", "|---|---|---|---|"]
    for event in summary["events"]:
        figures = {
            k: round(v, 4) if isinstance(v, float) else v
            for k, v in event.items()
            if k not in {"kind", "day", "model"}
        }
        model = "cash" if event["model"] is None else event["model"]
        lines.append(f"| {str(event['day'])[:10]} | {event['kind']} | {model} | {figures or ''} |")
    return "\n".join(lines) + "\n"

"""A small real ``freqtrade hyperopt`` of the bundle's strategy with the bundle's loss."""

from __future__ import annotations

from pathlib import Path

import pytest

from freqai_swing.hyperopt_loss import CalmarObjective
from tests.conftest import REPO_ROOT, run_freqtrade

pytestmark = pytest.mark.slow

EPOCHS = 6


def test_hyperopt_runs_with_the_bundle_loss_and_scores_each_epoch_by_it(
    tmp_path: Path, offline_overlay: Path, pairs_overlay
) -> None:
    from freqtrade.optimize.hyperopt.hyperopt_optimizer import MAX_LOSS
    from freqtrade.optimize.hyperopt_tools import HyperoptTools

    overlay = pairs_overlay(
        ["ETH/USDT", "SOL/USDT"],
        freqai={"model_training_parameters": {"xgboost": {"n_estimators": 80}}},
        swing={"model": {"min_validation_skill": None}},
    )
    (tmp_path / "hyperopt_results").mkdir(parents=True)
    run = run_freqtrade(
        [
            "hyperopt",
            "--strategy",
            "SwingClassifierStrategy",
            "--freqaimodel",
            "SwingXGBoostClassifier",
            "--hyperopt-loss",
            "SwingCalmarHyperOptLoss",
            "--spaces",
            "buy",
            "sell",
            "--epochs",
            str(EPOCHS),
            "--timerange",
            "20240101-20240201",
            "--random-state",
            "1",
            "-j",
            "1",
            "--disable-param-export",
        ],
        userdir=tmp_path,
        overlays=[overlay, offline_overlay],
    )
    assert run.returncode == 0, run.output[-3000:]
    assert "Best result" in run.output
    assert not list((REPO_ROOT / "strategies").glob("*.json")), "no parameters written to the repo"
    (results_file,) = (tmp_path / "hyperopt_results").glob("*.fthypt")
    # freqtrade stores the epochs in batches; flatten them
    epochs = [
        epoch
        for batch in HyperoptTools._read_results(results_file)
        for epoch in (batch if isinstance(batch, list) else [batch])
    ]
    assert len(epochs) == EPOCHS
    objective = CalmarObjective()
    for epoch in epochs:
        metrics = epoch["results_metrics"]
        if metrics["total_trades"] == 0:
            assert epoch["loss"] == MAX_LOSS  # freqtrade's own verdict, before any loss runs
            continue
        assert epoch["loss"] == pytest.approx(
            objective.loss(metrics["calmar"], metrics["total_trades"])
        )
        assert set(epoch["params_dict"]) >= {"buy_min_edge", "sell_down_probability"}
    assert len({round(e["loss"], 9) for e in epochs}) > 1, "the thresholds change the outcome"

"""A small real ``freqtrade hyperopt`` of the bundle's strategy with the bundle's loss."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from freqai_swing.hyperopt_loss import CalmarObjective
from tests.conftest import CONFIG_DIR, REPO_ROOT, run_freqtrade
from tooling.offline import bundle_environment, freqtrade_executable

pytestmark = pytest.mark.slow

EPOCHS = 6
#: Where freqtrade looks for user hyperopt losses: ``<userdir>/hyperopts/``.
BUNDLE_LOSSES = REPO_ROOT / "user_data" / "hyperopts"


@pytest.mark.parametrize(
    "configs",
    [[], ["-c", str(CONFIG_DIR / "base.json")]],
    ids=["no-config", "base-config"],
)
def test_plain_list_hyperoptloss_lists_the_bundle_loss_as_ok(configs: list[str]) -> None:
    # No --hyperopt-path: freqtrade's list command ignores it and searches only its built-in
    # losses and the userdir's hyperopts/ (user_data/, the default and config/base.json's).
    listing = subprocess.run(
        [freqtrade_executable(), "list-hyperoptloss", *configs],
        cwd=REPO_ROOT,
        env={**bundle_environment(), "COLUMNS": "200"},  # rich wraps the table at 80 otherwise
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert listing.returncode == 0, listing.stdout + listing.stderr
    (row,) = [line for line in listing.stdout.splitlines() if "SwingCalmarHyperOptLoss" in line]
    assert "OK" in row.split(), row
    assert "SwingCalmarHyperOptLoss.py" in row, row


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
    # The private userdir holds the bundle's loss where user_data/ does; no --hyperopt-path.
    loss_file = tmp_path / "hyperopts" / "SwingCalmarHyperOptLoss.py"
    loss_file.parent.mkdir()
    shutil.copyfile(BUNDLE_LOSSES / loss_file.name, loss_file)
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
    # found in the userdir; the console log wraps long lines, hence compared without whitespace
    found = f"Using resolved hyperoptloss SwingCalmarHyperOptLoss from '{loss_file.resolve()}'"
    assert "".join(found.split()) in "".join(run.output.split()), run.output[-3000:]
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

"""A truncated cached prediction or saved model: one warning naming it, and that window retrains."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import run_freqtrade
from tooling.offline import backtesting_arguments

pytestmark = pytest.mark.slow


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def test_a_truncated_prediction_and_model_retrain_their_window(
    tmp_path: Path, offline_overlay: Path, pairs_overlay
) -> None:
    overlays = [
        pairs_overlay(["ETH/USDT"], freqai={"save_backtest_models": True}),
        offline_overlay,
    ]
    arguments = backtesting_arguments("SwingXGBoostClassifier", "20240101-20240131", export=False)

    def backtest() -> str:
        run = run_freqtrade(arguments, userdir=tmp_path, overlays=overlays)
        assert "Fatal exception" not in run.output and "Traceback" not in run.output
        assert run.returncode == 0, run.output[-3000:]
        return run.output

    backtest()
    (prediction,) = tmp_path.glob("models/*/backtesting_predictions/*_prediction.feather")
    (model,) = tmp_path.glob("models/*/sub-train-*/*_model.joblib")
    truncate(prediction)
    truncate(model)

    output = backtest()
    # Freqtrade's console handler wraps long records at 200 columns: compare without spacing.
    records = re.split(r"\n(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", output)
    warnings = ["".join(record.split()) for record in records if " Corrupt " in record]
    assert len(warnings) == 2, warnings
    assert "".join(f"Corrupt cached prediction file {prediction} (".split()) in warnings[0]
    assert "".join(f"Corrupt saved model file {model} (".split()) in warnings[1]
    assert all("FreqAItrainsthatwindowagain" in record for record in warnings)
    assert all("makeclean-models" in record for record in warnings)
    assert len(re.findall(r"Done training", output)) == 1
    assert prediction.is_file() and model.is_file(), "written again by the retraining"

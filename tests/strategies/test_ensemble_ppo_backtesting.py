"""The ensemble with its PPO member switched on, through the real ``freqtrade backtesting``.

One pair, one 30-day walk-forward window and tiny agents: it checks the wiring that the unit
tests cannot (the closes FreqAI's training hands the agent, the weight column, the member file
next to FreqAI's model and FreqAI's own reload), not the agent's skill.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import CONFIG_DIR, FreqtradeRun, overlay_factory, run_freqtrade
from tooling.offline import backtesting_arguments

pytestmark = pytest.mark.slow

PAIRS = ["ETH/USDT"]
TIMERANGE = "20240101-20240131"
TINY_PPO = {
    "total_timesteps": 1024,
    "window": 2,
    "ppo": {"n_steps": 256, "batch_size": 64, "n_epochs": 2},
}
SMALL = {
    "freqai": {
        "save_backtest_models": True,
        "model_training_parameters": {
            "xgboost": {"n_estimators": 60},
            "lightgbm": {"n_estimators": 60},
        },
    },
    "swing": {
        "model": {"min_validation_skill": None},
        "ensemble": {
            "folds": 3,
            "members": [
                {"name": "xgboost"},
                {"name": "lightgbm"},
                {"name": "ppo", "enabled": True, "parameters": TINY_PPO},
            ],
        },
    },
}
WEIGHTS = ["ensemble_weight_xgboost", "ensemble_weight_lightgbm", "ensemble_weight_ppo"]


@pytest.fixture(scope="module")
def ppo_run(tmp_path_factory: pytest.TempPathFactory, offline_overlay: Path) -> FreqtradeRun:
    overlays = overlay_factory(tmp_path_factory.mktemp("overlays"))
    run = run_freqtrade(
        backtesting_arguments("SwingEnsembleClassifier", TIMERANGE),
        userdir=tmp_path_factory.mktemp("ensemble-ppo"),
        # the shipped switch (declares the weight column), then tiny agents for the test
        overlays=[CONFIG_DIR / "ensemble-ppo.json", overlays(PAIRS, **SMALL), offline_overlay],
    )
    assert run.returncode == 0, run.output[-3000:]
    return run


def test_backtest_learns_a_weight_for_the_ppo_member(ppo_run: FreqtradeRun) -> None:
    (line,) = re.findall(r"Ensemble weights .*", ppo_run.output)
    assert "'ppo'" in line
    predictions = pd.concat(
        pd.read_feather(path) for path in ppo_run.userdir.glob("models/*/backtesting_predictions/*")
    )
    weights = predictions[WEIGHTS]
    assert ((weights >= 0) & (weights <= 1)).all().all()
    assert np.allclose(weights.sum(axis=1), 1.0), "the agent's weight reaches the strategy"
    usable = predictions["do_predict"] == 1
    assert usable.mean() > 0.9
    assert np.allclose(predictions.loc[usable, ["down", "flat", "up"]].sum(axis=1), 1.0)
    assert len(list(ppo_run.userdir.glob("models/*/sub-train-ETH_*/*_member_ppo.zip"))) == 1


def test_freqai_reload_predicts_with_the_agent_and_a_corrupt_agent_withholds(
    ppo_run: FreqtradeRun, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.strategies.test_ensemble_backtesting import freqai_reload

    model, kitchen = freqai_reload(ppo_run, "ETH/USDT")
    assert not model.model.members, "members come from their own files, not the pickle"
    features = pd.read_pickle(next(kitchen.data_path.glob("*_trained_df.pkl"))).iloc[-200:]
    _, do_predict = model.predict(features.reset_index(drop=True), kitchen)
    assert do_predict.mean() > 0.9
    assert "ppo" in model.model.members
    assert kitchen.data["extra_returns_per_train"]["ensemble_weight_ppo"] == pytest.approx(
        model.model.weights["ppo"]
    )

    model, kitchen = freqai_reload(ppo_run, "ETH/USDT")
    member = next(kitchen.data_path.glob("*_member_ppo.zip"))
    member.write_bytes(member.read_bytes()[:-64] + b"\0" * 64)
    with caplog.at_level(logging.ERROR):
        prediction, do_predict = model.predict(features.reset_index(drop=True), kitchen)
    assert (do_predict == 0).all(), "never a prediction from a damaged ensemble"
    assert prediction[["down", "flat", "up"]].isna().all().all()
    assert member.name in caplog.text


def test_the_model_declares_the_agent_weight_and_widens_live_predictions(tmp_path: Path) -> None:
    """Without ``config/ensemble-ppo.json``'s declaration FreqAI's live loop would fail."""
    from freqtrade.configuration import Configuration
    from freqtrade.resolvers.freqaimodel_resolver import FreqaiModelResolver

    from tests.conftest import REPO_ROOT

    config = Configuration.from_files(
        [str(CONFIG_DIR / "base.json"), str(CONFIG_DIR / "freqai.json")]
    )
    config["swing"]["ensemble"] = SMALL["swing"]["ensemble"]
    config.update(
        freqaimodel="SwingEnsembleClassifier",
        freqaimodel_path=str(REPO_ROOT / "freqaimodels"),
        user_data_dir=tmp_path,
    )
    assert "ensemble_weight_ppo" not in config["freqai"]["extra_returns_per_train"]
    model = FreqaiModelResolver.load_freqaimodel(config)
    assert config["freqai"]["extra_returns_per_train"]["ensemble_weight_ppo"] == 0.0
    assert model.CONV_WIDTH == TINY_PPO["window"]

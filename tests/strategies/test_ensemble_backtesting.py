"""The ensemble through the real ``freqtrade backtesting`` and FreqAI's own model reload."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import FreqtradeRun, overlay_factory, run_freqtrade
from tooling.offline import backtesting_arguments

pytestmark = pytest.mark.slow

PAIRS = ["ETH/USDT", "SOL/USDT"]
TIMERANGE = "20240101-20240301"
WINDOWS = 2  # backtest_period_days = 30
SMALL = {
    "freqai": {
        "save_backtest_models": True,
        "model_training_parameters": {
            "xgboost": {"n_estimators": 80},
            "lightgbm": {"n_estimators": 80},
        },
    },
    # trade on every window, so that the ensemble's probabilities reach the strategy
    "swing": {"model": {"min_validation_skill": None}},
}


@pytest.fixture(scope="module")
def ensemble_run(tmp_path_factory: pytest.TempPathFactory, offline_overlay: Path) -> FreqtradeRun:
    overlays = overlay_factory(tmp_path_factory.mktemp("overlays"))
    run = run_freqtrade(
        backtesting_arguments("SwingEnsembleClassifier", TIMERANGE),
        userdir=tmp_path_factory.mktemp("ensemble"),
        overlays=[overlays(PAIRS, **SMALL), offline_overlay],
    )
    assert run.returncode == 0, run.output[-3000:]
    return run


def test_ensemble_backtest_learns_weights_per_window_and_trades(ensemble_run) -> None:
    assert len(re.findall(r"Ensemble weights", ensemble_run.output)) == len(PAIRS) * WINDOWS
    assert "SwingClassifierStrategy" in ensemble_run.backtest_stats()["strategy"]
    predictions = pd.concat(
        pd.read_feather(path)
        for path in ensemble_run.userdir.glob("models/*/backtesting_predictions/*")
    )
    weights = predictions[["ensemble_weight_xgboost", "ensemble_weight_lightgbm"]]
    assert ((weights >= 0) & (weights <= 1)).all().all()
    assert np.allclose(weights.sum(axis=1), 1.0), "weights come back to the strategy, sum 1"
    usable = predictions["do_predict"] == 1
    assert usable.mean() > 0.9
    probabilities = predictions.loc[usable, ["down", "flat", "up"]]
    assert np.allclose(probabilities.sum(axis=1), 1.0)


def freqai_reload(run: FreqtradeRun, pair: str):
    """The ensemble as a restarted bot gets it: FreqAI's resolver and its own ``load_data``."""
    from freqtrade.configuration import Configuration
    from freqtrade.freqai.data_kitchen import FreqaiDataKitchen
    from freqtrade.resolvers.freqaimodel_resolver import FreqaiModelResolver

    from tests.conftest import CONFIG_DIR, REPO_ROOT

    config = Configuration.from_files(
        [str(CONFIG_DIR / "base.json"), str(CONFIG_DIR / "freqai.json")]
    )
    (identifier,) = [p.name for p in (run.userdir / "models").iterdir()]
    config["freqai"]["identifier"] = identifier
    config["swing"]["model"].update(SMALL["swing"]["model"])
    config.update(
        freqaimodel="SwingEnsembleClassifier",
        freqaimodel_path=str(REPO_ROOT / "freqaimodels"),
        user_data_dir=run.userdir,
    )
    model = FreqaiModelResolver.load_freqaimodel(config)
    kitchen = FreqaiDataKitchen(config, live=True, pair=pair)
    model.model = model.dd.load_data(pair, kitchen)
    return model, kitchen


def test_reloaded_ensemble_predicts_and_a_corrupt_member_withholds(
    ensemble_run: FreqtradeRun, caplog: pytest.LogCaptureFixture
) -> None:
    model, kitchen = freqai_reload(ensemble_run, "ETH/USDT")
    assert not model.model.members, "members come from their own files, not the pickle"
    features = pd.read_pickle(next(kitchen.data_path.glob("*_trained_df.pkl"))).iloc[-200:]
    _, do_predict = model.predict(features.reset_index(drop=True), kitchen)
    assert do_predict.mean() > 0.9
    assert kitchen.data["extra_returns_per_train"]["ensemble_weight_lightgbm"] == pytest.approx(
        model.model.weights["lightgbm"]
    )

    model, kitchen = freqai_reload(ensemble_run, "ETH/USDT")
    member = next(kitchen.data_path.glob("*_member_xgboost.json"))
    member.write_bytes(member.read_bytes()[: len(member.read_bytes()) // 2])
    with caplog.at_level(logging.ERROR):
        prediction, do_predict = model.predict(features.reset_index(drop=True), kitchen)
    assert (do_predict == 0).all(), "never a prediction from a damaged ensemble"
    assert prediction[["down", "flat", "up"]].isna().all().all()
    assert member.name in caplog.text


def test_backtest_scores_match_the_stored_predictions(ensemble_run: FreqtradeRun) -> None:
    from freqai_swing.labels import LabelConfig
    from tests.conftest import SAMPLE_DATADIR
    from tooling.score_predictions import labelled_predictions, score

    labels = LabelConfig(horizon_candles=24, barrier_pct=0.02)
    joined = labelled_predictions(ensemble_run.userdir, SAMPLE_DATADIR, labels)
    assert set(joined["pair"]) == set(PAIRS)
    # two 30-day windows of hourly candles per pair, less the labels the data cannot close
    assert len(PAIRS) * (WINDOWS * 30 * 24 - 24) <= len(joined) <= len(PAIRS) * WINDOWS * 30 * 24
    figures = score(ensemble_run.userdir, SAMPLE_DATADIR, labels)
    assert figures["rows"] == len(joined)
    assert 0 < figures["log_loss"] < 2 and 0 <= figures["balanced_accuracy"] <= 1
    assert figures["trades"] == len(ensemble_run.trades())

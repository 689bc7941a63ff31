"""``freqai-swing evaluate --continuous``: one real walk-forward backtest per runner and seed,
cut into splits and years, on the bundled candles."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from freqai_swing.walk_forward import WalkForwardSettings
from tests.conftest import SAMPLE_DATADIR
from tooling import cli
from tooling.evaluate import MISSING_WINDOW, REUSED_WINDOW, request_from_arguments
from tooling.evaluate_continuous import plan_jobs

PAIRS = ["BTC/USDT", "ETH/USDT"]
SETTINGS = WalkForwardSettings(splits=2, train_days=60, test_days=15)
RUNNERS = ["trend-portfolio", "buy-and-hold", "portfolio-ml", "portfolio-meta-filter"]
JOBS = [
    "trend-portfolio",
    "buy-and-hold",
    "portfolio-ml@seed42",
    "portfolio-ml@seed43",
    "portfolio-meta-filter@seed42",
    "portfolio-meta-filter@seed43",
]


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory) -> tuple[Path, dict]:
    output = tmp_path_factory.mktemp("continuous")
    code = cli.main(
        [
            "evaluate",
            "--continuous",
            "--runners",
            *RUNNERS,
            "--seeds",
            "42",
            "43",
            "--trials",
            "5",
            "--pairs",
            *PAIRS,
            "--splits",
            str(SETTINGS.splits),
            "--train-days",
            str(SETTINGS.train_days),
            "--test-days",
            str(SETTINGS.test_days),
            "--end",
            "2024-06-29",
            "--datadir",
            str(SAMPLE_DATADIR),
            "--output",
            str(output),
        ]
    )
    assert code == 0
    return output, json.loads((output / "evaluation.json").read_text())


def _identifiers(output: Path, job: str) -> list[str]:
    return [p.name for p in (output / "runs" / job / "continuous" / "models").iterdir()]


def test_one_backtest_per_runner_and_seed(evaluation) -> None:
    output, results = evaluation
    assert list(results["runners"]) == JOBS
    assert sorted(p.name for p in (output / "runs").iterdir()) == sorted(JOBS)
    for job in JOBS:
        assert [p.name for p in (output / "runs" / job).iterdir()] == ["continuous"]
    # the meta filter reused the windows trained for portfolio-ml of its seed, and the seeds
    # trained apart
    for seed in ("42", "43"):
        userdir = output / "runs" / f"portfolio-meta-filter@seed{seed}" / "continuous"
        text = (userdir / "freqtrade.log").read_text()
        assert REUSED_WINDOW in text and MISSING_WINDOW not in text
        assert _identifiers(output, f"portfolio-meta-filter@seed{seed}") == _identifiers(
            output, f"portfolio-ml@seed{seed}"
        )
    assert _identifiers(output, "portfolio-ml@seed42") != _identifiers(
        output, "portfolio-ml@seed43"
    )


def test_splits_compound_to_the_whole_and_positions_cross_them(evaluation) -> None:
    output, results = evaluation
    for job, run in results["runners"].items():
        compounded = np.prod([1 + split["total_return"] for split in run["splits"]]) - 1
        assert math.isclose(compounded, run["overall"]["total_return"], abs_tol=1e-9), job
        assert [split["test"] for split in run["splits"]] == [
            s["test"] for s in results["settings"]["splits"]
        ]
    boundary = pd.Timestamp(results["settings"]["splits"][1]["test"][:8], tz="UTC")
    from tooling.evaluate import load_trades

    trades = load_trades(output / "runs" / "trend-portfolio" / "continuous")
    opened = pd.to_datetime(trades["open_date"], utc=True)
    closed = pd.to_datetime(trades["close_date"], utc=True)
    assert ((opened < boundary) & (closed > boundary)).any(), "a position ran on past a split"


def test_years_seeds_forecast_scores_and_deflated_sharpe(evaluation) -> None:
    output, results = evaluation
    for run in results["runners"].values():
        assert set(run["years"]) == {"overall", "2024"}
        for key in ("cagr", "invested", "turnover_per_year", "fees_share_of_start"):
            assert math.isfinite(run["overall"][key])
        assert run["overall"]["fees_share_of_start"] > 0
        assert 0.0 <= run["overall"]["deflated_sharpe"] <= 1.0
    spread = results["seed_spread"]
    assert set(spread) == {"portfolio-ml", "portfolio-meta-filter"}
    sharpes = [results["runners"][f"portfolio-ml@seed{s}"]["overall"]["sharpe"] for s in (42, 43)]
    assert spread["portfolio-ml"]["sharpe"]["mean"] == pytest.approx(np.mean(sharpes))
    assert spread["portfolio-ml"]["sharpe"]["std"] == pytest.approx(np.std(sharpes, ddof=1))
    # the trainers' forecasts are scored; the references do not depend on the seed, the
    # model's do
    scores = results["predictions"]
    assert set(scores) == {"portfolio-ml@seed42", "portfolio-ml@seed43"}
    first, second = scores["portfolio-ml@seed42"], scores["portfolio-ml@seed43"]
    assert first["volatility_har"] == second["volatility_har"]
    assert first["meta_base_rate"] == second["meta_base_rate"]
    assert first["volatility_model"] != second["volatility_model"]
    assert first["rows"]["volatility"] > 100
    table = (output / "evaluation.md").read_text()
    for heading in ("## Overall", "## Per year", "## Over the seeds", "## Forecast scores"):
        assert heading in table
    assert (output / "evaluation.html").stat().st_size > 0


def test_the_plan_trains_once_per_seed(tmp_path) -> None:
    request = request_from_arguments(
        ["portfolio-ml", "portfolio-volatility-forecast", "trend-portfolio"],
        PAIRS,
        SETTINGS,
        "2024-06-29",
        SAMPLE_DATADIR,
        tmp_path,
        continuous=True,
        seeds=(1, 2, 3),
    )
    plan = [(job.name, source.name if source else None) for job, source in plan_jobs(request)]
    assert plan[:4] == [
        ("portfolio-ml@seed1", None),
        ("portfolio-ml@seed2", None),
        ("portfolio-ml@seed3", None),
        ("trend-portfolio", None),
    ]
    assert plan[4:] == [
        (f"portfolio-volatility-forecast@seed{s}", f"portfolio-ml@seed{s}") for s in (1, 2, 3)
    ]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--seeds", "1", "2"], "--seeds and --trials need --continuous"),
        (["--continuous", "--seeds", "1", "1"], "--seeds must be distinct"),
        (["--continuous", "--trials", "0"], "at least 1"),
    ],
)
def test_bad_seed_and_trial_requests_get_one_clear_line(extra, message, tmp_path, caplog) -> None:
    code = cli.main(
        ["evaluate", "--runners", "trend-portfolio", "--pairs", *PAIRS, "--output", str(tmp_path)]
        + ["--datadir", str(SAMPLE_DATADIR), *extra]
    )
    assert code == 2
    assert message in caplog.text

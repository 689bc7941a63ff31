"""``freqai-swing evaluate`` through the real freqtrade backtests, on real candles."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from freqai_swing.walk_forward import WalkForwardSettings
from tests.conftest import SAMPLE_DATADIR, load_candles
from tests.freqai_swing.report.test_report import render
from tooling.cli import main
from tooling.evaluate import MISSING_WINDOW, REUSED_WINDOW, evaluate, request_from_arguments

pytestmark = pytest.mark.slow

PAIRS = ("ETH/USDT", "SOL/USDT")
SETTINGS = WalkForwardSettings(splits=2, train_days=60, test_days=15)
FEE = 0.0015


def _run(output: Path, workers: int = 1, per_pair: bool = False) -> dict:
    request = request_from_arguments(
        ["swing-xgboost", "buy-and-hold"], PAIRS, SETTINGS, "2024-06-29", SAMPLE_DATADIR, output
    )
    return evaluate(request, workers=workers, per_pair=per_pair)


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    output = tmp_path_factory.mktemp("evaluation")
    return _run(output), output


def test_a_rerun_on_two_ray_workers_gives_an_identical_evaluation(first, tmp_path: Path) -> None:
    """Same seed and data, fresh models, backtests fanned out over 2 local Ray workers: each
    pair of a FreqAI split trained in its own backtest, then the split's portfolio backtest
    reusing the predictions they stored."""
    results, output = first
    again = _run(tmp_path, workers=2, per_pair=True)
    assert json.dumps(again, default=str) == json.dumps(results, default=str)
    splits = sorted((tmp_path / "runs" / "swing-xgboost").glob("split-?"))
    assert len(splits) == 2
    for split in splits:
        portfolio = (split / "freqtrade.log").read_text()
        assert REUSED_WINDOW in portfolio and MISSING_WINDOW not in portfolio
        pair_runs = sorted(split.with_name(f"{split.name}-pairs").glob("*/freqtrade.log"))
        assert [log.parent.name for log in pair_runs] == sorted(p.replace("/", "_") for p in PAIRS)
        for log in pair_runs:
            assert MISSING_WINDOW in log.read_text()  # each pair trained in its own run
        serial = (output / "runs" / "swing-xgboost" / split.name / "freqtrade.log").read_text()
        assert MISSING_WINDOW in serial and REUSED_WINDOW not in serial


def test_outputs_cover_every_runner_split_and_figure(first) -> None:
    results, output = first
    stored = json.loads((output / "evaluation.json").read_text())
    assert set(stored["runners"]) == {"swing-xgboost", "buy-and-hold"}
    table = (output / "evaluation.md").read_text()
    for runner in stored["runners"].values():
        assert len(runner["splits"]) == 2
        for key in ("total_return", "sharpe", "sortino", "calmar", "max_drawdown", "exposure"):
            assert key in runner["overall"]
    classifier = stored["runners"]["swing-xgboost"]["overall"]
    assert {"log_loss", "brier", "balanced_accuracy", "calibration"} <= set(classifier)
    assert sum(b["rows"] for b in classifier["calibration"]) > 0.9 * 2 * 2 * 15 * 24
    assert "| buy-and-hold |" in table and "20240614-20240629" in table


def test_buy_and_hold_matches_the_candles(first) -> None:
    """Equal-weight buy & hold from the candles themselves, fees on both sides."""
    results, _ = first
    for split in results["runners"]["buy-and-hold"]["splits"]:
        start, end = (pd.Timestamp(day, tz="UTC") for day in split["test"].split("-"))
        ratios = []
        for pair in PAIRS:
            candles = load_candles(pair).set_index("date")
            entry = candles.loc[start, "open"]
            exit_ = candles.loc[: end - pd.Timedelta(hours=1), "close"].iloc[-1]
            ratios.append(exit_ / entry * (1 - FEE) / (1 + FEE) - 1)
        expected = 0.99 * sum(ratios) / len(ratios)  # tradable_balance_ratio 0.99
        assert split["total_return"] == pytest.approx(expected, abs=0.004)
        assert split["exposure"] == pytest.approx(1.0, abs=0.01)


def test_bad_requests_get_a_clear_error(tmp_path: Path, capsys, caplog) -> None:
    assert main(["evaluate", "--runners", "buy-and-hold", "--gap-days", "3"]) == 2
    assert main(["evaluate", "--runners", "magic", "--output", str(tmp_path)]) == 2
    assert "unknown runner(s) ['magic']; choose from ['buy-and-hold'" in caplog.text
    assert main(["evaluate", "--pairs", "NOPE/USDT", "--output", str(tmp_path)]) == 2
    with pytest.raises(ValueError, match="unknown runner"):
        request_from_arguments(["magic"], PAIRS, SETTINGS, None, SAMPLE_DATADIR, tmp_path)


def test_the_html_report_renders_every_figure_without_javascript_errors(
    first, tmp_path: Path
) -> None:
    results, output = first
    page = output / "evaluation.html"
    text = page.read_text()
    for runner in results["runners"]:
        assert runner in text
    rendered = render(page, tmp_path / "profile", "--dump-dom")
    assert rendered.returncode == 0, rendered.stderr[-3000:]
    console = [line for line in rendered.stderr.splitlines() if ":CONSOLE" in line]
    assert not [line for line in console if "Uncaught" in line or "Error" in line], console
    assert (
        rendered.stdout.count('class="plot-container plotly"') == text.count("Plotly.newPlot") == 3
    )

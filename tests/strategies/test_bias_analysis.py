"""Lookahead and recursive bias of SwingClassifierStrategy, on real candles.

``freqtrade lookahead-analysis`` and ``recursive-analysis`` run for real, against the local
exchange. Their tables cannot say everything about a FreqAI strategy, so in-process comparisons
of the very frames they compare say the rest:

* FreqAI predicts each walk-forward window on ``date < stop``: the last candle of any backtest
  gets no prediction (FreqAI fills 0, ``do_predict`` 0). lookahead-analysis compares a backtest
  cut after a trade with the full one, and that last candle always differs in the prediction
  columns and what follows from them, so ``has_bias`` reads Yes for every FreqAI strategy
  (freqtrade's own FreqaiExampleStrategy included). The tool's trade checks stay exact: no
  biased entry or exit. What must hold besides: a cut run differs from the full run on its last
  candle only, and only there because it lacks a prediction; FreqAI's feature frame, where that
  candle is present, matches everywhere; the signals of each candle come from earlier rows only.
* recursive-analysis compares the last candle of runs with different startup candles; with
  FreqAI that candle holds no prediction, so its "no variance" says nothing about the features.
  The features at the predicted candles are compared here instead.

Each check is shown to catch a deliberately leaky variant of the strategy.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.conftest import CONFIG_DIR, REPO_ROOT, SAMPLE_DATADIR, FreqtradeRun, run_freqtrade

pytestmark = pytest.mark.slow

STRATEGY = "SwingClassifierStrategy"
MODEL = "SwingXGBoostClassifier"
PAIR = "SOL/USDT"
TOOL_PAIRS = ["SOL/USDT", "ETH/USDT"]
TIMERANGE = "20240101-20240131"  # one 30-day walk-forward window: one model per pair and run
START = pd.Timestamp("2024-01-01", tz="UTC")
TRAIN_START = START - pd.Timedelta(days=120)  # config/freqai.json: train_period_days
#: Ends of the cut runs, like lookahead-analysis' "one candle after the trade" cuts.
CUTS = (pd.Timestamp("2024-01-10 13:00", tz="UTC"), pd.Timestamp("2024-01-22 06:00", tz="UTC"))
#: Early stopping ends well before 100 rounds on these windows; the cap only bounds the runtime.
SMALL_MODEL = {"model_training_parameters": {"xgboost": {"n_estimators": 100}}}


def _extra_returns_per_train() -> set[str]:
    return set(
        json.loads((CONFIG_DIR / "freqai.json").read_text())["freqai"].get(
            "extra_returns_per_train", {}
        )
    )


#: What FreqAI returns to the strategy (the model's per-window extras included), and what the
#: strategy derives from it.
FREQAI_OUTPUTS = frozenset(
    {"&-swing_class", "up", "down", "flat", "do_predict", *_extra_returns_per_train()}
)
DERIVED_FROM_PREDICTIONS = frozenset(
    {"expected_edge", "enter_long", "enter_tag", "exit_long", "exit_tag"}
)
SIGNAL_COLUMNS = ("enter_long", "enter_tag", "exit_long", "exit_tag", "enter_short", "exit_short")

FEATURE_TOLERANCE = 1e-6  # features are ratios and oscillators of order 0.01 to 1

LEAKY_STRATEGIES = '''
"""Deliberately leaky variants of SwingClassifierStrategy, for the bias tests only."""

import importlib.util
import sys
from pathlib import Path

_SOURCE = Path({source!r})
_spec = importlib.util.spec_from_file_location("swing_classifier_for_leak_tests", _SOURCE)
_module = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _module
_spec.loader.exec_module(_module)


class LeakyFeatureSwing(_module.SwingClassifierStrategy):
    """A feature that knows the close ``leak_candles`` candles ahead."""

    leak_candles = 1

    def feature_engineering_standard(self, dataframe, metadata, **kwargs):
        dataframe = super().feature_engineering_standard(dataframe, metadata, **kwargs)
        future = dataframe["close"].shift(-self.leak_candles)
        return dataframe.assign(**{{"%-next-return": future / dataframe["close"] - 1}})


class LeakyFeature3Swing(LeakyFeatureSwing):
    leak_candles = 3


class LeakySignalSwing(_module.SwingClassifierStrategy):
    """Enters only before a candle that closes higher."""

    def populate_entry_trend(self, dataframe, metadata):
        dataframe = super().populate_entry_trend(dataframe, metadata)
        falls = dataframe["close"].shift(-1) <= dataframe["close"]
        dataframe.loc[falls, ["enter_long", "enter_tag"]] = (0, None)
        return dataframe
'''


@pytest.fixture(scope="module")
def leaky_strategy_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("leaky_strategies")
    source = REPO_ROOT / "strategies" / f"{STRATEGY}.py"
    (folder / "LeakySwing.py").write_text(LEAKY_STRATEGIES.format(source=str(source)))
    return folder


# --- the real commands ----------------------------------------------------------------------
def lookahead_analysis(
    tmp_path: Path, offline_overlay: Path, pairs_overlay, *extra: str
) -> tuple[FreqtradeRun, pd.Series]:
    exported = tmp_path / "lookahead.csv"
    run = run_freqtrade(
        [
            "lookahead-analysis",
            "--freqaimodel",
            MODEL,
            "--timerange",
            TIMERANGE,
            "--minimum-trade-amount",
            "2",
            "--targeted-trade-amount",
            "3",
            "--lookahead-analysis-exportfilename",
            str(exported),
            *extra,
        ],
        userdir=tmp_path / "userdir",
        overlays=[pairs_overlay(TOOL_PAIRS, freqai=SMALL_MODEL), offline_overlay],
    )
    assert run.returncode == 0, run.output[-3000:]
    assert "error while checking" not in run.output and "too few trades" not in run.output
    (row,) = pd.read_csv(exported).to_dict("records")
    return run, pd.Series(row)


def biased_indicators(row: pd.Series) -> set[str]:
    text = row["biased_indicators"]
    return set() if isinstance(text, float) and math.isnan(text) else set(text.split(","))


def test_lookahead_analysis_finds_no_biased_trade(
    tmp_path: Path, offline_overlay: Path, pairs_overlay
) -> None:
    run, row = lookahead_analysis(tmp_path, offline_overlay, pairs_overlay, "--strategy", STRATEGY)
    assert row["total_signals"] == 3
    assert row["biased_entry_signals"] == 0 and row["biased_exit_signals"] == 0
    # the last-candle artifact of FreqAI, nothing else (see the module docstring)
    assert biased_indicators(row) <= FREQAI_OUTPUTS | DERIVED_FROM_PREDICTIONS
    # every cut run trains afresh: the tool's purge of models/<identifier> must reach ours
    assert "Found backtesting prediction file" not in run.output
    assert [folder.name for folder in (run.userdir / "models").iterdir()] == ["swing"]


def test_lookahead_analysis_catches_a_three_candle_leak(
    tmp_path: Path, offline_overlay: Path, pairs_overlay, leaky_strategy_dir: Path
) -> None:
    _, row = lookahead_analysis(
        tmp_path,
        offline_overlay,
        pairs_overlay,
        "--strategy",
        "LeakyFeature3Swing",
        "--strategy-path",
        str(leaky_strategy_dir),
    )
    assert row["biased_entry_signals"] + row["biased_exit_signals"] > 0


def test_recursive_analysis_finds_no_variance(
    tmp_path: Path, offline_overlay: Path, pairs_overlay
) -> None:
    run = run_freqtrade(
        [
            "recursive-analysis",
            "--strategy",
            STRATEGY,
            "--freqaimodel",
            MODEL,
            "--timerange",
            "20240101-20240108",
            "--startup-candle",
            "199",
            "499",
        ],
        userdir=tmp_path / "userdir",
        overlays=[pairs_overlay([PAIR], freqai=SMALL_MODEL), offline_overlay],
    )
    assert run.returncode == 0, run.output[-3000:]
    assert "No variance on indicator(s) found due to recursive formula." in run.output
    assert "Recursive Analysis" not in run.output  # the table is printed only for variances
    # its indicator-only lookahead check compares a cut run's last candle: the artifact again
    flagged = {
        line.rsplit(" ", 1)[-1]
        for line in run.output.splitlines()
        if "=> found lookahead in indicator" in line
    }
    assert flagged <= FREQAI_OUTPUTS | DERIVED_FROM_PREDICTIONS


# --- in-process comparisons of the frames the tools compare ---------------------------------
@dataclass
class StrategyRun:
    """One backtest's strategy frame and FreqAI feature frame for ``PAIR``."""

    indicators: pd.DataFrame | None
    features: pd.DataFrame
    last: pd.Timestamp
    strategy: Any


class Runner:
    """Backtesting objects as lookahead-analysis builds them, each with its own userdir."""

    def __init__(self, offline_overlay: Path, root: Path) -> None:
        self.offline_overlay = offline_overlay
        self.root = root
        self.exchange = None
        self.runs = 0

    def backtesting(
        self,
        timerange: str,
        strategy: str = STRATEGY,
        strategy_path: Path = REPO_ROOT / "strategies",
        startup_candle_count: int | None = None,
    ):
        from freqtrade.configuration import Configuration
        from freqtrade.enums import RunMode
        from freqtrade.optimize.backtesting import Backtesting

        self.runs += 1
        userdir = self.root / f"run{self.runs}"
        for folder in ("models", "backtest_results", "logs"):
            (userdir / folder).mkdir(parents=True)
        arguments = {
            "config": [
                str(CONFIG_DIR / "base.json"),
                str(CONFIG_DIR / "freqai.json"),
                str(self.offline_overlay),
            ],
            "user_data_dir": str(userdir),
            "datadir": str(SAMPLE_DATADIR),
            "strategy_path": str(strategy_path),
            "freqaimodel_path": str(REPO_ROOT / "freqaimodels"),
            "strategy": strategy,
            "freqaimodel": MODEL,
            "timerange": timerange,
        }
        config = Configuration(arguments, RunMode.BACKTEST).get_config()
        config["exchange"]["pair_whitelist"] = [PAIR]
        config["freqai"]["model_training_parameters"]["xgboost"].update(
            SMALL_MODEL["model_training_parameters"]["xgboost"]
        )
        if startup_candle_count is not None:
            config["startup_candle_count"] = startup_candle_count
        backtesting = Backtesting(config, self.exchange)
        self.exchange = backtesting.exchange
        backtesting._set_strategy(backtesting.strategylist[0])
        return backtesting

    def run(self, end: pd.Timestamp | None = None, predict: bool = True, **kwargs: Any):
        """The strategy over START..end (TIMERANGE's end by default), as the tools run it."""
        from freqtrade.freqai.data_kitchen import FreqaiDataKitchen

        timerange = TIMERANGE if end is None else f"{int(START.timestamp())}-{int(end.timestamp())}"
        backtesting = self.backtesting(timerange, **kwargs)
        data, _ = backtesting.load_bt_data()
        strategy = backtesting.strategy
        # FreqAI's own feature path, on the frame it is handed in a backtest
        kitchen = FreqaiDataKitchen(backtesting.config, False, PAIR)
        features = kitchen.use_strategy_to_populate_indicators(
            strategy, prediction_dataframe=data[PAIR].copy(), pair=PAIR
        )
        features = features[["date", *(c for c in features.columns if c.startswith("%"))]]
        indicators = None
        if predict:
            frame = strategy.advise_all_indicators({PAIR: data[PAIR]})[PAIR]
            indicators = strategy.ft_advise_signals(frame, {"pair": PAIR})
        return StrategyRun(indicators, features, data[PAIR]["date"].iloc[-1], strategy)

    def close(self) -> None:
        from freqtrade.optimize.backtesting import Backtesting

        Backtesting.cleanup()
        if self.exchange is not None:
            self.exchange.close()


@pytest.fixture(scope="module")
def runner(offline_overlay: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    runner = Runner(offline_overlay, tmp_path_factory.mktemp("bias_runs"))
    yield runner
    runner.close()


@pytest.fixture(scope="module")
def full_run(runner: Runner) -> StrategyRun:
    return runner.run()


@pytest.fixture(scope="module")
def cut_runs(runner: Runner) -> list[StrategyRun]:
    return [runner.run(end) for end in CUTS]


def differing_rows(full: pd.DataFrame, cut: pd.DataFrame) -> dict[str, list[pd.Timestamp]]:
    """Per column, the dates of the cut run where the full run holds another value."""
    assert set(full.columns) == set(cut.columns), set(full.columns) ^ set(cut.columns)
    full = full.set_index("date")
    cut = cut.set_index("date")
    assert cut.index.isin(full.index).all()
    full = full.loc[cut.index, cut.columns]
    differences = {}
    for column in cut.columns:
        a, b = full[column], cut[column]
        if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
            same = np.isclose(
                a.to_numpy(dtype=float),
                b.to_numpy(dtype=float),
                rtol=1e-9,
                atol=1e-12,
                equal_nan=True,
            )
        else:
            same = (a.astype(object) == b.astype(object)) | (a.isna() & b.isna())
            same = np.asarray(same, dtype=bool)
        if not same.all():
            differences[column] = list(cut.index[~same])
    return differences


def test_cut_runs_differ_from_the_full_run_only_by_their_unpredicted_last_candle(
    full_run: StrategyRun, cut_runs: list[StrategyRun]
) -> None:
    for cut in cut_runs:
        differences = differing_rows(full_run.indicators, cut.indicators)
        assert {column: [cut.last] for column in differences} == differences
        assert set(differences) <= FREQAI_OUTPUTS | DERIVED_FROM_PREDICTIONS
        assert "up" in differences, "the full run predicts the cut's last candle"
        last = cut.indicators.set_index("date").loc[cut.last]
        assert (last[["up", "down", "flat", "do_predict"]] == 0).all(), "FreqAI's fill"
        assert (cut.indicators["do_predict"] == 1).sum() > 200, "the cut is predicted before"


def test_freqai_features_of_cut_runs_match_the_full_run_everywhere(
    full_run: StrategyRun, cut_runs: list[StrategyRun]
) -> None:
    """The last candle included: the features are there even where the prediction is not."""
    for cut in cut_runs:
        assert len(cut.features.columns) > 300
        assert differing_rows(full_run.features, cut.features) == {}


def test_a_feature_of_the_next_candle_is_caught(runner: Runner, leaky_strategy_dir: Path) -> None:
    """A one-candle leak hides from lookahead-analysis behind the artifact, not from this."""
    leaky = {"strategy": "LeakyFeatureSwing", "strategy_path": leaky_strategy_dir}
    full = runner.run(predict=False, **leaky)
    cut = runner.run(CUTS[0], predict=False, **leaky)
    assert differing_rows(full.features, cut.features) == {"%-next-return": [cut.last]}


def signals_differing_from_truncated_frames(strategy: Any, frame: pd.DataFrame) -> list[Any]:
    """Dates whose entry or exit changes when the frame ends at that candle."""
    base = frame.drop(columns=[c for c in SIGNAL_COLUMNS if c in frame.columns])
    complete = strategy.ft_advise_signals(base.copy(), {"pair": PAIR})
    differing = []
    for position in np.flatnonzero((base["date"] >= START).to_numpy()):
        partial = strategy.ft_advise_signals(base.iloc[: position + 1].copy(), {"pair": PAIR})
        for column in ("enter_long", "exit_long"):
            if partial[column].fillna(0).iloc[-1] != complete[column].fillna(0).iloc[position]:
                differing.append(base["date"].iloc[position])
                break
    return differing


def test_signals_come_from_past_rows_only(full_run: StrategyRun) -> None:
    assert full_run.indicators["enter_long"].fillna(0).sum() > 0
    assert full_run.indicators["exit_long"].fillna(0).sum() > 0
    assert signals_differing_from_truncated_frames(full_run.strategy, full_run.indicators) == []


def test_a_signal_on_the_next_candle_is_caught(
    runner: Runner, full_run: StrategyRun, leaky_strategy_dir: Path
) -> None:
    leaky = runner.backtesting(
        TIMERANGE, strategy="LeakySignalSwing", strategy_path=leaky_strategy_dir
    ).strategy
    assert signals_differing_from_truncated_frames(leaky, full_run.indicators) != []


# --- recursive: the features at the predicted candles, by startup candles --------------------
@pytest.fixture(scope="module")
def startup_differences(runner: Runner) -> dict[str, pd.Series]:
    """Per feature, the largest change at the predicted and at the training candles when
    the startup candles go from the strategy's 200 to recursive-analysis' 499."""
    by_startup = {
        startup: runner.run(predict=False, startup_candle_count=startup).features.set_index("date")
        for startup in (200, 499)
    }
    short, long = by_startup[200], by_startup[499]
    rows = {
        "predicted": short.index[short.index >= START],
        "training": short.index[(short.index >= TRAIN_START) & (short.index < START)],
    }
    return {
        name: (short.loc[index] - long.loc[index]).abs().max().fillna(0)
        for name, index in rows.items()
    }


def test_no_feature_depends_on_the_startup(startup_differences: dict[str, pd.Series]) -> None:
    """recursive-analysis' question, asked of FreqAI's features at every training and predicted
    candle: recursive filters must forget their first candle within the startup candles."""
    assert len(startup_differences["predicted"]) > 300
    for name, changes in startup_differences.items():
        moved = changes[changes > FEATURE_TOLERANCE]
        assert moved.empty, (name, moved.sort_values().tail(10).to_dict())

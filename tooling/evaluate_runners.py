"""The runners ``freqai-swing evaluate`` backtests, and the request its options become.

A runner is one strategy (with its FreqAI model, if any) and its configs; the request holds the
runners, pairs, walk-forward splits, data and output of one evaluation, checked against the
configs and the candles before any backtest starts.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from freqai_swing.equity import load_closes
from freqai_swing.labels import LabelConfig
from freqai_swing.settings import load_swing_settings
from freqai_swing.walk_forward import WalkForwardSettings
from tooling.offline import DEFAULT_DATADIR, REPO_ROOT

CONFIG_DIR = REPO_ROOT / "config"


@dataclass(frozen=True)
class Runner:
    """One strategy (and FreqAI model) that the evaluation backtests on every split."""

    name: str
    strategy: str
    freqaimodel: str | None
    configs: tuple[str, ...]
    #: One position per pair at most, all pairs at once: equal weight across the whitelist.
    equal_weight: bool = False
    #: The bundle's classifiers: their probabilities are scored against the labels too.
    classifier: bool = False
    #: The trend portfolio: one position slot per pair (it sizes and rebalances each itself).
    portfolio: bool = False


RUNNERS: dict[str, Runner] = {
    runner.name: runner
    for runner in (
        Runner(
            "swing-xgboost",
            "SwingClassifierStrategy",
            "SwingXGBoostClassifier",
            ("base.json", "freqai.json"),
            classifier=True,
        ),
        Runner(
            "swing-lightgbm",
            "SwingClassifierStrategy",
            "SwingLightGBMClassifier",
            ("base.json", "freqai.json"),
            classifier=True,
        ),
        Runner(
            "swing-ensemble",
            "SwingClassifierStrategy",
            "SwingEnsembleClassifier",
            ("base.json", "freqai.json"),
            classifier=True,
        ),
        Runner(
            "freqai-example",
            "FreqaiExampleSpotStrategy",
            "LightGBMRegressor",
            ("base.json", "freqai-example.json"),
        ),
        Runner(
            "portfolio-ml",
            "SwingPortfolioStrategy",
            "SwingPortfolioModel",
            ("base.json", "portfolio.json", "portfolio-ml.json"),
            portfolio=True,
        ),
        Runner(
            "portfolio-volatility-forecast",
            "SwingPortfolioStrategy",
            "SwingPortfolioModel",
            ("base.json", "portfolio.json", "portfolio-ml-volatility.json"),
            portfolio=True,
        ),
        Runner(
            "portfolio-meta-filter",
            "SwingPortfolioStrategy",
            "SwingPortfolioModel",
            ("base.json", "portfolio.json", "portfolio-ml-meta.json"),
            portfolio=True,
        ),
        Runner(
            "trend-portfolio",
            "SwingPortfolioStrategy",
            None,
            ("base.json", "portfolio.json", "portfolio-no-ml.json"),
            portfolio=True,
        ),
        Runner("daily-trend", "DailyTrendStrategy", None, ("base.json",), equal_weight=True),
        Runner("buy-and-hold", "BuyAndHoldStrategy", None, ("base.json",), equal_weight=True),
    )
}


@dataclass(frozen=True)
class EvaluationRequest:
    runners: tuple[str, ...]
    pairs: tuple[str, ...]
    walk_forward: WalkForwardSettings
    data_end: pd.Timestamp
    datadir: Path
    output: Path
    labels: LabelConfig
    #: One backtest per runner over all the splits (FreqAI retraining at each split's start)
    #: instead of one per split: positions then run on across split boundaries.
    continuous: bool = False
    #: Seeds of the FreqAI runners (``swing.model.seed``); empty: the configs' own seed.
    seeds: tuple[int, ...] = ()
    #: Configurations tried in all, for the Deflated Sharpe Ratio (continuous mode).
    trials: int | None = None


def request_from_arguments(
    runners: Sequence[str],
    pairs: Sequence[str] | None,
    walk_forward: WalkForwardSettings,
    data_end: str | None,
    datadir: Path = DEFAULT_DATADIR,
    output: Path = REPO_ROOT / "user_data" / "evaluation",
    continuous: bool = False,
    seeds: Sequence[int] = (),
    trials: int | None = None,
) -> EvaluationRequest:
    """Check the CLI's choices against the runners, the config and the data; clear errors."""
    unknown = sorted(set(runners) - set(RUNNERS))
    if unknown:
        raise ValueError(f"unknown runner(s) {unknown}; choose from {sorted(RUNNERS)}")
    freqai_config = json.loads((CONFIG_DIR / "freqai.json").read_text())
    labels = load_swing_settings(freqai_config).labels
    walk_forward.check(horizon_hours=labels.horizon_candles)
    base = json.loads((CONFIG_DIR / "base.json").read_text())
    chosen = tuple(pairs or base["exchange"]["pair_whitelist"])
    missing = [p for p in chosen if not (datadir / f"{p.replace('/', '_')}-1h.feather").is_file()]
    if missing:
        raise FileNotFoundError(f"no 1h candles in {datadir} for {missing}")
    end = pd.Timestamp(data_end, tz="UTC") if data_end else load_closes(datadir, chosen).index[-1]
    output.mkdir(parents=True, exist_ok=True)
    if len(set(seeds)) != len(seeds) or any(seed < 0 for seed in seeds):
        raise ValueError(f"--seeds must be distinct non-negative integers, not {list(seeds)}")
    if trials is not None and trials < 1:
        raise ValueError(f"--trials counts the configurations tried: at least 1, not {trials}")
    if (seeds or trials) and not continuous:
        raise ValueError("--seeds and --trials need --continuous")
    return EvaluationRequest(
        tuple(runners),
        chosen,
        walk_forward,
        end,
        datadir,
        output,
        labels,
        continuous,
        tuple(seeds),
        trials,
    )

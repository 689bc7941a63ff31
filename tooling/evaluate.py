"""``freqai-swing evaluate``: walk-forward evaluation through the real ``freqtrade backtesting``.

Every runner (the bundle's strategy/model pairs, FreqAI's own example, the no-ML daily trend
rule and equal-weight buy & hold) is backtested on the same splits, pairs, candles and fees.
Each split is one freqtrade run whose FreqAI model is fitted on the ``train_days`` before the
test window only. The figures are computed here from the trades and the candles, the same way
for every runner, so that a row of the table compares like with like.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from freqai_swing.equity import chain_equity, daily_equity, load_closes, load_trades
from freqai_swing.labels import CLASS_ORDER
from freqai_swing.metrics import classification_metrics
from freqai_swing.models.common.classifier import encode_labels
from freqai_swing.report.evaluation import write_evaluation_report
from freqai_swing.walk_forward import (
    Split,
    calibration_table,
    equity_figures,
    trade_figures,
    walk_forward_splits,
)
from tooling.evaluate_runners import (
    CONFIG_DIR,
    RUNNERS,
    EvaluationRequest,
    Runner,
    request_from_arguments,
)
from tooling.evaluate_tables import TABLE_COLUMNS, markdown_table
from tooling.local_exchange import LocalExchange, write_offline_overlay
from tooling.offline import run_freqtrade_in
from tooling.score_predictions import labelled_predictions

__all__ = [  # with the runners and the request, re-exported for the modules importing them here
    "CONFIG_DIR",
    "MISSING_WINDOW",
    "REUSED_WINDOW",
    "RUNNERS",
    "EvaluationRequest",
    "Runner",
    "SplitRun",
    "adopt_pair_models",
    "backtest_pair",
    "backtest_portfolio",
    "backtest_split",
    "check_reused",
    "classifier_figures",
    "daily_equity",
    "evaluate",
    "gather",
    "load_trades",
    "local_ray",
    "pair_userdir",
    "request_from_arguments",
    "split_userdir",
]

logger = logging.getLogger(__name__)
K = TypeVar("K")


def _overlay(
    runner: Runner,
    request: EvaluationRequest,
    path: Path,
    pairs: Sequence[str] | None = None,
    seed: int | None = None,
) -> Path:
    chosen = list(pairs or request.pairs)
    overlay: dict[str, Any] = {"exchange": {"pair_whitelist": chosen}}
    if runner.equal_weight or runner.portfolio:
        overlay["max_open_trades"] = len(chosen)
    if runner.freqaimodel:
        overlay["freqai"] = {
            "train_period_days": request.walk_forward.train_days,
            "backtest_period_days": request.walk_forward.test_days,
        }
    if seed is not None:
        overlay["swing"] = {"model": {"seed": seed}}
    path.write_text(json.dumps(overlay, indent=2))
    return path


def split_userdir(runner: Runner, split: Split, request: EvaluationRequest) -> Path:
    return request.output / "runs" / runner.name / f"split-{split.index}"


def pair_userdir(runner: Runner, split: Split, pair: str, request: EvaluationRequest) -> Path:
    """A pair's own userdir beside (not inside) the split's, so no glob of the split sees it."""
    folder = request.output / "runs" / runner.name / f"split-{split.index}-pairs"
    return folder / pair.replace("/", "_")


def _backtest(
    runner: Runner,
    split: Split,
    request: EvaluationRequest,
    offline_overlay: Path,
    userdir: Path,
    pairs: Sequence[str] | None = None,
    seed: int | None = None,
) -> Path:
    """One real ``freqtrade backtesting`` of ``runner`` on ``split`` in ``userdir``."""
    userdir.mkdir(parents=True, exist_ok=True)
    arguments = ["backtesting", "--strategy", runner.strategy, "--timerange", split.timerange]
    if runner.freqaimodel:
        arguments += ["--freqaimodel", runner.freqaimodel]
    arguments += ["--cache", "none", "--export", "trades"]
    overlay = _overlay(runner, request, userdir / "evaluation-overlay.json", pairs, seed)
    configs = [*(CONFIG_DIR / config for config in runner.configs), overlay, offline_overlay]
    completed = run_freqtrade_in(arguments, userdir, configs, request.datadir)
    (userdir / "freqtrade.log").write_text(completed.stdout + completed.stderr)
    if completed.returncode != 0:
        tail = (completed.stdout + completed.stderr)[-2000:]
        scope = f" ({', '.join(pairs)} only)" if pairs else ""
        raise RuntimeError(
            f"freqtrade backtesting of {runner.name}{scope} on split {split.index} "
            f"({split.timerange}) failed; log: {userdir / 'freqtrade.log'}\n{tail}"
        )
    return userdir


def backtest_split(
    runner: Runner, split: Split, request: EvaluationRequest, offline_overlay: Path
) -> Path:
    """One real ``freqtrade backtesting`` of ``runner`` on ``split``; returns its userdir."""
    userdir = split_userdir(runner, split, request)
    return _backtest(runner, split, request, offline_overlay, userdir)


def backtest_pair(
    runner: Runner, split: Split, pair: str, request: EvaluationRequest, offline_overlay: Path
) -> Path:
    """The backtest of one pair alone: it trains that pair's FreqAI models of the split and
    leaves its walk-forward predictions under ``models/<identifier>/`` of its own userdir."""
    userdir = pair_userdir(runner, split, pair, request)
    return _backtest(runner, split, request, offline_overlay, userdir, (pair,))


#: FreqAI's log lines for a window whose stored prediction it reuses, or has to make afresh.
REUSED_WINDOW = "Found backtesting prediction file"
MISSING_WINDOW = "Could not find backtesting prediction file"


def adopt_pair_models(pair_userdirs: Sequence[Path], userdir: Path) -> None:
    """Copy the pairs' trained windows and stored predictions into the split's userdir.

    FreqAI reuses a window's stored prediction (``backtesting_predictions/cb_<coin>_<stamp>
    _prediction.feather`` under the identifier's folder) when it has the window's length;
    its metadata (the feature list it checks) lies in the window's ``sub-train-*`` folder.
    The identifier's own files (``pair_dictionary.json``) are left out: a serial run starts
    without them too.
    """
    for source in pair_userdirs:
        for identifier in sorted((source / "models").glob("*")):
            if not identifier.is_dir():
                continue
            for entry in sorted(identifier.iterdir()):
                if entry.is_dir():
                    target = userdir / "models" / identifier.name / entry.name
                    shutil.copytree(entry, target, dirs_exist_ok=True)


def backtest_portfolio(
    runner: Runner,
    split: Split,
    request: EvaluationRequest,
    offline_overlay: Path,
    *pair_userdirs: Path,
) -> Path:
    """The split's backtest of all pairs, reusing every window the pairs' runs stored.

    A window FreqAI had to train again here would mean the reuse failed (another identifier,
    another window length): that is an error, not a silent serial retrain.
    """
    userdir = split_userdir(runner, split, request)
    userdir.mkdir(parents=True, exist_ok=True)
    adopt_pair_models(pair_userdirs, userdir)
    _backtest(runner, split, request, offline_overlay, userdir)
    check_reused(userdir, f"{runner.name} split {split.index}", "the per-pair predictions")
    return userdir


def check_reused(userdir: Path, what: str, source: str) -> None:
    """Raise unless the backtest in ``userdir`` reused every window's stored prediction."""
    log = (userdir / "freqtrade.log").read_text()
    if MISSING_WINDOW in log or REUSED_WINDOW not in log:
        raise RuntimeError(
            f"{what}: the backtest did not reuse {source} (see {userdir / 'freqtrade.log'})"
        )


@contextmanager
def local_ray(workers: int) -> Iterator[Any]:
    """A local Ray cluster of ``workers`` CPUs (or ``RAY_ADDRESS``'s), shut down afterwards."""
    import ray

    ray.init(
        num_cpus=workers, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True
    )
    try:
        yield ray
    finally:
        ray.shutdown()


def gather(ray: Any, pending: dict[Any, K], progress: Callable[[], None] | None) -> dict[K, Any]:
    """Each task's result under its key, in the order the tasks finish."""
    done: dict[K, Any] = {}
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        done[pending.pop(ready[0])] = ray.get(ready[0])
        if progress is not None:
            progress()
    return done


def classifier_figures(userdirs: Sequence[Path], request: EvaluationRequest) -> dict[str, Any]:
    joined = pd.concat(
        labelled_predictions(userdir, request.datadir, request.labels) for userdir in userdirs
    )
    probabilities = joined[list(CLASS_ORDER)].to_numpy(dtype=np.float64)
    truth = encode_labels(joined["label"])
    return {
        **classification_metrics(probabilities, truth),
        "calibration": calibration_table(probabilities, truth),
    }


@dataclass(frozen=True)
class SplitRun:
    """What one backtest of one runner on one split left behind."""

    runner: str
    split: Split
    userdir: Path


def _backtest_all(
    request: EvaluationRequest,
    splits: Sequence[Split],
    offline_overlay: Path,
    workers: int,
    progress: Callable[[], None] | None,
    per_pair: bool = False,
) -> list[SplitRun]:
    """Every (runner, split) backtest: one after the other, or fanned out over Ray.

    With ``workers`` > 1, a local Ray cluster of that many CPUs runs the backtests as tasks
    (pass ``RAY_ADDRESS`` to use an existing cluster instead); every task writes its own
    userdir, so the figures do not depend on the order the tasks finish in. With
    ``per_pair``, a FreqAI runner's split first becomes one task per pair (FreqAI would
    otherwise train the pairs one after the other inside the split's backtest); the split's
    portfolio backtest then runs once they are all done and reuses their stored predictions.
    """
    jobs = [(RUNNERS[name], split) for name in request.runners for split in splits]

    def fans_out(runner: Runner) -> bool:
        return per_pair and runner.freqaimodel is not None

    if workers <= 1:
        runs = []
        for runner, split in jobs:
            if fans_out(runner):
                userdirs = [
                    backtest_pair(runner, split, pair, request, offline_overlay)
                    for pair in request.pairs
                ]
                userdir = backtest_portfolio(runner, split, request, offline_overlay, *userdirs)
            else:
                userdir = backtest_split(runner, split, request, offline_overlay)
            runs.append(SplitRun(runner.name, split, userdir))
            if progress is not None:
                progress()
        return runs
    with local_ray(workers) as ray:
        remote_split = ray.remote(num_cpus=1)(backtest_split)
        remote_pair = ray.remote(num_cpus=1)(backtest_pair)
        remote_portfolio = ray.remote(num_cpus=1)(backtest_portfolio)
        pending = {}
        for runner, split in jobs:
            if fans_out(runner):
                # Ray starts the portfolio task once the pair tasks it takes have returned
                pair_runs = [
                    remote_pair.remote(runner, split, pair, request, offline_overlay)
                    for pair in request.pairs
                ]
                task = remote_portfolio.remote(runner, split, request, offline_overlay, *pair_runs)
            else:
                task = remote_split.remote(runner, split, request, offline_overlay)
            pending[task] = (runner.name, split.index)
        done = gather(ray, pending, progress)
    return [SplitRun(r.name, s, done[(r.name, s.index)]) for r, s in jobs]


def evaluate(
    request: EvaluationRequest,
    progress: Callable[[], None] | None = None,
    workers: int = 1,
    per_pair: bool | None = None,
) -> dict[str, Any]:
    """Backtest every runner on every split and collect the figures (also written to disk).

    ``per_pair`` trains each pair of a FreqAI runner's split in its own backtest first; the
    figures are the same either way. Each extra backtest costs a freqtrade start and a data
    load, so by default it is on only when the workers outnumber the (runner, split) backtests
    and would otherwise sit idle.
    """
    splits = walk_forward_splits(request.data_end, request.walk_forward)
    if request.continuous:
        from tooling.evaluate_continuous import evaluate_continuous

        return evaluate_continuous(request, splits, progress, workers)
    if per_pair is None:
        per_pair = workers > len(request.runners) * len(splits)
    closes = load_closes(request.datadir, request.pairs)
    starting_balance = float(json.loads((CONFIG_DIR / "base.json").read_text())["dry_run_wallet"])
    results: dict[str, Any] = {
        "settings": {
            **asdict(request.walk_forward),
            "pairs": list(request.pairs),
            "splits": [
                {"index": s.index, "train_start": str(s.train_start), "test": s.timerange}
                for s in splits
            ],
        },
        "runners": {},
    }
    with LocalExchange(request.datadir, port=0) as exchange:
        offline_overlay = write_offline_overlay(
            request.output / "offline-overlay.json", exchange.api_url
        )
        runs = _backtest_all(request, splits, offline_overlay, workers, progress, per_pair)
    for name in request.runners:
        runner = RUNNERS[name]
        mine = [run for run in runs if run.runner == name]
        per_split, curves, all_trades = [], [], []
        for run in mine:
            trades = load_trades(run.userdir)
            curve = daily_equity(trades, closes, run.split, starting_balance)
            figures = {
                "split": run.split.index,
                "test": run.split.timerange,
                **equity_figures(curve),
                **trade_figures(trades, run.split.test_start, run.split.test_end),
            }
            if runner.classifier:
                figures |= classifier_figures([run.userdir], request)
            per_split.append(figures)
            curves.append(curve)
            all_trades.append(trades)
        equity = chain_equity(curves)
        overall = {
            **equity_figures(equity),
            **trade_figures(pd.concat(all_trades), splits[0].test_start, splits[-1].test_end),
        }
        if runner.classifier:
            overall |= classifier_figures([run.userdir for run in mine], request)
        results["runners"][name] = {
            "splits": per_split,
            "overall": overall,
            "equity": [[f"{day:%Y-%m-%d}", round(float(v), 6)] for day, v in equity.items()],
        }
    (request.output / "evaluation.json").write_text(json.dumps(results, indent=2, default=str))
    (request.output / "evaluation.md").write_text(markdown_table(results))
    columns = [(key, title) for key, title, _ in TABLE_COLUMNS]
    write_evaluation_report(results, columns, request.output / "evaluation.html")
    return results

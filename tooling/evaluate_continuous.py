"""``freqai-swing evaluate --continuous``: one walk-forward backtest per runner over all splits.

A portfolio holds positions for weeks. Cut into one backtest per split, it would sell
everything at each split's end and buy it back the next day, which no user does. Here each
runner is backtested once over the span the splits cover; a FreqAI runner's model is trained
by FreqAI's own sliding window (``train_period_days`` = the splits' train days,
``backtest_period_days`` = their test days), so every split's predictions come from a model
fitted on the days before that split only, exactly as in the split-by-split mode. The figures
per split, per calendar year and overall are then cut from the one daily equity curve.

With ``seeds``, every FreqAI runner is run once per seed (``swing.model.seed``), and the
figures report the mean and spread over the seeds. The portfolio's ML runners of one seed
share one model identifier (their settings differ only in which outputs the strategy uses), so
the first of them trains the windows and the others reuse its stored predictions: a window
they had to train again is an error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from freqai_swing.equity import daily_equity, load_closes, load_trades
from freqai_swing.portfolio.evidence import period_figures, prediction_scores
from freqai_swing.portfolio.scores import deflated_sharpe_ratio
from freqai_swing.portfolio.settings import portfolio_settings
from freqai_swing.report.evaluation import write_evaluation_report
from freqai_swing.walk_forward import (
    Split,
    equity_figures,
    overlapping_trades,
    seed_spread,
    span_of,
    trade_figures,
)
from tooling.evaluate import (
    _backtest,
    adopt_pair_models,
    check_reused,
    classifier_figures,
    gather,
    local_ray,
)
from tooling.evaluate_runners import CONFIG_DIR, RUNNERS, EvaluationRequest, Runner
from tooling.evaluate_tables import SEED_FIGURES, TABLE_COLUMNS, continuous_markdown
from tooling.local_exchange import LocalExchange, write_offline_overlay


@dataclass(frozen=True)
class Job:
    """One backtest of the continuous evaluation: a runner, with a seed if it learns."""

    runner: Runner
    seed: int | None = None

    @property
    def name(self) -> str:
        return self.runner.name if self.seed is None else f"{self.runner.name}@seed{self.seed}"

    @property
    def learns_portfolio(self) -> bool:
        return self.runner.portfolio and self.runner.freqaimodel is not None


def plan_jobs(request: EvaluationRequest) -> list[tuple[Job, Job | None]]:
    """Every backtest, each with the job whose trained windows it reuses (or ``None``).

    The portfolio's first ML runner of each seed trains; its other ML runners of that seed
    reuse. Jobs that train come first, so that on parallel workers the reusing ones wait least.
    """
    seeds: Sequence[int | None] = request.seeds or (None,)
    trainers: dict[int | None, Job] = {}
    first, second = [], []
    for name in request.runners:
        runner = RUNNERS[name]
        if runner.freqaimodel is None:
            first.append((Job(runner), None))
            continue
        for seed in seeds:
            job = Job(runner, seed)
            if job.learns_portfolio and seed in trainers:
                second.append((job, trainers[seed]))
                continue
            if job.learns_portfolio:
                trainers[seed] = job
            first.append((job, None))
    return first + second


def job_userdir(job: Job, request: EvaluationRequest) -> Path:
    return request.output / "runs" / job.name / "continuous"


def backtest_job(
    job: Job,
    span: Split,
    request: EvaluationRequest,
    offline_overlay: Path,
    trained: Path | None = None,
) -> Path:
    """The job's one backtest over ``span``; with ``trained``, reusing that run's windows."""
    userdir = job_userdir(job, request)
    userdir.mkdir(parents=True, exist_ok=True)
    if trained is not None:
        adopt_pair_models([trained], userdir)
    _backtest(job.runner, span, request, offline_overlay, userdir, seed=job.seed)
    if trained is not None:
        check_reused(userdir, job.name, f"the windows trained for {trained.parent.name}")
    return userdir


def _run_all(
    request: EvaluationRequest,
    span: Split,
    offline_overlay: Path,
    workers: int,
    progress: Callable[[], None] | None,
) -> dict[str, Path]:
    plan = plan_jobs(request)
    if workers <= 1:
        done: dict[str, Path] = {}
        for job, source in plan:
            trained = done[source.name] if source is not None else None
            done[job.name] = backtest_job(job, span, request, offline_overlay, trained)
            if progress is not None:
                progress()
        return done
    with local_ray(workers) as ray:
        remote = ray.remote(num_cpus=1)(backtest_job)
        tasks: dict[str, Any] = {}
        for job, source in plan:
            trained = tasks[source.name] if source is not None else None
            tasks[job.name] = remote.remote(job, span, request, offline_overlay, trained)
        return gather(ray, {task: name for name, task in tasks.items()}, progress)


def job_figures(
    job: Job,
    userdir: Path,
    splits: Sequence[Split],
    closes: pd.DataFrame,
    starting_balance: float,
    request: EvaluationRequest,
) -> dict[str, Any]:
    """Per split, per year and overall figures of one job, from its one equity curve."""
    span = span_of(splits)
    trades = load_trades(userdir)
    equity = daily_equity(trades, closes, span, starting_balance)
    per_split = []
    for split in splits:
        window = equity.loc[split.test_start : split.test_end]
        inside = overlapping_trades(trades, split)
        figures = {
            "split": split.index,
            "test": split.timerange,
            **equity_figures(window),
            **trade_figures(inside, split.test_start, split.test_end),
        }
        per_split.append(figures)
    years = period_figures(equity, trades, closes)
    overall: dict[str, Any] = {
        **equity_figures(equity),
        **trade_figures(trades, span.test_start, span.test_end),
    }
    overall["invested"] = years["overall"]["exposure"]
    for key in ("cagr", "turnover_per_year", "fees_share_of_start"):
        overall[key] = years["overall"][key]
    if job.runner.classifier:  # its probabilities against the labels, over the whole run
        overall |= classifier_figures([userdir], request)
    return {
        "runner": job.runner.name,
        "seed": job.seed,
        "splits": per_split,
        "years": years,
        "overall": overall,
        "equity": [[f"{day:%Y-%m-%d}", round(float(v), 6)] for day, v in equity.items()],
    }


def deflate(results: dict[str, Any], trials: int) -> None:
    """Each run's Deflated Sharpe Ratio for ``trials`` configurations tried in all.

    The trials' spread of Sharpe ratios is that of the evaluated portfolio runs (the
    configurations and seeds tried); the baselines are not trials and count only when no
    portfolio run is there.
    """
    runs = results["runners"]
    tried = [run for run in runs.values() if RUNNERS[run["runner"]].portfolio] or list(
        runs.values()
    )
    daily_sharpes = [run["overall"]["sharpe"] / np.sqrt(365.0) for run in tried]
    for run in runs.values():
        equity = pd.Series([value for _, value in run["equity"]], dtype=float)
        returns = equity.pct_change().dropna().to_numpy()
        run["overall"]["deflated_sharpe"] = (
            deflated_sharpe_ratio(returns, daily_sharpes, trials) if returns.std() > 0 else None
        )


def evaluate_continuous(
    request: EvaluationRequest,
    splits: Sequence[Split],
    progress: Callable[[], None] | None = None,
    workers: int = 1,
) -> dict[str, Any]:
    """Backtest each runner (and seed) once over the splits; figures written to disk too."""
    span = span_of(splits)
    closes = load_closes(request.datadir, request.pairs)
    base = json.loads((CONFIG_DIR / "base.json").read_text())
    starting_balance = float(base["dry_run_wallet"])
    results: dict[str, Any] = {
        "settings": {
            **asdict(request.walk_forward),
            "mode": "continuous",
            "seeds": list(request.seeds),
            "trials": request.trials,
            "pairs": list(request.pairs),
            "fee": base.get("fee"),
            "splits": [
                {"index": s.index, "train_start": str(s.train_start), "test": s.timerange}
                for s in splits
            ],
        },
        "runners": {},
        "predictions": {},
    }
    with LocalExchange(request.datadir, port=0) as exchange:
        offline_overlay = write_offline_overlay(
            request.output / "offline-overlay.json", exchange.api_url
        )
        userdirs = _run_all(request, span, offline_overlay, workers, progress)
    portfolio = portfolio_settings(
        json.loads((CONFIG_DIR / "portfolio.json").read_text()).get("swing", {}).get("portfolio")
    )
    for job, source in plan_jobs(request):
        userdir = userdirs[job.name]
        results["runners"][job.name] = job_figures(
            job, userdir, splits, closes, starting_balance, request
        )
        if job.learns_portfolio and source is None:
            results["predictions"][job.name] = prediction_scores(
                userdir / "models",
                request.datadir,
                request.walk_forward.train_days,
                portfolio.meta_horizon_days * 24,
                2 * float(base.get("fee") or 0.0),
            )
    results["seed_spread"] = seed_spread(results, SEED_FIGURES)
    if request.trials:
        deflate(results, request.trials)
    (request.output / "evaluation.json").write_text(json.dumps(results, indent=2, default=str))
    (request.output / "evaluation.md").write_text(continuous_markdown(results))
    columns = [(key, title) for key, title, _ in TABLE_COLUMNS]
    write_evaluation_report(results, columns, request.output / "evaluation.html")
    return results

"""Steps 1, 2 and 4 of ``selftrain``: collect data, evaluate the production bot, train a
challenger with a real walk-forward backtest."""

from __future__ import annotations

import json
import logging
import subprocess
import time
from dataclasses import asdict
from datetime import datetime

import pandas as pd

from freqai_swing.equity import daily_equity, load_closes, load_trades
from freqai_swing.lifecycle.evaluation import window_performance
from freqai_swing.lifecycle.promotion import Performance, regime_change
from freqai_swing.lifecycle.registry import ModelRegistry, ModelVersion
from freqai_swing.walk_forward import Split, WalkForwardSettings, equity_figures, trade_figures
from tooling.evaluate import CONFIG_DIR, EvaluationRequest, Runner, backtest_split
from tooling.offline import REPO_ROOT, bundle_environment, freqtrade_executable
from tooling.selftrain_bots import bot_is_up, closed_trades
from tooling.selftrain_context import SelfTrainContext

logger = logging.getLogger(__name__)


def collect_data(context: SelfTrainContext) -> None:
    """Step 1: ``freqtrade download-data`` when online; offline there is nothing to fetch."""
    if not context.online:
        logger.info("Step 1: offline, no data to collect.")
        return
    days = context.settings.train_days + context.settings.validation_days + 60
    arguments = ["download-data", "--timeframes", "1h", "4h", "1d", "--days", str(days)]
    for config in context.configs:
        arguments += ["-c", str(config)]
    arguments += ["--datadir", str(context.datadir), "--pairs", *context.pairs]
    completed = subprocess.run(  # noqa: S603
        [freqtrade_executable(), *arguments],
        cwd=REPO_ROOT,
        env=bundle_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        logger.warning(
            "Step 1: download-data failed; going on with the candles on disk:\n%s",
            completed.stderr[-2000:],
        )


def evaluate_production(
    context: SelfTrainContext, now: datetime
) -> tuple[Performance | None, str | None]:
    """Step 2: the production bot's last ``evaluation_days`` against buy and hold, and the
    market's regime."""
    settings = context.settings
    closes = load_closes(context.datadir, context.pairs)
    market = load_closes(context.datadir, [_market_pair(context)]).iloc[:, 0]
    regime = regime_change(market.resample("1D").last().dropna(), now, settings)
    if not bot_is_up(context.production):
        return None, regime
    start = pd.Timestamp(now) - pd.Timedelta(days=settings.evaluation_days)
    trades = closed_trades(context.production, start.to_pydatetime())
    performance = window_performance(
        trades, closes, now, settings.evaluation_days, context.production.wallet
    )
    return performance, regime


def _market_pair(context: SelfTrainContext) -> str:
    from freqai_swing.settings import load_swing_settings

    config = json.loads((CONFIG_DIR / "freqai.json").read_text())
    return load_swing_settings(config).market_pair


def train_challenger(context: SelfTrainContext, registry: ModelRegistry) -> ModelVersion:
    """Step 4: FreqAI trains on ``train_days`` and is backtested on the ``validation_days``
    after them (one walk-forward split through ``tooling.evaluate``); the model is registered
    with its validation figures as a ``testing`` version."""
    from freqai_swing.settings import load_swing_settings

    settings = context.settings
    closes = load_closes(context.datadir, context.pairs)
    # the last whole day of data up to now (a replayed clock trains on the replayed past)
    end = min(closes.index[-1], pd.Timestamp(context.clock())).floor("D")
    split = Split(
        0,
        end - pd.Timedelta(days=settings.validation_days + settings.train_days),
        end - pd.Timedelta(days=settings.validation_days),
        end,
    )
    output = context.state_dir / "training" / f"{end:%Y%m%d}-{int(time.time())}"
    overlay = output / "selftrain-training.json"
    output.mkdir(parents=True, exist_ok=True)
    overlay.write_text(
        json.dumps(
            {
                "freqai": {"save_backtest_models": True},
                "swing": {"ensemble": {"optuna": {"enabled": settings.optuna}}},
                # a backtest starts no API; the bots' configs demand credentials all the same
                "api_server": {"enabled": False, "username": "unused", "password": "unused"},
                # the bots' SpreadFilter needs live tickers, which a backtest does not have
                "pairlists": [{"method": "StaticPairList"}],
            }
        )
    )
    runner = Runner(
        "challenger",
        "SwingClassifierStrategy",
        context.freqaimodel,
        (*[str(c) for c in context.configs], str(overlay)),
    )
    labels = load_swing_settings(json.loads((CONFIG_DIR / "freqai.json").read_text())).labels
    walk = WalkForwardSettings(1, settings.train_days, settings.validation_days, 1)
    request = EvaluationRequest(
        ("challenger",), context.pairs, walk, end, context.datadir, output, labels
    )
    if context.offline_overlay is None:
        raise ValueError("training needs an exchange overlay (offline_overlay)")
    userdir = backtest_split(runner, split, request, context.offline_overlay)
    trades = load_trades(userdir)
    curve = daily_equity(trades, closes, split, context.production.wallet)
    metrics = {**equity_figures(curve), **trade_figures(trades, split.test_start, end)}
    folders = [p for p in (userdir / "models").iterdir() if p.is_dir()]
    if len(folders) != 1:
        raise RuntimeError(f"expected one FreqAI model folder in {userdir / 'models'}")
    version = ModelVersion(
        version_id=f"{folders[0].name}@{int(split.test_start.timestamp())}",
        identifier=folders[0].name,
        trained_at=split.test_start.to_pydatetime(),
        train_start=split.train_start.to_pydatetime(),
        train_end=split.test_start.to_pydatetime(),
        parameters={
            "freqaimodel": context.freqaimodel,
            "configs": [str(c) for c in runner.configs],
            "pairs": list(context.pairs),
            "selftrain": asdict(settings),
        },
        metrics={**metrics, "validation": split.timerange},
    )
    return registry.register(version, folders[0], at=context.clock())

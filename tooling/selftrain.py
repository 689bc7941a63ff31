"""``freqai-swing selftrain``: one pass of the seed's seven self-training steps.

The production (champion) bot and the challenger bot are ordinary ``freqtrade trade`` processes
in dry-run (the production bot may be live), each with its own user directory, database and
REST API. This command never trades itself: it trains with ``freqtrade backtesting`` (FreqAI's
own training loop, walk-forward validated), records versions in the :class:`ModelRegistry`,
starts and stops the challenger bot, and changes the production bot only by installing a
registry checkpoint into its ``models/<identifier>`` and asking it to reload its config
(``POST /api/v1/reload_config``), after which its FreqAI loads the new model from disk.

Both bots run with ``live_retrain_hours`` set beyond reach and ``expiration_hours`` 0, so that
they trade exactly the model the registry gave them: retraining is this command's decision.
A pass is idempotent and crash safe: every decision is one registry transaction, and the
small state file (challenger start, equity history) is replaced atomically.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from freqai_swing.equity import daily_equity, load_closes
from freqai_swing.lifecycle.config import SelfTrainSettings
from freqai_swing.lifecycle.promotion import (
    Performance,
    promotion_test,
    regime_change,
    retrain_reasons,
    should_roll_back,
)
from freqai_swing.lifecycle.registry import ModelRegistry, ModelVersion, install_checkpoint
from freqai_swing.lifecycle.simulation import reject_reason
from freqai_swing.walk_forward import Split, WalkForwardSettings, equity_figures, trade_figures
from tooling.evaluate import (
    CONFIG_DIR,
    EvaluationRequest,
    Runner,
    backtest_split,
    load_trades,
)
from tooling.offline import REPO_ROOT, bundle_arguments, bundle_environment, freqtrade_executable

logger = logging.getLogger(__name__)

#: The lifecycle's FreqAI settings for both bots (``live_retrain_hours`` beyond any run,
#: ``expiration_hours`` 0): FreqAI never retrains on its own and trades the registry's model.
#: The production bot must be started with it too (docs/selftrain.md).
SELFTRAIN_CONFIG = CONFIG_DIR / "selftrain.json"


@dataclass(frozen=True)
class BotSettings:
    """How to reach and configure one of the two bots."""

    name: str
    userdir: Path
    api_url: str
    username: str
    password: str
    configs: tuple[Path, ...]
    wallet: float
    #: the challenger is started and stopped by selftrain; the production bot is a service
    managed: bool = False


@dataclass(frozen=True)
class SelfTrainContext:
    """Everything one pass needs; built by the CLI or by a test."""

    settings: SelfTrainSettings
    state_dir: Path
    configs: tuple[Path, ...]
    pairs: tuple[str, ...]
    datadir: Path
    production: BotSettings
    challenger: BotSettings
    offline_overlay: Path | None = None
    online: bool = False
    warehouse: Path | None = None
    environment: dict[str, str] = field(default_factory=dict)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    freqaimodel: str = "SwingEnsembleClassifier"


# -- state -------------------------------------------------------------------------------------


def _state_path(context: SelfTrainContext) -> Path:
    return context.state_dir / "selftrain-state.json"


def load_state(context: SelfTrainContext) -> dict[str, Any]:
    path = _state_path(context)
    return json.loads(path.read_text()) if path.is_file() else {}


def save_state(context: SelfTrainContext, state: dict[str, Any]) -> None:
    """Write to a temporary file and rename it over the state: never half a file."""
    path = _state_path(context)
    temporary = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    temporary.write_text(json.dumps(state, indent=2, default=str))
    temporary.replace(path)


# -- the bots ----------------------------------------------------------------------------------


def bot_identifier(configs: Sequence[Path], userdir: Path) -> str:
    """The FreqAI identifier a bot with these configs uses (the strategy's own derivation)."""
    from freqtrade.configuration import Configuration
    from freqtrade.enums import RunMode

    from freqai_swing.settings import settings_fingerprint

    arguments = {"config": [str(c) for c in configs], "user_data_dir": str(userdir)}
    config = Configuration(arguments, RunMode.DRY_RUN).get_config()
    base = str(config["freqai"].get("identifier", "swing"))
    return f"{base}-{settings_fingerprint(config)}"


def bot_overlay(context: SelfTrainContext, bot: BotSettings) -> Path:
    """The lifecycle's overlay of a bot: its wallet, database, API port; dry-run for the
    challenger. Nothing in it shapes the FreqAI identifier."""
    port = int(bot.api_url.rsplit(":", 1)[1].split("/")[0])
    overlay: dict[str, Any] = {
        "exchange": {"pair_whitelist": list(context.pairs)},
        "dry_run_wallet": bot.wallet,
        "db_url": f"sqlite:///{bot.userdir / 'trades.sqlite'}",
        "api_server": {"enabled": True, "listen_port": port},
        "bot_name": f"freqai-swing-{bot.name}",
        # the model class the registry's checkpoints were trained with
        "freqaimodel": context.freqaimodel,
    }
    if bot.name == "challenger":
        overlay["dry_run"] = True  # a challenger never places a real-money order
    path = bot.userdir / "selftrain-overlay.json"
    bot.userdir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(overlay, indent=2))
    return path


def bot_configs(context: SelfTrainContext, bot: BotSettings) -> list[Path]:
    configs = list(bot.configs)
    if SELFTRAIN_CONFIG not in configs:
        configs.append(SELFTRAIN_CONFIG)
    configs.append(bot_overlay(context, bot))
    if context.offline_overlay is not None:
        configs.append(context.offline_overlay)
    return configs


def client(bot: BotSettings) -> Any:  # noqa: ANN401 - freqtrade_client.FtRestClient
    from freqtrade_client import FtRestClient

    return FtRestClient(bot.api_url, bot.username, bot.password, timeout=90)


def bot_is_up(bot: BotSettings) -> bool:
    try:
        return client(bot).ping() == {"status": "pong"}
    except Exception:  # noqa: BLE001 - any failure means "not up"
        return False


def start_bot(context: SelfTrainContext, bot: BotSettings, version: ModelVersion) -> int:
    """Install ``version`` into the bot's models folder and start ``freqtrade trade``."""
    configs = bot_configs(context, bot)
    for folder in ("models", "logs"):
        (bot.userdir / folder).mkdir(parents=True, exist_ok=True)
    identifier = bot_identifier(configs, bot.userdir)
    install_checkpoint(version, bot.userdir / "models", identifier)
    arguments = ["trade"]
    for config in configs:
        arguments += ["-c", str(config)]
    arguments += ["--userdir", str(bot.userdir), "--datadir", str(bot.userdir / "data")]
    environment = dict(context.environment or bundle_environment())
    if bot.name == "challenger":
        # never a real-money order: freqtrade's --dry-run wins over configs and the environment
        # (and drops the exchange secrets); FREQTRADE__DRY_RUN could otherwise override a config
        arguments.append("--dry-run")
        environment.pop("FREQTRADE__DRY_RUN", None)
    (bot.userdir / "data").mkdir(exist_ok=True)
    command = [freqtrade_executable(), *arguments, *bundle_arguments("trade", arguments)]
    log = (bot.userdir / "bot.log").open("ab")
    process = subprocess.Popen(  # noqa: S603 - our own freqtrade
        command,
        cwd=REPO_ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    (bot.userdir / "bot.pid").write_text(str(process.pid))
    logger.info("Started the %s bot (pid %d) on %s.", bot.name, process.pid, version.version_id)
    return process.pid


def stop_bot(bot: BotSettings) -> None:
    """Stop a bot this command started (its own process group, by the recorded pid)."""
    pid_file = bot.userdir / "bot.pid"
    if not pid_file.is_file():
        return
    pid = int(pid_file.read_text())
    try:
        os.killpg(pid, signal.SIGTERM)
        for _ in range(60):
            os.killpg(pid, 0)
            time.sleep(0.5)
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    pid_file.unlink(missing_ok=True)
    logger.info("Stopped the %s bot (pid %d).", bot.name, pid)


def switch_production(context: SelfTrainContext, version: ModelVersion) -> None:
    """Install ``version`` into the production bot and make it reload (FreqAI reloads from
    disk on a config reload)."""
    bot = context.production
    identifier = bot_identifier(bot_configs(context, bot), bot.userdir)
    install_checkpoint(version, bot.userdir / "models", identifier)
    if bot_is_up(bot):
        client(bot).reload_config()
        logger.info("Production bot reloads with %s.", version.version_id)
    else:
        logger.warning(
            "Production bot not reachable at %s; it loads %s at its next start.",
            bot.api_url,
            version.version_id,
        )


def closed_trades(bot: BotSettings, since: datetime | None = None) -> pd.DataFrame:
    """Closed trades of a bot from its REST API (``/api/v1/trades``), oldest first."""
    rows: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = client(bot).trades(limit=500, offset=offset)
        batch = page.get("trades", []) if isinstance(page, dict) else []
        rows += batch
        offset += len(batch)
        if len(batch) < 500:
            break
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=["open_date", "close_date", "profit_ratio", "profit_abs"])
    frame = frame[~frame["is_open"].astype(bool)]
    for column in ("open_date", "close_date"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    if since is not None:
        frame = frame[frame["open_date"] >= pd.Timestamp(since)]
    return frame.sort_values("close_date").reset_index(drop=True)


def bot_equity(bot: BotSettings) -> float | None:
    """The bot's wallet value now (closed profit plus open positions at market)."""
    try:
        profit = client(bot).profit()
    except Exception:  # noqa: BLE001
        return None
    if not isinstance(profit, dict) or "profit_all_coin" not in profit:
        return None
    return bot.wallet + float(profit["profit_all_coin"])


# -- announcements -----------------------------------------------------------------------------


def announce(context: SelfTrainContext, message: str) -> None:
    """Log the decision and queue it for the production bot's messaging (Telegram, webhooks):
    its strategy sends each queued line once through ``dp.send_msg``."""
    logger.info("%s", message)
    queue = context.production.userdir / "selftrain-announcements.jsonl"
    queue.parent.mkdir(parents=True, exist_ok=True)
    with queue.open("a") as stream:
        stream.write(json.dumps({"at": context.clock().isoformat(), "message": message}) + "\n")


def _sync(context: SelfTrainContext, registry: ModelRegistry) -> None:
    if context.warehouse is not None:
        registry.sync_warehouse(context.warehouse)


# -- the seven steps ---------------------------------------------------------------------------


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
    split = Split(0, start, start.floor("D"), pd.Timestamp(now).floor("D"))
    curve = daily_equity(trades, closes, split, context.production.wallet)
    figures = equity_figures(curve) if len(curve) > 1 else {}
    trade_stats = trade_figures(trades, split.test_start, split.test_end)
    window = closes[(closes.index >= split.test_start) & (closes.index <= split.test_end)]
    hold = float((window.iloc[-1] / window.iloc[0]).mean() - 1) if len(window) > 1 else 0.0
    return (
        Performance(
            trades=int(trade_stats["trades"] or 0),
            sharpe=float(figures.get("sharpe", 0.0)),
            max_drawdown=float(figures.get("max_drawdown", 0.0)),
            win_rate=float(trade_stats["win_rate"] or 0.0),
            total_return=float(figures.get("total_return", 0.0)),
            buy_and_hold_return=hold,
        ),
        regime,
    )


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


def run_pass(  # noqa: C901 - the seven steps in order
    context: SelfTrainContext, force_retrain: bool = False, allow_training: bool = True
) -> list[str]:
    """One pass of the seven steps; returns the decisions taken (also logged and recorded).

    ``allow_training`` False runs only the A/B, promotion and rollback steps.
    """
    settings = context.settings
    context.state_dir.mkdir(parents=True, exist_ok=True)
    now = context.clock()
    decisions: list[str] = []
    with ModelRegistry(context.state_dir / "registry", settings.keep_checkpoints) as registry:
        state = load_state(context)
        collect_data(context)
        production = registry.production()
        # a pass killed between a promotion's commit and the bot switch: finish the switch
        if production is not None and state.get("installed") != production.version_id:
            switch_production(context, production)
            state["installed"] = production.version_id
            save_state(context, state)
        # 7. rollback
        equity = bot_equity(context.production)
        if equity is not None:
            history = state.setdefault("equity", [])
            history.append([now.isoformat(), equity])
            save_state(context, state)
        if production is not None and registry.promoted_by_test():
            series = pd.Series(
                [value for _, value in state.get("equity", [])],
                index=pd.to_datetime([moment for moment, _ in state.get("equity", [])], utc=True),
            )
            roll, drawdown = should_roll_back(series, production.promoted_at, settings)
            if roll and registry.previous_champion() is not None:
                message = (
                    f"freqai-swing selftrain: rollback of {production.version_id}: "
                    f"drawdown {drawdown:.1%} since its promotion "
                    f"> {settings.rollback_drawdown:.0%}"
                )
                restored = registry.rollback(
                    {"drawdown_since_promotion": drawdown}, message, at=now
                )
                switch_production(context, restored)
                state["installed"] = restored.version_id
                save_state(context, state)
                announce(context, message)
                decisions.append("rollback")
                production = restored
        # 5./6. the A/B test of a challenger under test
        challengers = registry.challengers()
        if challengers and not state.get("challenger_since"):
            # a pass killed between registering a challenger and starting its bot: start it
            start_bot(context, context.challenger, challengers[-1])
            state["challenger_since"] = now.isoformat()
            save_state(context, state)
            challengers = []
        if challengers and state.get("challenger_since"):
            challenger = challengers[-1]
            since = datetime.fromisoformat(state["challenger_since"])
            mine = (
                closed_trades(context.challenger, since)
                if bot_is_up(context.challenger)
                else pd.DataFrame(columns=["profit_ratio"])
            )
            theirs = (
                closed_trades(context.production, since)
                if bot_is_up(context.production)
                else pd.DataFrame(columns=["profit_ratio"])
            )
            result = promotion_test(mine["profit_ratio"], theirs["profit_ratio"], settings)
            expired = now - since >= timedelta(days=settings.max_challenger_days)
            if result.promote:
                message = (
                    f"freqai-swing selftrain: promoted {challenger.version_id}: {result.reason}"
                )
                promoted = registry.promote(
                    challenger.version_id, result.figures(), message, at=now
                )
                stop_bot(context.challenger)
                switch_production(context, promoted)
                state.update(installed=promoted.version_id, challenger_since=None)
                save_state(context, state)
                announce(context, message)
                decisions.append("promote")
            elif len(mine) >= settings.min_challenger_trades or expired:
                message = (
                    f"freqai-swing selftrain: kept the champion, challenger "
                    f"{challenger.version_id} checkpointed: "
                    f"{reject_reason(result, expired, settings)}"
                )
                registry.reject(challenger.version_id, result.figures(), message, at=now)
                stop_bot(context.challenger)
                state["challenger_since"] = None
                save_state(context, state)
                announce(context, message)
                decisions.append("keep")
            else:
                registry.log(
                    "a/b",
                    f"challenger under test: {result.reason}",
                    result.figures(),
                    challenger.version_id,
                    at=now,
                )
                decisions.append("testing")
        # 2./3. evaluate and trigger
        if allow_training and not registry.challengers():
            performance, regime = evaluate_production(context, now)
            last = max(
                (v.registered_at for v in registry.versions() if v.registered_at), default=None
            )
            reasons = retrain_reasons(now, last, performance, regime, settings)
            if force_retrain:
                reasons.insert(0, "forced")
            figures = {
                "performance": performance.figures() if performance else None,
                "reasons": reasons,
            }
            if reasons:
                registry.log("trigger", "retrain: " + "; ".join(reasons), figures, at=now)
                # 4. train a challenger
                version = train_challenger(context, registry)
                registry.prune()
                if version.status != "testing":
                    # the same window as a recorded model: FreqAI trains the same model again
                    registry.log(
                        "no-new-model",
                        f"{version.version_id} is already recorded "
                        f"({version.status}); no new data since",
                        at=now,
                    )
                    decisions.append("no-new-model")
                elif registry.production() is None:
                    decisions.append("trained")
                    message = (
                        f"freqai-swing selftrain: first model {version.version_id} in production"
                    )
                    promoted = registry.promote(
                        version.version_id, version.metrics, message, at=now, kind="initial"
                    )
                    switch_production(context, promoted)
                    state["installed"] = promoted.version_id
                    save_state(context, state)
                    announce(context, message)
                    decisions.append("initial")
                else:
                    decisions.append("trained")
                    # 5. the challenger bot on paper, beside the champion
                    stop_bot(context.challenger)
                    start_bot(context, context.challenger, version)
                    state["challenger_since"] = now.isoformat()
                    save_state(context, state)
                    announce(
                        context,
                        f"freqai-swing selftrain: challenger {version.version_id} "
                        f"on paper ({'; '.join(reasons)})",
                    )
            else:
                registry.log("no-retrain", "no trigger", figures, at=now)
                decisions.append("no-retrain")
        _sync(context, registry)
    return decisions


def run_loop(context: SelfTrainContext, interval_seconds: float, passes: int | None = None) -> None:
    """``--loop``: a pass every ``interval_seconds`` (a failed pass is logged, not fatal)."""
    done = 0
    while passes is None or done < passes:
        try:
            run_pass(context)
        except Exception:
            logger.exception("selftrain pass failed; retrying at the next interval")
        done += 1
        if passes is None or done < passes:
            time.sleep(interval_seconds)


def with_settings(context: SelfTrainContext, **changes: Any) -> SelfTrainContext:
    return replace(context, settings=replace(context.settings, **changes))


def context_from_arguments(
    args: Any,  # noqa: ANN401 - the CLI's argparse.Namespace
    settings: SelfTrainSettings,
    configs: Sequence[Path],
    pairs: Sequence[str],
) -> SelfTrainContext:
    """The pass's context from ``freqai-swing selftrain``'s options and the bots' configs."""
    from tooling.exchanges import configured_exchange, write_exchange_overlay
    from tooling.secrets_env import API_PASSWORD, API_USERNAME, load_env_file

    environment = load_env_file(args.env_file, bundle_environment())
    wallet = 0.0
    for path in configs:
        wallet = float(json.loads(Path(path).read_text()).get("dry_run_wallet", wallet))
    state_dir = Path(args.state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    offline = None
    if args.exchange_url:
        # The bots' own exchange (Binance or Bybit); the URL is the server's root or its /api/v3.
        exchange = configured_exchange([f"--config={path}" for path in configs], REPO_ROOT)
        offline = write_exchange_overlay(
            state_dir / "offline-overlay.json", exchange, args.exchange_url
        )
    credentials = {
        "username": environment.get(API_USERNAME, ""),
        "password": environment.get(API_PASSWORD, ""),
    }
    return SelfTrainContext(
        settings=settings,
        state_dir=state_dir,
        configs=tuple(Path(c) for c in configs),
        pairs=tuple(pairs),
        datadir=Path(args.datadir),
        production=BotSettings(
            "production",
            Path(args.production_userdir),
            args.production_url,
            configs=tuple(Path(c) for c in configs),
            wallet=wallet,
            **credentials,
        ),
        challenger=BotSettings(
            "challenger",
            state_dir / "challenger",
            args.challenger_url,
            configs=tuple(Path(c) for c in configs),
            wallet=wallet * settings.challenger_capital_fraction,
            managed=True,
            **credentials,
        ),
        offline_overlay=offline,
        online=bool(args.online),
        warehouse=args.warehouse,
        environment=environment,
        freqaimodel=args.freqaimodel or "SwingEnsembleClassifier",
    )

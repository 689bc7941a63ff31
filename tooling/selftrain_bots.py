"""The two bots of ``selftrain``: start, stop, install a checkpoint, read trades and equity
through the REST API, and queue announcements for the production bot's messaging."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from freqai_swing.lifecycle.registry import ModelVersion, install_checkpoint
from tooling.offline import REPO_ROOT, bundle_arguments, bundle_environment, freqtrade_executable
from tooling.selftrain_context import SELFTRAIN_CONFIG, BotSettings, SelfTrainContext

logger = logging.getLogger(__name__)


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
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
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


def announce(context: SelfTrainContext, message: str) -> None:
    """Log the decision and queue it for the production bot's messaging (Telegram, webhooks):
    its strategy sends each queued line once through ``dp.send_msg``."""
    logger.info("%s", message)
    queue = context.production.userdir / "selftrain-announcements.jsonl"
    queue.parent.mkdir(parents=True, exist_ok=True)
    with queue.open("a") as stream:
        stream.write(json.dumps({"at": context.clock().isoformat(), "message": message}) + "\n")

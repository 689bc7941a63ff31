"""End to end: ``selftrain`` passes with two real dry-run bots on the replayed local exchange.

Pass 1 (forced) trains the first model with a real walk-forward backtest and installs it into
the production bot's folder before the bot starts; the bot then trades that model without
training one itself. Pass 2 (forced) trains a challenger and starts it as a second
``freqtrade trade`` in dry-run with 20 % of the paper wallet. Pass 3 runs the promotion test on
both bots' trades from their REST APIs and records the decision in the registry and the
warehouse, and stops the challenger. Replayed time from 2024-02-20, one 1h candle per 3 s.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests

from freqai_swing.lifecycle.config import SelfTrainSettings
from freqai_swing.lifecycle.registry import ModelRegistry
from tests.conftest import CONFIG_DIR, SAMPLE_DATADIR
from tests.support.paper_bot import free_port, wait_for
from tooling.local_exchange import (
    LocalExchange,
    ReplayClock,
    now_ms,
    parse_replay_start,
    write_offline_overlay,
)
from tooling.offline import bundle_environment
from tooling.replay import replay_environment
from tooling.secrets_env import API_PASSWORD, API_USERNAME, init_secrets, load_env_file
from tooling.selftrain import (
    BotSettings,
    SelfTrainContext,
    bot_is_up,
    client,
    run_pass,
    start_bot,
    stop_bot,
)

pytestmark = pytest.mark.slow

REPLAY_START = "2024-02-20"
PAIRS = ("ETH/USDT", "SOL/USDT")


def answer(call: Callable[[], Any], bot: BotSettings) -> Any:
    """A REST answer of a bot that may be busy loading its model (a timeout: ask again)."""

    def attempt() -> Any:
        try:
            return call()
        except requests.RequestException:
            return None

    return wait_for(attempt, 120, f"an answer of the {bot.name} bot", bot.userdir / "bot.log")


def test_two_dry_run_bots_forced_retrain_and_a_recorded_decision(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    init_secrets(env_file)
    secrets = load_env_file(env_file, {})
    small = tmp_path / "small.json"
    small.write_text(
        json.dumps(
            {
                "max_open_trades": 2,
                "entry_pricing": {"price_side": "other"},
                "exit_pricing": {"price_side": "other"},
                "freqai": {
                    "feature_parameters": {"indicator_periods_candles": [12]},
                    "model_training_parameters": {"xgboost": {"n_estimators": 40, "max_depth": 4}},
                },
                "swing": {"model": {"min_validation_skill": -1.0}},
            }
        )
    )
    configs = tuple(CONFIG_DIR / n for n in ("base.json", "freqai.json", "dry-run.json"))
    configs = (*configs, small)
    clock = ReplayClock(parse_replay_start(REPLAY_START), 3.0, now_ms())
    settings = SelfTrainSettings(
        train_days=60,
        validation_days=7,
        optuna=False,
        min_challenger_trades=2,
        max_challenger_days=0,  # pass 3 decides whatever the trade count
    )
    with LocalExchange(SAMPLE_DATADIR, replay=clock, clock_file=tmp_path / "clock") as exchange:
        offline = write_offline_overlay(tmp_path / "offline.json", exchange.api_url)
        environment = replay_environment(
            tmp_path / "clock", load_env_file(env_file, bundle_environment())
        )
        credentials = {"username": secrets[API_USERNAME], "password": secrets[API_PASSWORD]}
        production = BotSettings(
            "production", tmp_path / "production", f"http://127.0.0.1:{free_port()}",
            configs=configs, wallet=10_000.0, **credentials,
        )  # fmt: skip
        challenger = BotSettings(
            "challenger", tmp_path / "state" / "challenger", f"http://127.0.0.1:{free_port()}",
            configs=configs, wallet=2_000.0, managed=True, **credentials,
        )  # fmt: skip
        context = SelfTrainContext(
            settings=settings,
            state_dir=tmp_path / "state",
            configs=configs,
            pairs=PAIRS,
            datadir=SAMPLE_DATADIR,
            production=production,
            challenger=challenger,
            offline_overlay=offline,
            warehouse=tmp_path / "warehouse.duckdb",
            environment=environment,
            clock=lambda: datetime.fromtimestamp(clock.now_ms() / 1000, tz=UTC),
            freqaimodel="SwingXGBoostClassifier",
        )
        try:
            # pass 1: the first model goes to production (the bot is not running yet)
            assert run_pass(context, force_retrain=True) == ["trained", "initial"]
            with ModelRegistry(context.state_dir / "registry") as registry:
                champion = registry.production()
            assert champion is not None and champion.metrics["validation"]
            start_bot(context, production, champion)
            wait_for(lambda: bot_is_up(production), 120, "the production bot",
                     production.userdir / "bot.log")  # fmt: skip
            installed = next(p for p in (production.userdir / "models").iterdir() if p.is_dir())
            assert (
                json.loads((installed / "selftrain_version.json").read_text())["version_id"]
                == champion.version_id
            )

            # it predicts with the installed model and never trains its own
            def predicting() -> bool:
                try:
                    candles = client(production).pair_candles("ETH/USDT", "1h", limit=3)
                except requests.RequestException:  # busy loading: ask again
                    return False
                columns = candles.get("columns", [])
                return "do_predict" in columns and bool(candles.get("data"))

            wait_for(predicting, 120, "predictions of the production bot",
                     production.userdir / "bot.log")  # fmt: skip
            log = (production.userdir / "bot.log").read_text(errors="replace")
            assert "xgboost fitted on" not in log

            # pass 2, on a later replayed day (new data): a forced retrain starts the
            # challenger bot, in dry-run on 20 % of the paper wallet
            first_day = context.clock().date()
            wait_for(lambda: context.clock().date() > first_day, 120, "a new replayed day",
                     production.userdir / "bot.log")  # fmt: skip
            assert run_pass(context, force_retrain=True) == ["trained"]
            wait_for(lambda: bot_is_up(challenger), 120, "the challenger bot",
                     challenger.userdir / "bot.log")  # fmt: skip
            shown = answer(lambda: client(challenger).show_config(), challenger)
            assert shown["dry_run"] is True
            # 20 % of the paper wallet, of which base.json's tradable_balance_ratio (0.99)
            balance = answer(lambda: client(challenger).balance(), challenger)
            assert balance["starting_capital"] == pytest.approx(1_980.0)
            with ModelRegistry(context.state_dir / "registry") as registry:
                testing = registry.challengers()
            assert len(testing) == 1

            # pass 3: the A/B decision, from both bots' REST APIs
            decisions = run_pass(context, allow_training=False)
            assert decisions and decisions[0] in {"promote", "keep"}
            assert not bot_is_up(challenger)
            with ModelRegistry(context.state_dir / "registry") as registry:
                decision = registry.decisions()[-1]
                versions = {v.version_id: v.status for v in registry.versions()}
            assert decision.kind == decisions[0] and decision.version_id == testing[0].version_id
            assert {"challenger_trades", "champion_trades", "p_value"} <= set(decision.figures)
            assert list(versions.values()).count("production") == 1
            with duckdb.connect(str(context.warehouse), read_only=True) as connection:
                rows = dict(
                    connection.execute(
                        "SELECT model_version, status FROM model_performance "
                        "WHERE status_source = 'registry'"
                    ).fetchall()
                )
            assert rows == versions
            with duckdb.connect(str(context.warehouse), read_only=True) as connection:
                logged = connection.execute(
                    "SELECT kind, version_id, figures FROM selftrain_decisions "
                    "ORDER BY decision_id DESC LIMIT 1"
                ).fetchone()
            assert logged[:2] == (decision.kind, decision.version_id)
            assert json.loads(logged[2])["p_value"] == decision.figures["p_value"]
            queued = (production.userdir / "selftrain-announcements.jsonl").read_text()
            assert testing[0].version_id in queued.splitlines()[-1]
        finally:
            stop_bot(challenger)
            stop_bot(production)
            assert not os.path.exists(production.userdir / "bot.pid")

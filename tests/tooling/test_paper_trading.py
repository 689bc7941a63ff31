"""Paper trading end to end: the real ``freqtrade trade --dry-run`` loop on the replay exchange.

One bot for the module (FreqAI trains in its background thread, predictions arrive, trades open
and close, the SQLite database fills), driven and read through the REST API with
``freqtrade-client``, its Telegram routed to a local fake Bot API server, then killed with
SIGKILL and restarted on the same database. Replayed time: one 1h candle every 10 s from
2024-02-20 (see docs/operations.md); the whole module takes one to two minutes.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from freqtrade_client import FtRestClient

from tests.conftest import CONFIG_DIR
from tests.support.fake_telegram import FakeTelegram
from tests.support.paper_bot import PaperBot, force_round_trip, replayed_dry_run, wait_for

pytestmark = pytest.mark.slow

# Midnight after eight candles: the daily summary is sent at the bot's first loop of a new day,
# so a start-up longer than eight candles defers it by a replayed day (the test waits that long).
REPLAY_START = "2024-02-20T16:00"
# A candle's loop costs the bot about 0.3 s of CPU for 2 pairs and its first training imports
# torch; 10 s per candle leaves room on a loaded 2-core machine (at 5 s, with the clock file
# read on every clock call, the bot fell behind: stale candles and no training in 24 candles).
SECONDS_PER_CANDLE = 10.0
PAIRS = ["ETH/USDT", "SOL/USDT"]
CHAT_ID = "777000"
TELEGRAM_ROUTE = Path(__file__).resolve().parents[1] / "support" / "telegram_route"


@pytest.fixture(scope="module")
def paper_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PaperBot]:
    overlay = {
        "exchange": {"pair_whitelist": PAIRS},
        "max_open_trades": 2,
        # Test-only: forceenter for the REST checks, and orders priced to fill at once.
        "force_entry_enable": True,
        "entry_pricing": {"price_side": "other"},
        "exit_pricing": {"price_side": "other"},
        "freqai": {
            "train_period_days": 60,
            "feature_parameters": {"indicator_periods_candles": [12]},
            "model_training_parameters": {"xgboost": {"n_estimators": 40, "max_depth": 4}},
        },
        # Small models rarely beat the class prior on 60 days: let their predictions through
        # so the strategy itself can trade in a three-minute run.
        "swing": {"model": {"min_validation_skill": -1.0}},
    }
    with (
        FakeTelegram() as telegram,
        replayed_dry_run(
            tmp_path_factory.mktemp("paper"),
            [CONFIG_DIR / name for name in ("base.json", "freqai.json", "dry-run.json")],
            overlay,
            REPLAY_START,
            SECONDS_PER_CANDLE,
            environment={
                "FREQAI_SWING_FAKE_TELEGRAM": telegram.url,
                "FREQTRADE__TELEGRAM__ENABLED": "true",
                "FREQTRADE__TELEGRAM__TOKEN": "123456:fake-token-for-the-local-server",
                "FREQTRADE__TELEGRAM__CHAT_ID": CHAT_ID,
            },
            python_path=[TELEGRAM_ROUTE],
            telegram=telegram,
        ) as bot,
    ):
        yield bot


def test_unauthenticated_calls_are_refused(paper_bot: PaperBot) -> None:
    for path in ("status", "profit", "trades", "balance", "show_config"):
        response = requests.get(f"{paper_bot.api_url}/api/v1/{path}", timeout=10)
        assert response.status_code == 401, path
    wrong = FtRestClient(paper_bot.api_url, paper_bot.username, "not-the-password")
    assert wrong.status() == {"detail": "Unauthorized"}
    forced = requests.post(
        f"{paper_bot.api_url}/api/v1/forceenter",
        json={"pair": "ETH/USDT", "side": "long"},
        timeout=10,
    )
    assert forced.status_code == 401
    # the bot's database exists from its start on: a refused call opened no trade in it
    assert paper_bot.db.is_file(), f"no trade database at {paper_bot.db}"
    assert paper_bot.rows("SELECT COUNT(*) FROM trades") == [(0,)]


def test_freqai_trains_in_the_loop_and_predictions_arrive(paper_bot: PaperBot) -> None:
    wait_for(
        lambda: all(f"{pair}: xgboost fitted on" in paper_bot.output() for pair in PAIRS),
        240,
        "FreqAI to train both pairs",
        paper_bot.log,
        paper_bot.pid,
    )
    client = paper_bot.client()

    def predicted() -> bool:
        candles = client.pair_candles("ETH/USDT", "1h", limit=5)
        columns = candles.get("columns", [])
        if "do_predict" not in columns or not candles.get("data"):
            return False
        row = dict(zip(columns, candles["data"][-1], strict=True))
        return row["do_predict"] == 1 and all(
            row.get(f"{name}") is not None for name in ("down", "flat", "up")
        )

    wait_for(predicted, 60, "a prediction on the latest candle", paper_bot.log)


def test_trades_open_and_close_through_the_loop_and_the_api(paper_bot: PaperBot) -> None:
    client = paper_bot.client()
    trade_id = force_round_trip(paper_bot, "SOL/USDT")
    trades = client.trades()
    assert trades["total_trades"] >= 1
    closed = [trade for trade in trades["trades"] if trade["trade_id"] == trade_id][0]
    assert closed["exit_reason"] == "force_exit" and closed["close_rate"] > 0
    profit = client.profit()
    assert profit["closed_trade_count"] >= 1
    assert profit["first_trade_date"] and profit["latest_trade_date"]
    # The database holds the same, with dates of the replayed candles.
    rows = paper_bot.rows(f"SELECT pair, is_open, open_date FROM trades WHERE id = {trade_id}")
    assert rows[0][:2] == ("SOL/USDT", 0) and rows[0][2].startswith("2024-02-")
    sides = paper_bot.rows(f"SELECT ft_order_side FROM orders WHERE ft_trade_id = {trade_id}")
    assert sorted(side for (side,) in sides) == ["buy", "sell"]


def test_telegram_gets_freqtrade_and_bundle_messages(paper_bot: PaperBot) -> None:
    telegram = paper_bot.telegram
    assert "getMe" in telegram.methods(), "python-telegram-bot reached the fake server"
    # The replay crosses midnight after eight candles: the bundle's daily summary is due.
    wait_for(
        lambda: any("daily summary" in message.get("text", "") for message in telegram.messages()),
        26 * SECONDS_PER_CANDLE,  # within a replayed day after the bot's first loop
        "the daily summary",
        paper_bot.log,
        paper_bot.pid,
    )
    texts = [message.get("text", "") for message in telegram.messages()]
    chats = {str(message.get("chat_id")) for message in telegram.messages()}
    assert chats == {CHAT_ID}, "messages go to the configured chat only"
    assert any("model trained" in text or "model retrained" in text for text in texts), texts
    assert any("SOL/USDT" in text for text in texts), "freqtrade's own trade messages arrive"


def test_telegram_commands_answer_only_the_configured_chat(paper_bot: PaperBot) -> None:
    telegram = paper_bot.telegram
    stranger = 999001
    telegram.send_command(stranger, "/balance")
    telegram.send_command(int(CHAT_ID), "/balance")

    def answered() -> bool:
        return any(
            str(message.get("chat_id")) == CHAT_ID
            and "USDT" in message.get("text", "")
            and "Balance" in message.get("text", "")
            for message in telegram.messages()
        )

    wait_for(answered, 60, "the /balance answer", paper_bot.log, paper_bot.pid)
    assert all(str(message.get("chat_id")) == CHAT_ID for message in telegram.messages())
    assert f"Rejected unauthorized message from: {stranger}" in paper_bot.output()


def test_restart_after_kill_resumes_open_trades_without_duplicate_orders(
    paper_bot: PaperBot,
) -> None:
    client = paper_bot.client()
    opened = client.forceenter("ETH/USDT", "long")
    assert opened.get("pair") == "ETH/USDT", opened
    trade_id = opened["trade_id"]
    wait_for(
        lambda: client.trade(trade_id).get("has_open_orders") is False,
        30,
        "the entry to fill",
        paper_bot.log,
    )
    orders_before = paper_bot.rows(
        f"SELECT id, ft_order_side, status FROM orders WHERE ft_trade_id = {trade_id}"
    )
    paper_bot.kill(signal.SIGKILL)
    paper_bot.start()
    restarted = paper_bot.client()
    assert trade_id in [trade["trade_id"] for trade in restarted.status()]
    # The restarted loop runs over the open trade: two completed iterations (heartbeats).
    wait_for(
        lambda: paper_bot.log.read_text(errors="replace").count("Bot heartbeat") >= 2,
        120,
        "two loop iterations after the restart",
        paper_bot.log,
        paper_bot.pid,
    )
    entries = paper_bot.rows(
        f"SELECT id FROM orders WHERE ft_trade_id = {trade_id} AND ft_order_side = 'buy'"
    )
    assert len(entries) == 1 and entries[0][0] == orders_before[0][0], "no second entry order"
    open_per_pair = paper_bot.rows(
        "SELECT pair, COUNT(*) FROM trades WHERE is_open = 1 GROUP BY pair HAVING COUNT(*) > 1"
    )
    assert open_per_pair == [], "no pair holds two open trades"
    trade = restarted.trade(trade_id)
    if trade["is_open"]:
        assert restarted.forceexit(trade_id)["result"].startswith("Created exit order")
        wait_for(
            lambda: restarted.trade(trade_id).get("is_open") is False,
            30,
            "the exit after the restart",
            paper_bot.log,
        )
    exits = paper_bot.rows(
        f"SELECT COUNT(*) FROM orders WHERE ft_trade_id = {trade_id} AND ft_order_side = 'sell'"
    )
    assert exits == [(1,)], "exactly one exit order for the trade"

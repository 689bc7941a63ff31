"""Paper trading end to end: the real ``freqtrade trade --dry-run`` loop on the replay exchange.

One bot for the module (FreqAI trains in its background thread, predictions arrive, trades open
and close, the SQLite database fills), driven and read through the REST API with
``freqtrade-client``, its Telegram routed to a local fake Bot API server, then killed with
SIGKILL and restarted on the same database. Replayed time: one 1h candle every 10 s from
2024-02-20 (see docs/operations.md); the whole module takes one to two minutes.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from freqtrade_client import FtRestClient

from tests.conftest import CONFIG_DIR, REPO_ROOT, SAMPLE_DATADIR
from tests.support.fake_telegram import FakeTelegram
from tooling.local_exchange import (
    LocalExchange,
    ReplayClock,
    now_ms,
    parse_replay_start,
    write_offline_overlay,
)
from tooling.offline import bundle_arguments, bundle_environment, freqtrade_executable
from tooling.replay import replay_environment
from tooling.secrets_env import (
    API_PASSWORD,
    API_USERNAME,
    init_secrets,
    load_env_file,
)

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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(
    condition: Callable[[], Any], timeout: float, what: str, log: Path, pid: int | None = None
) -> Any:
    """Poll ``condition`` until it returns something truthy; fail with the bot's log tail.

    With ``pid`` the bot first dumps every thread's stack into its log (SIGUSR1, registered by
    the test-only sitecustomize), so a stall shows where it stands.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(1.0)
    if pid is not None:
        os.kill(pid, signal.SIGUSR1)
        time.sleep(2)
    tail = log.read_text(errors="replace")[-12000:] if log.is_file() else ""
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{tail}")


@dataclass
class PaperBot:
    """The running bot and everything around it."""

    folder: Path
    command: list[str]
    environment: dict[str, str]
    api_url: str
    username: str
    password: str
    exchange: LocalExchange
    telegram: FakeTelegram
    process: subprocess.Popen[bytes] | None = None
    starts: list[Path] = field(default_factory=list)

    @property
    def db(self) -> Path:
        return self.folder / "trades.sqlite"

    @property
    def log(self) -> Path:
        return self.starts[-1]

    def start(self) -> None:
        log = self.folder / f"bot-{len(self.starts)}.log"
        self.starts.append(log)
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                self.command,
                cwd=REPO_ROOT,
                env=self.environment,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(self.api_up, 90, "the REST API", log, self.process.pid)

    def api_up(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            pytest.fail(
                f"the bot exited with {self.process.returncode}:\n"
                + self.log.read_text(errors="replace")[-4000:]
            )
        try:
            return self.client().ping() == {"status": "pong"}
        except requests.RequestException:
            return False

    def client(self) -> FtRestClient:
        return FtRestClient(self.api_url, self.username, self.password, timeout=30)

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Kill the bot's process group (only what this fixture started)."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, sig)
        self.process.wait(timeout=30)

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        if not self.db.is_file():
            return []
        with sqlite3.connect(self.db) as connection:
            return connection.execute(query).fetchall()

    def output(self) -> str:
        return "\n".join(path.read_text(errors="replace") for path in self.starts)


@pytest.fixture(scope="module")
def paper_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PaperBot]:
    folder = tmp_path_factory.mktemp("paper")
    userdir, datadir = folder / "userdir", folder / "data"
    for path in (userdir / "models", userdir / "logs", datadir):
        path.mkdir(parents=True)
    env_file = folder / ".env"
    init_secrets(env_file)
    secrets = load_env_file(env_file, {})
    clock = ReplayClock(parse_replay_start(REPLAY_START), SECONDS_PER_CANDLE, now_ms())
    port = free_port()
    overlay = {
        "exchange": {"pair_whitelist": PAIRS},
        "db_url": f"sqlite:///{folder / 'trades.sqlite'}",
        "max_open_trades": 2,
        # Test-only: forceenter for the REST checks, and orders priced to fill at once.
        "force_entry_enable": True,
        "entry_pricing": {"price_side": "other"},
        "exit_pricing": {"price_side": "other"},
        "api_server": {"listen_port": port},
        "freqai": {
            "train_period_days": 60,
            "feature_parameters": {"indicator_periods_candles": [12]},
            "model_training_parameters": {"xgboost": {"n_estimators": 40, "max_depth": 4}},
        },
        # Small models rarely beat the class prior on 60 days: let their predictions through
        # so the strategy itself can trade in a three-minute run.
        "swing": {"model": {"min_validation_skill": -1.0}},
    }
    (folder / "overlay.json").write_text(json.dumps(overlay))
    with (
        LocalExchange(SAMPLE_DATADIR, replay=clock, clock_file=folder / "clock") as exchange,
        FakeTelegram() as telegram,
    ):
        write_offline_overlay(folder / "offline.json", exchange.api_url)
        environment = replay_environment(
            folder / "clock", load_env_file(env_file, bundle_environment())
        )
        environment["PYTHONPATH"] = os.pathsep.join(
            [str(TELEGRAM_ROUTE), environment["PYTHONPATH"]]
        )
        environment.update(
            FREQAI_SWING_FAKE_TELEGRAM=telegram.url,
            FREQTRADE__TELEGRAM__ENABLED="true",
            FREQTRADE__TELEGRAM__TOKEN="123456:fake-token-for-the-local-server",  # noqa: S106
            FREQTRADE__TELEGRAM__CHAT_ID=CHAT_ID,
        )
        arguments = ["trade"]
        for config in ("base.json", "freqai.json", "dry-run.json"):
            arguments += ["-c", str(CONFIG_DIR / config)]
        arguments += ["-c", str(folder / "overlay.json"), "-c", str(folder / "offline.json")]
        arguments += ["--userdir", str(userdir), "--datadir", str(datadir)]
        bot = PaperBot(
            folder=folder,
            command=[freqtrade_executable(), *arguments, *bundle_arguments("trade", arguments)],
            environment=environment,
            api_url=f"http://127.0.0.1:{port}",
            username=secrets[API_USERNAME],
            password=secrets[API_PASSWORD],
            exchange=exchange,
            telegram=telegram,
        )
        try:
            bot.start()
            yield bot
        finally:
            bot.kill()


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


def force_round_trip(bot: PaperBot, pair: str, attempts: int = 3) -> int:
    """Force a trade in and out through the REST API; return its id.

    The strategy's own exit signal may close the forced trade in the seconds between the fill and
    the force exit (a candle passes every 10 s): that trade is left closed and a new one is forced.
    """
    client = bot.client()
    for _ in range(attempts):
        opened = client.forceenter(pair, "long")
        assert opened.get("pair") == pair, opened
        trade_id = int(opened["trade_id"])
        wait_for(
            lambda trade_id=trade_id: client.trade(trade_id).get("has_open_orders") is False,
            30,
            "the forced entry to fill",
            bot.log,
        )
        status = client.status()
        balance = client.balance()
        exited = client.forceexit(trade_id)
        if exited == {"result": f"Created exit order for trade {trade_id}."}:
            assert trade_id in [trade["trade_id"] for trade in status]
            assert balance["currencies"] and any(
                item["currency"] == pair.split("/")[0] for item in balance["currencies"]
            )
            wait_for(
                lambda trade_id=trade_id: client.trade(trade_id).get("is_open") is False,
                30,
                "the forced exit",
                bot.log,
            )
            return trade_id
        # Only the race described above may refuse the force exit.
        assert client.trade(trade_id).get("exit_reason") not in (None, "force_exit"), exited
    pytest.fail(f"the strategy closed {attempts} forced trades before the force exit")


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

"""The go-live guard and the secrets set-up: each refusal, the override, and .env handling.

Paper records are written with freqtrade's own ORM: one-day BTC/SOL trades opened and closed at
real candle closes of the bundled sample, so the Sharpe ratio and drawdown come from real prices.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import CONFIG_DIR, REPO_ROOT, load_candles
from tooling.cli import main
from tooling.golive import (
    MIN_PAPER_DAYS,
    api_exposure,
    paper_record,
    record_shortfalls,
    secrets_in_configs,
)
from tooling.secrets_env import (
    API_JWT_SECRET,
    API_PASSWORD,
    API_WS_TOKEN,
    init_secrets,
    read_env_file,
)

WALLET = 10_000.0


def write_paper_db(path: Path, pair: str, start: str, end: str, stake: float) -> str:
    """Back-to-back one-day long trades on ``pair`` at real 1h closes, as a dry-run DB."""
    from freqtrade.persistence import Trade, init_db
    from freqtrade.persistence.models import ModelBase

    url = f"sqlite:///{path}"
    init_db(url)
    candles = load_candles(pair).set_index("date")["close"]
    candles = candles[
        (candles.index >= pd.Timestamp(start, tz="UTC"))
        & (candles.index < pd.Timestamp(end, tz="UTC"))
    ]
    daily = candles.iloc[::24]
    for (opened, open_rate), (closed, close_rate) in zip(
        daily.iloc[:-1].items(), daily.iloc[1:].items(), strict=True
    ):
        trade = Trade(
            pair=pair,
            stake_amount=stake,
            amount=stake / open_rate,
            open_rate=open_rate,
            open_date=opened.to_pydatetime(),
            fee_open=0.001,
            fee_close=0.001,
            exchange="binance",
            is_open=False,
            leverage=1.0,
            trading_mode="spot",
        )
        trade.close_rate = close_rate
        trade.close_date = closed.to_pydatetime()
        trade.exit_reason = "exit_signal"
        trade.close_profit_abs = trade.calc_profit(close_rate)
        trade.close_profit = trade.calc_profit_ratio(close_rate)
        trade.realized_profit = trade.close_profit_abs
        Trade.session.add(trade)
    Trade.commit()
    Trade.session.remove()
    ModelBase.metadata.bind = None
    return url


def test_configs_with_a_key_are_refused(tmp_path: Path) -> None:
    assert secrets_in_configs(sorted(CONFIG_DIR.glob("*.json"))) == [], "committed configs clean"
    leaky = json.loads((CONFIG_DIR / "live.json").read_text())
    leaky["exchange"]["key"] = "abc123"
    leaky["telegram"]["token"] = "123:xyz"
    path = tmp_path / "live.json"
    path.write_text(json.dumps(leaky))
    problems = secrets_in_configs([path])
    assert len(problems) == 2
    assert "exchange.key" in problems[0] and "FREQTRADE__EXCHANGE__KEY" in problems[0]
    assert "abc123" not in " ".join(problems), "the secret itself is never printed"


@pytest.mark.parametrize(
    ("host", "password", "refused"),
    [
        ("127.0.0.1", "short", False),  # loopback: only this machine can reach it
        ("0.0.0.0", "SuperSecurePassword", True),  # noqa: S104 - Freqtrade's sample password
        ("0.0.0.0", "short", True),  # noqa: S104
        ("192.168.1.5", "aaaaaaaaaaaaaaaaaaaa", True),  # long but one character
        ("0.0.0.0", "Zq3-vT9_mW2xK7pL5nR8", False),  # noqa: S104
    ],
)
def test_api_beyond_localhost_needs_a_strong_password(
    host: str, password: str, refused: bool
) -> None:
    config = {
        "api_server": {
            "enabled": True,
            "listen_ip_address": host,
            "password": password,
            "jwt_secret_key": "k" * 8 + "Zq3-vT9_mW2xK7pL5nR8",
        }
    }
    assert bool(api_exposure(config)) is refused


def test_paper_record_bar(tmp_path: Path) -> None:
    good = paper_record(
        write_paper_db(tmp_path / "good.sqlite", "BTC/USDT", "2023-10-01", "2023-12-31", 1000.0),
        WALLET,
    )
    assert good.days >= MIN_PAPER_DAYS and good.sharpe > 1.0 and good.drawdown < 0.15, good
    assert record_shortfalls(good) == []

    short = paper_record(
        write_paper_db(tmp_path / "short.sqlite", "BTC/USDT", "2023-10-01", "2023-10-12", 1000.0),
        WALLET,
    )
    assert [problem for problem in record_shortfalls(short) if "days" in problem]

    weak = paper_record(
        write_paper_db(tmp_path / "weak.sqlite", "BTC/USDT", "2024-04-01", "2024-06-29", 1000.0),
        WALLET,
    )
    assert weak.sharpe <= 1.0
    assert [problem for problem in record_shortfalls(weak) if "Sharpe" in problem]

    deep = paper_record(
        write_paper_db(tmp_path / "deep.sqlite", "SOL/USDT", "2024-03-18", "2024-05-01", WALLET),
        WALLET,
    )
    assert deep.drawdown >= 0.15
    assert [problem for problem in record_shortfalls(deep) if "drawdown" in problem]


def test_go_live_check_command_refuses_and_override_passes(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    init_secrets(env_file)
    good = write_paper_db(tmp_path / "good.sqlite", "BTC/USDT", "2023-10-01", "2023-12-31", 1000.0)
    short = write_paper_db(
        tmp_path / "short.sqlite", "BTC/USDT", "2023-10-01", "2023-10-12", 1000.0
    )
    base = ["go-live-check", "--env-file", str(env_file), "--paper-wallet", str(WALLET)]
    assert main([*base, "--paper-db", good]) == 0
    assert main([*base, "--paper-db", short]) == 3
    assert main([*base, "--paper-db", short, "--override"]) == 0
    assert main([*base, "--paper-db", f"sqlite:///{tmp_path / 'missing.sqlite'}"]) == 3
    assert not (tmp_path / "missing.sqlite").exists(), "the check never creates a database"


def test_trade_command_runs_the_guard_in_live_mode_only(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    init_secrets(env_file)
    short = write_paper_db(
        tmp_path / "short.sqlite", "BTC/USDT", "2023-10-01", "2023-10-12", 1000.0
    )
    live = [
        "-c",
        str(CONFIG_DIR / "base.json"),
        "-c",
        str(CONFIG_DIR / "freqai.json"),
        "-c",
        str(CONFIG_DIR / "live.json"),
    ]
    refused = main(["trade", "--env-file", str(env_file), "--paper-db", short, "--", *live])
    assert refused == 3, "live trading is refused before freqtrade starts"


def test_init_secrets_generates_once_and_keeps_values(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    generated = init_secrets(env_file)
    assert set(generated) == {API_PASSWORD, API_JWT_SECRET, API_WS_TOKEN}
    first = read_env_file(env_file)
    assert len(first[API_PASSWORD]) >= 24 and len(first[API_JWT_SECRET]) >= 32
    assert first["FREQTRADE__EXCHANGE__KEY"] == ""
    assert env_file.stat().st_mode & 0o077 == 0, "owner-only file"
    assert init_secrets(env_file) == []
    assert read_env_file(env_file) == first, "a rerun changes nothing"
    other = tmp_path / "other.env"
    init_secrets(other)
    assert read_env_file(other)[API_PASSWORD] != first[API_PASSWORD], "never a fixed default"


def test_env_files_are_ignored_and_the_example_committed() -> None:
    assert ".env" in (REPO_ROOT / ".gitignore").read_text().split()
    example = read_env_file(REPO_ROOT / ".env.example")
    assert API_PASSWORD in example and example[API_PASSWORD] == ""

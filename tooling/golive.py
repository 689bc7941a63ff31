"""The go-live guard: refuse real-money trading until the set-up and the paper record allow it.

Three refusals, each with the reason spelled out:

1. a config file (committed next to the code) holds a secret: keys belong in the environment;
2. the REST API listens beyond localhost without a strong password and JWT secret;
3. the paper record (closed trades of the dry-run database) is shorter than a month, has a
   Sharpe ratio of 1.0 or less, or a drawdown of 15 % or more.

``--override`` turns the refusals into warnings: an explicit, logged decision by the user.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

MIN_PAPER_DAYS = 30
MIN_SHARPE = 1.0
MAX_DRAWDOWN = 0.15
MIN_PASSWORD_LENGTH = 16
#: Values from Freqtrade's documentation and sample configs: never strong.
KNOWN_DEFAULTS = frozenset(
    {
        "",
        "SuperSecurePassword",
        "SuperSecret1!",
        "somethingrandom",
        "somethingRandomSomethingRandom123",
        "a_very_secret_ws_token",
        "freqtrader",
        "password",
        "changeme",
    }
)
#: (section path, key) pairs that are secrets wherever they appear.
SECRET_FIELDS: tuple[tuple[str, ...], ...] = (
    ("exchange", "key"),
    ("exchange", "secret"),
    ("exchange", "password"),
    ("exchange", "uid"),
    ("exchange", "private_key"),
    ("telegram", "token"),
    ("api_server", "password"),
    ("api_server", "jwt_secret_key"),
    ("api_server", "ws_token"),
    ("discord", "webhook_url"),
)


@dataclass(frozen=True)
class PaperRecord:
    """The dry-run track record the go-live bar is measured on."""

    trades: int
    days: float
    sharpe: float
    drawdown: float


def _lookup(config: Mapping[str, Any], path: Sequence[str]) -> Any:
    node: Any = config
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def secrets_in_configs(paths: Iterable[Path]) -> list[str]:
    """One line per secret a config file holds (the value is never repeated)."""
    found: list[str] = []
    for path in paths:
        try:
            config = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            found.append(f"{path}: cannot be read as JSON ({error})")
            continue
        for field in SECRET_FIELDS:
            value = _lookup(config, field)
            if value not in (None, "", [], {}):
                found.append(
                    f"{path} holds {'.'.join(field)}: secrets belong in the environment or .env "
                    f"({'FREQTRADE__' + '__'.join(part.upper() for part in field)})"
                )
    return found


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def weak_secret(value: Any) -> bool:
    """Too short, a documented default, or a single repeated character."""
    text = "" if value is None else str(value)
    return len(text) < MIN_PASSWORD_LENGTH or text in KNOWN_DEFAULTS or len(set(text)) < 6


def api_exposure(config: Mapping[str, Any]) -> list[str]:
    """Refusals for an API server reachable from other machines without strong credentials."""
    api = config.get("api_server") or {}
    if not api.get("enabled"):
        return []
    host = str(api.get("listen_ip_address", ""))
    if is_loopback(host):
        return []
    problems = []
    if weak_secret(api.get("password")):
        problems.append(
            f"the REST API listens on {host} (beyond localhost) with a weak password: use "
            f"`freqai-swing init-secrets` (at least {MIN_PASSWORD_LENGTH} characters, not a "
            "default) or listen on 127.0.0.1"
        )
    if weak_secret(api.get("jwt_secret_key")):
        problems.append(f"the REST API listens on {host} with a weak or default jwt_secret_key")
    return problems


def paper_record(db_url: str, starting_balance: float) -> PaperRecord:
    """Closed dry-run trades, measured with Freqtrade's own metrics (daily Sharpe, drawdown).

    ``starting_balance`` is the dry-run wallet the record was traded with.
    """
    from freqtrade.data.btanalysis import load_trades_from_db
    from freqtrade.data.metrics import calculate_max_drawdown, calculate_sharpe

    if db_url.startswith("sqlite:///") and not Path(db_url.removeprefix("sqlite:///")).is_file():
        raise FileNotFoundError(f"no dry-run database at {db_url.removeprefix('sqlite:///')}")
    trades = load_trades_from_db(db_url)
    trades = trades[trades["is_open"] == False] if len(trades) else trades  # noqa: E712
    if len(trades) == 0:
        return PaperRecord(0, 0.0, 0.0, 0.0)
    start = trades["open_date"].min()
    end = trades["close_date"].max()
    days = (end - start) / timedelta(days=1)
    sharpe = calculate_sharpe(trades, start, end, starting_balance)
    try:
        drawdown = calculate_max_drawdown(
            trades, value_col="profit_abs", starting_balance=starting_balance, relative=True
        ).relative_account_drawdown
    except ValueError:  # no losing stretch at all
        drawdown = 0.0
    return PaperRecord(len(trades), float(days), float(sharpe), float(drawdown))


def record_shortfalls(record: PaperRecord) -> list[str]:
    """Refusals for a paper record below the go-live bar."""
    problems = []
    if record.days < MIN_PAPER_DAYS:
        problems.append(
            f"the paper record covers {record.days:.1f} days ({record.trades} closed trades): "
            f"at least {MIN_PAPER_DAYS} days of dry-run trading are required"
        )
    if record.sharpe <= MIN_SHARPE:
        problems.append(
            f"the paper Sharpe ratio is {record.sharpe:.2f}: above {MIN_SHARPE} required"
        )
    if record.drawdown >= MAX_DRAWDOWN:
        problems.append(
            f"the paper drawdown is {record.drawdown:.1%}: below {MAX_DRAWDOWN:.0%} required"
        )
    return problems


def go_live_problems(
    config_files: Sequence[Path],
    merged_config: Mapping[str, Any],
    paper_db_url: str,
    paper_wallet: float,
) -> list[str]:
    """Every reason to refuse live trading, empty when it may start."""
    problems = secrets_in_configs(config_files)
    problems += api_exposure(merged_config)
    try:
        problems += record_shortfalls(paper_record(paper_db_url, paper_wallet))
    except Exception as error:  # noqa: BLE001 - a missing or broken DB is a refusal, said plainly
        problems.append(f"the paper record {paper_db_url} cannot be read: {error}")
    return problems

"""The bundle's own operator messages, sent through Freqtrade's messaging (Telegram, webhooks).

Freqtrade already reports entries, exits and errors; the bundle adds what only it knows: a
model was (re)trained, the account is in a drawdown beyond the warning level, and a daily
summary. :class:`OperationsNotifier` decides *what* to say from plain inputs (so it is tested
without a bot); the strategy's ``bot_loop_start`` feeds it and sends through ``dp.send_msg``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

from freqai_swing.drawdown import drawdown_curve
from freqai_swing.trades import ClosedTrade, database_closed_trades

#: Drawdown of the closed-trade equity, from its peak, above which a warning is sent once.
DRAWDOWN_WARNING = 0.05


@dataclass
class OperationsNotifier:
    """Remembers what was already said, so each event is reported once."""

    drawdown_warning: float = DRAWDOWN_WARNING
    trained: dict[str, float] = field(default_factory=dict)
    warned_drawdown: bool = False
    day: date | None = None

    def retrained(self, timestamps: Mapping[str, float]) -> list[str]:
        """A message per pair whose model's training timestamp moved on."""
        messages = []
        for pair, stamp in sorted(timestamps.items()):
            if stamp and stamp != self.trained.get(pair):
                until = datetime.fromtimestamp(stamp, tz=UTC).strftime("%Y-%m-%d %H:%M")
                verb = "retrained" if pair in self.trained else "trained"
                messages.append(f"freqai-swing: {pair} model {verb} (data up to {until} UTC)")
                self.trained[pair] = stamp
        return messages

    def drawdown(self, trades: Sequence[ClosedTrade], starting_balance: float) -> list[str]:
        """One warning when the drawdown crosses the level; re-armed once back under it."""
        if starting_balance <= 0:
            return []
        profits = [trade.profit_abs for trade in sorted(trades, key=lambda item: item.close_date)]
        curve = drawdown_curve(np.cumsum([starting_balance, *profits]))
        level, equity, peak = curve.current, float(curve.equity[-1]), float(curve.peak[-1])
        if level <= self.drawdown_warning:
            self.warned_drawdown = False
            return []
        if self.warned_drawdown:
            return []
        self.warned_drawdown = True
        return [
            f"freqai-swing: drawdown warning: {level:.1%} below the equity peak "
            f"(warning level {self.drawdown_warning:.0%}; {equity:.2f} of {peak:.2f})"
        ]

    def daily_summary(self, now: datetime, trades: Sequence[ClosedTrade]) -> list[str]:
        """At the first loop of a new UTC day, the day that ended (not sent on the first day)."""
        today = now.astimezone(UTC).date()
        previous, self.day = self.day, today
        if previous is None or today <= previous:
            return []
        closed = [trade for trade in trades if trade.close_date.astimezone(UTC).date() == previous]
        profit = sum(trade.profit_abs for trade in closed)
        pairs = ", ".join(sorted({trade.pair for trade in closed})) or "none"
        return [
            f"freqai-swing daily summary {previous.isoformat()}: {len(closed)} closed trade(s), "
            f"profit {profit:+.2f}, pairs: {pairs}"
        ]


#: ``freqai-swing selftrain`` queues its decisions here, in the production bot's user directory.
SELFTRAIN_QUEUE = "selftrain-announcements.jsonl"


def selftrain_announcements(userdir: Path) -> list[str]:
    """The self-training decisions queued since the last call (each said once, across bot
    restarts and config reloads: the count already sent is kept beside the queue)."""
    import json

    queue = userdir / SELFTRAIN_QUEUE
    if not queue.is_file():
        return []
    sent_file = userdir / f"{SELFTRAIN_QUEUE}.sent"
    sent = int(sent_file.read_text() or 0) if sent_file.is_file() else 0
    lines = queue.read_text().splitlines()
    messages = []
    for line in lines[sent:]:
        try:
            messages.append(str(json.loads(line)["message"]))
        except (ValueError, KeyError, TypeError):
            messages.append(line)
    if len(lines) != sent:
        sent_file.write_text(str(len(lines)))
    return messages


def send_operations_messages(strategy: object, notifier: OperationsNotifier, now: datetime) -> int:
    """Collect the inputs from a running bot's strategy and send what is due; returns the count.

    Reads the FreqAI drawer's training timestamps, the closed trades of the database and the
    wallet's starting balance; sends through ``dp.send_msg`` (Telegram and webhooks, as
    configured; ``always_send`` so the messages are not deduplicated across candles).
    """
    freqai = getattr(strategy, "freqai", None)
    drawer = getattr(freqai, "dd", None)
    pair_dict = getattr(drawer, "pair_dict", {}) or {}
    stamps = {pair: float(info.get("trained_timestamp") or 0) for pair, info in pair_dict.items()}
    trades = database_closed_trades()
    wallets = getattr(strategy, "wallets", None)
    starting = float(wallets.get_starting_balance()) if wallets is not None else 0.0
    messages = notifier.retrained(stamps)
    messages += notifier.drawdown(trades, starting)
    messages += notifier.daily_summary(now, trades)
    userdir = getattr(strategy, "config", {}).get("user_data_dir")
    if userdir:
        messages += selftrain_announcements(Path(userdir))
    for message in messages:
        strategy.dp.send_msg(message, always_send=True)  # type: ignore[attr-defined]
    return len(messages)

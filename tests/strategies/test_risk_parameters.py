"""The risk layer's hyperoptable parameters take their values from ``swing.risk``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from freqtrade.configuration import Configuration
from freqtrade.enums import RunMode
from freqtrade.persistence import LocalTrade, PairLocks
from freqtrade.persistence.usedb_context import FtNoDBContext
from freqtrade.resolvers import ExchangeResolver, StrategyResolver
from freqtrade.strategy.hyper import detect_all_parameters
from freqtrade.wallets import Wallets

from freqai_swing.risk_strategy import LOCK_CONSECUTIVE_LOSSES
from tests.conftest import CONFIG_DIR, REPO_ROOT


def test_config_block_sets_the_risk_space_parameters() -> None:
    config = Configuration.from_files([str(CONFIG_DIR / "base.json")])
    config.update(
        strategy="RiskProbeStrategy",
        strategy_path=str(REPO_ROOT / "tests" / "strategies" / "risk_strategies"),
        runmode=RunMode.BACKTEST,
    )
    config["swing"] = {"risk": {"kelly_fraction": 0.5, "max_stake_fraction": 0.3}}
    strategy = StrategyResolver.load_strategy(config)
    strategy.ft_load_hyper_params()  # what Freqtrade's ft_bot_start does
    assert set(detect_all_parameters(strategy)["risk"]) == {
        "risk_kelly_fraction",
        "risk_max_stake_fraction",
    }
    assert strategy.risk_kelly_fraction.value == 0.5
    assert strategy.risk_max_stake_fraction.value == 0.3
    assert strategy.stoploss == -0.03 and strategy.minimal_roi == {0: 0.06}
    assert strategy.trailing_stop and strategy.trailing_stop_positive == 0.02


def closed_loss(trade_id: int, closed: datetime) -> LocalTrade:
    """A closed ETH/USDT trade that lost 2 % (Freqtrade's own backtest trade object)."""
    trade = LocalTrade(
        id=trade_id, pair="ETH/USDT", base_currency="ETH", stake_currency="USDT",
        open_rate=3000.0, close_rate=2940.0, open_date=closed - timedelta(hours=2),
        close_date=closed, stake_amount=500.0, amount=500.0 / 3000.0, fee_open=0.0015,
        fee_close=0.0015, is_open=False, exchange="binance", is_short=False, leverage=1.0,
        close_profit=-0.023, close_profit_abs=-11.5, exit_reason="stop_loss",
    )  # fmt: skip
    LocalTrade.add_bt_trade(trade)
    return trade


@pytest.mark.parametrize(
    ("strategy_name", "configs"),
    [
        ("SwingClassifierStrategy", ("base.json", "freqai.json")),
        ("SwingRLStrategy", ("base.json", "freqai.json", "rl.json")),
    ],
)
def test_every_bundle_strategy_updates_the_risk_pauses_at_each_loop(
    strategy_name: str, configs: tuple[str, ...], offline_overlay: Path
) -> None:
    """The bundle base class adds operator messages to ``bot_loop_start``; the risk layer's own
    per-loop update must still run (it once did not: the override skipped it). Five losing
    trades in a row, then one loop: the real update places the losing-streak pause."""
    files = [str(CONFIG_DIR / name) for name in configs] + [str(offline_overlay)]
    config = Configuration.from_files(files)
    config.update(strategy=strategy_name, strategy_path=str(REPO_ROOT / "strategies"),
                  runmode=RunMode.BACKTEST)  # fmt: skip
    now = datetime(2024, 3, 1, 12, tzinfo=UTC)
    with FtNoDBContext(config["timeframe"]):
        LocalTrade.reset_trades()
        PairLocks.reset_locks()
        try:
            strategy = StrategyResolver.load_strategy(config)
            exchange = ExchangeResolver.load_exchange(config, validate=False)
            strategy.wallets = Wallets(config, exchange, is_backtest=True)
            strategy.dp = None  # set by the bot at start; the messages need none in a backtest
            for number in range(strategy.risk.max_consecutive_losses):
                closed_loss(number + 1, now - timedelta(hours=10 - number))
            assert not PairLocks.get_pair_locks("*", now)
            strategy.bot_loop_start(current_time=now)
            reasons = [lock.reason for lock in PairLocks.get_pair_locks("*", now)]
        finally:
            LocalTrade.reset_trades()
            PairLocks.reset_locks()
    assert any(reason.startswith(LOCK_CONSECUTIVE_LOSSES) for reason in reasons), reasons

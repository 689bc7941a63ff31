"""The risk layer's hyperoptable parameters take their values from ``swing.risk``."""

from __future__ import annotations

from freqtrade.configuration import Configuration
from freqtrade.enums import RunMode
from freqtrade.resolvers import StrategyResolver
from freqtrade.strategy.hyper import detect_all_parameters

from tests.conftest import CONFIG_DIR, REPO_ROOT


def test_config_block_sets_the_risk_space_parameters() -> None:
    config = Configuration.from_files([str(CONFIG_DIR / "base.json")])
    config.update(
        strategy="RiskProbeStrategy",
        strategy_path=str(REPO_ROOT / "tests" / "strategies" / "risk_strategies"),
        runmode=RunMode.BACKTEST,
    )
    config["swing"]["risk"].update(kelly_fraction=0.5, max_stake_fraction=0.3)
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


def test_every_bundle_strategy_updates_the_risk_pauses_at_each_loop(monkeypatch) -> None:
    """The bundle base class adds operator messages to ``bot_loop_start``; the risk layer's own
    per-loop update must still run (it once did not: the override skipped it)."""
    from datetime import UTC, datetime

    config = Configuration.from_files(
        [str(CONFIG_DIR / "base.json"), str(CONFIG_DIR / "freqai.json")]
    )
    config.update(
        strategy="SwingClassifierStrategy",
        strategy_path=str(REPO_ROOT / "strategies"),
        runmode=RunMode.BACKTEST,
    )
    strategy = StrategyResolver.load_strategy(config)
    updates: list[datetime] = []
    monkeypatch.setattr(strategy, "update_risk_locks", updates.append)
    strategy.dp = None  # set by the bot at start; the messages need none in a backtest
    now = datetime(2024, 3, 1, 12, tzinfo=UTC)
    strategy.bot_loop_start(current_time=now)
    assert updates == [now]

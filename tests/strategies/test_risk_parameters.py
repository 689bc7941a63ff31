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

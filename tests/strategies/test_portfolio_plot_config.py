"""The portfolio strategy's chart (``plot_config``) names only columns its configuration writes."""

from __future__ import annotations

import pytest
from freqtrade.configuration import Configuration
from freqtrade.enums import RunMode
from freqtrade.resolvers import StrategyResolver

from tests.conftest import CONFIG_DIR, REPO_ROOT

ML_CONFIGS = {
    "portfolio.json": set(),
    "portfolio-ml.json": {"forecast_volatility", "meta_probability", "do_predict"},
    "portfolio-ml-volatility.json": {"forecast_volatility", "do_predict"},
    "portfolio-ml-meta.json": {"meta_probability", "do_predict"},
}


def plotted(overlay: str) -> dict[str, set[str]]:
    files = [CONFIG_DIR / "base.json", CONFIG_DIR / "portfolio.json", CONFIG_DIR / overlay]
    config = Configuration.from_files([str(path) for path in dict.fromkeys(files)])
    config.update(strategy_path=str(REPO_ROOT / "strategies"), runmode=RunMode.DRY_RUN)
    strategy = StrategyResolver.load_strategy(config)
    return {name: set(lines) for name, lines in strategy.plot_config["subplots"].items()}


@pytest.mark.parametrize(("overlay", "model_columns"), sorted(ML_CONFIGS.items()))
def test_plot_config_names_the_columns_of_the_active_parts_only(
    overlay: str, model_columns: set[str]
) -> None:
    subplots = plotted(overlay)
    assert set(subplots) == {"Weight", "Volatility", "Signals"}
    assert subplots["Weight"] == {"target_weight", "raw_weight"}
    assert subplots["Volatility"] == {"trailing_volatility"} | (
        model_columns & {"forecast_volatility"}
    )
    assert subplots["Signals"] == {"trend_score", "regime_on"} | (
        model_columns & {"meta_probability", "do_predict"}
    )

"""The bundle's config block: wrong keys named, identifiers that follow the settings."""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from freqtrade.enums import RunMode

from freqai_swing.settings import SwingConfigError, load_swing_settings, settings_fingerprint
from freqai_swing.strategy_base import apply_identifier
from tests.conftest import CONFIG_DIR, SAMPLE_DATADIR


@pytest.fixture
def config() -> dict[str, Any]:
    merged = json.loads((CONFIG_DIR / "base.json").read_text())
    merged.update(json.loads((CONFIG_DIR / "freqai.json").read_text()))
    return merged


def test_shipped_config_loads(config: dict[str, Any]) -> None:
    settings = load_swing_settings(config)
    assert settings.labels.horizon_candles == 24
    assert settings.labels.barrier_pct == pytest.approx(0.02)
    assert settings.purge_candles == 24
    assert settings.market_pair == "BTC/USDT"


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        (
            ("swing", "labels", "horizon"),
            24,
            "Unknown key swing.labels.horizon; did you mean horizon_candles?",
        ),
        (("swing", "modle"), {}, "Unknown key swing.modle; did you mean model?"),
        (("swing", "labels", "horizon_candles"), 0, "swing.labels.horizon_candles"),
        (("swing", "model", "device"), "gpu", "swing.model.device"),
        (
            ("freqai", "train_period_day"),
            30,
            "Unknown key freqai.train_period_day; did you mean train_period_days?",
        ),
        (
            ("freqai", "feature_parameters", "include_timeframe"),
            ["1h"],
            "freqai.feature_parameters.include_timeframe",
        ),
    ],
)
def test_wrong_key_or_value_is_named(
    config: dict[str, Any], path: tuple[str, ...], value: Any, named: str
) -> None:
    broken = copy.deepcopy(config)
    block = broken
    for key in path[:-1]:
        block = block.setdefault(key, {})
    block[path[-1]] = value
    with pytest.raises(SwingConfigError, match=re.escape(named)):
        load_swing_settings(broken)


def test_barrier_bounds_are_checked_across_fields(config: dict[str, Any]) -> None:
    config["swing"]["labels"] = {"min_barrier_pct": 0.05, "max_barrier_pct": 0.02}
    with pytest.raises(SwingConfigError, match="min_barrier_pct"):
        load_swing_settings(config)


def test_identifier_follows_every_model_setting(config: dict[str, Any]) -> None:
    base = settings_fingerprint(config)
    for change in (
        lambda c: c["swing"].update(labels={"barrier_pct": 0.03}),
        lambda c: c["freqai"]["model_training_parameters"]["xgboost"].update(max_depth=4),
        lambda c: c["freqai"]["feature_parameters"].update(include_timeframes=["1h", "4h"]),
        lambda c: c.update(freqaimodel="SwingLightGBMClassifier"),
        lambda c: c.update(timerange="20240101-20240301"),
    ):
        changed = copy.deepcopy(config)
        change(changed)
        assert settings_fingerprint(changed) != base
    renamed = copy.deepcopy(config)
    renamed["freqai"]["identifier"] = "other"
    renamed["freqai"]["purge_old_models"] = 9
    assert settings_fingerprint(renamed) == base


def test_identifier_is_suffixed_once(config: dict[str, Any]) -> None:
    first = apply_identifier(config)
    assert first.startswith("swing-") and len(first) == len("swing-") + 8
    assert apply_identifier(config) == first
    assert config["freqai"]["identifier"] == first


def backtest_config(config: dict[str, Any], datadir: Path) -> dict[str, Any]:
    config = copy.deepcopy(config)
    config.update(runmode=RunMode.BACKTEST, datadir=datadir)
    return config


def test_a_backtest_identifier_follows_the_candles(config: dict[str, Any], tmp_path: Path) -> None:
    """An edited candle file (a 5-day gap and NaN rows) changes the identifier; a copy of the
    same candles does not; live runs keep theirs whatever the datadir holds."""
    first, second = tmp_path / "first", tmp_path / "second"
    shutil.copytree(SAMPLE_DATADIR, first)
    shutil.copytree(SAMPLE_DATADIR, second)
    before = apply_identifier(backtest_config(config, first))
    assert apply_identifier(backtest_config(config, second)) == before, "same candles, same id"

    path = second / "SOL_USDT-1h.feather"
    candles = pd.read_feather(path)
    gap = (candles["date"] >= "2024-03-01") & (candles["date"] < "2024-03-06")
    edited = candles[~gap].reset_index(drop=True)
    edited.loc[100:110, ["open", "high", "low", "close"]] = float("nan")
    edited.to_feather(path)
    assert apply_identifier(backtest_config(config, second)) != before

    live = copy.deepcopy(config)
    live.update(runmode=RunMode.DRY_RUN, datadir=second)
    assert apply_identifier(live) == apply_identifier(copy.deepcopy(config))


def test_a_candle_file_of_an_unused_timeframe_keeps_the_identifier(
    config: dict[str, Any], tmp_path: Path
) -> None:
    shutil.copytree(SAMPLE_DATADIR, tmp_path / "binance")
    before = apply_identifier(backtest_config(config, tmp_path / "binance"))
    unused = tmp_path / "binance" / "BTC_USDT-5m.feather"
    shutil.copy(SAMPLE_DATADIR / "BTC_USDT-1h.feather", unused)
    assert apply_identifier(backtest_config(config, tmp_path / "binance")) == before

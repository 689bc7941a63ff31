"""The bundle's own config block (``"swing"``), validated at load.

Freqtrade's schema lets unknown keys through silently, so a typo such as
``"train_period_day"`` would quietly fall back to a default. The bundle checks its own block
against its declarations (an unknown key is an error that suggests the closest known one) and
the ``freqai`` block against FreqAI's known keys, and names the offending key in the error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Annotated, Any, Final, Literal

from pydantic import Field, field_validator
from pydantic.dataclasses import dataclass

from freqai_swing.settings.errors import (
    SETTINGS_CONFIG,
    SwingConfigError,
    config_error_message,
    json_schema,
    unknown_key_message,
    validate,
)
from freqai_swing.settings.labels import LabelConfig
from freqai_swing.settings.lifecycle import SelfTrainSettings
from freqai_swing.settings.model import EnsembleSettings, ModelSettings, RegimeSettings
from freqai_swing.settings.portfolio import Pair, PortfolioSettings
from freqai_swing.settings.ppo import ppo_member_settings
from freqai_swing.settings.risk import RiskSettings

FeatureFamily = Literal["trend", "momentum", "volatility", "volume", "price-action", "returns"]

#: FreqAI keys that its documentation lists but its JSON schema does not.
_FREQAI_DOCUMENTED_EXTRAS: Final[frozenset[str]] = frozenset(
    {"model_save_type", "reduce_df_footprint", "record_learning_curves", "extra_returns_per_train"}
)
_FEATURE_PARAMETER_DOCUMENTED_EXTRAS: Final[frozenset[str]] = frozenset(
    {
        "noise_standard_deviation",
        "outlier_protection_percentage",
        "reverse_train_test_order",
        "use_DBSCAN_to_remove_outliers",
        "inlier_metric_window",
    }
)


@dataclass(frozen=True, config=SETTINGS_CONFIG)
class SwingSettings:
    """Everything the bundle adds on top of FreqAI's own settings (the ``swing`` block)."""

    labels: Annotated[LabelConfig, Field(description="The triple-barrier label.")] = (
        dataclasses.field(default_factory=LabelConfig)
    )
    model: Annotated[ModelSettings, Field(description="The boosters' training.")] = (
        dataclasses.field(default_factory=ModelSettings)
    )
    regime_filter: Annotated[
        RegimeSettings, Field(description="The daily trend gate on long entries.")
    ] = dataclasses.field(default_factory=RegimeSettings)
    risk: Annotated[RiskSettings, Field(description="The risk rules.")] = dataclasses.field(
        default_factory=RiskSettings
    )
    ensemble: Annotated[EnsembleSettings, Field(description="The stacked ensemble.")] = (
        dataclasses.field(default_factory=EnsembleSettings)
    )
    selftrain: Annotated[SelfTrainSettings, Field(description="The self-training lifecycle.")] = (
        dataclasses.field(default_factory=SelfTrainSettings)
    )
    portfolio: Annotated[PortfolioSettings, Field(description="The trend portfolio.")] = (
        dataclasses.field(default_factory=PortfolioSettings)
    )
    market_pair: Annotated[
        Pair,
        Field(
            description="Pair whose returns give the correlation / beta / relative-return "
            "features, and whose own trend ``regime_filter.require_market`` checks."
        ),
    ] = "BTC/USDT"
    feature_families: Annotated[
        tuple[FeatureFamily, ...],
        Field(min_length=1, description="The feature families computed, each once."),
    ] = ("trend", "momentum", "volatility", "volume", "price-action", "returns")

    @field_validator("feature_families")
    @classmethod
    def _each_family_once(cls, families: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(families)) != len(families):
            raise ValueError(f"each family once, got {list(families)}")
        return families

    @property
    def purge_candles(self) -> int:
        """Rows between fitted and validation rows: at least the label horizon."""
        if self.model.purge_candles is None:
            return self.labels.horizon_candles
        return self.model.purge_candles

    @property
    def embargo_candles(self) -> int:
        """Candles skipped after an ensemble fold: at least the label horizon by default."""
        if self.ensemble.embargo_candles is None:
            return self.labels.horizon_candles
        return self.ensemble.embargo_candles


def swing_json_schema() -> dict[str, Any]:
    """The JSON schema of the ``swing`` block, derived from :class:`SwingSettings`."""
    return json_schema(SwingSettings)


def swing_settings(block: Mapping[str, Any] | None) -> SwingSettings:
    """Settings from a ``swing`` block alone (the ``ppo`` member's block checked too).

    Raises:
        SwingConfigError: naming every wrong key or value found.
    """
    settings = validate(SwingSettings, block, "swing")
    listed = ((block or {}).get("ensemble") or {}).get("members") or ()
    for index, member in enumerate(listed):
        if member["name"] == "ppo":
            # also when disabled: a typo in a block that is switched off is still a typo
            ppo_member_settings(
                member.get("parameters", {}), where=f"swing.ensemble.members.{index}.parameters"
            )
    return settings


def _freqai_unknown_keys(freqai: Mapping[str, Any]) -> list[str]:
    from freqtrade.config_schema.config_schema import CONF_SCHEMA

    freqai_schema = CONF_SCHEMA["definitions"]["freqai"]["properties"]
    known = set(freqai_schema) | _FREQAI_DOCUMENTED_EXTRAS
    messages = [unknown_key_message(f"freqai.{key}", known) for key in freqai if key not in known]
    feature_known = (
        set(freqai_schema["feature_parameters"]["properties"])
        | _FEATURE_PARAMETER_DOCUMENTED_EXTRAS
    )
    messages += [
        unknown_key_message(f"freqai.feature_parameters.{key}", feature_known)
        for key in freqai.get("feature_parameters", {})
        if key not in feature_known
    ]
    return messages


def load_swing_settings(config: Mapping[str, Any]) -> SwingSettings:
    """Validate the ``swing`` and ``freqai`` blocks of a Freqtrade config and build settings.

    Raises:
        SwingConfigError: naming every wrong key or value found.
    """
    freqai_errors = _freqai_unknown_keys(config["freqai"]) if "freqai" in config else []
    try:
        settings = swing_settings(config.get("swing"))
    except SwingConfigError as error:
        if not freqai_errors:
            raise
        lines = str(error).removeprefix("Invalid freqai-swing configuration:").strip().splitlines()
        raise SwingConfigError(
            config_error_message([line.strip() for line in lines] + freqai_errors)
        ) from None
    if freqai_errors:
        raise SwingConfigError(config_error_message(freqai_errors))
    return settings

"""``swing.portfolio``: the trend portfolio's settings, declared in
:mod:`freqai_swing.settings.portfolio`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from freqai_swing.settings.errors import validate
from freqai_swing.settings.portfolio import (
    DecisionEvery,
    MetaModel,
    PortfolioSettings,
    VolatilityModel,
)

__all__ = [
    "DecisionEvery",
    "MetaModel",
    "PortfolioSettings",
    "VolatilityModel",
    "portfolio_settings",
]


def portfolio_settings(block: Mapping[str, Any] | None) -> PortfolioSettings:
    """Settings from a ``swing.portfolio`` block.

    Raises:
        SwingConfigError: naming a wrong key or value.
    """
    return validate(PortfolioSettings, block, "swing.portfolio")

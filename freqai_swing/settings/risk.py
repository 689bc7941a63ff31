"""``swing.risk``: the risk rules' settings (:mod:`freqai_swing.risk`); defaults are the seed's."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from pydantic.dataclasses import dataclass

from freqai_swing.settings.errors import SETTINGS_CONFIG

#: A share in (0, 1].
_Share = Annotated[float, Field(gt=0, le=1)]


@dataclass(frozen=True, config=SETTINGS_CONFIG)
class RiskSettings:
    """The ``swing.risk`` config block (docs/risk.md explains each rule)."""

    enabled: Annotated[
        bool,
        Field(
            description="Apply the bundle's rules at all (``false`` leaves sizing and entries to "
            "Freqtrade's plain ``stake_amount``; for comparisons only)."
        ),
    ] = True
    kelly_fraction: Annotated[
        _Share, Field(description="Share of the full Kelly stake that is staked (hyperoptable).")
    ] = 0.25
    max_stake_fraction: Annotated[
        _Share, Field(description="Cap of one stake, as a share of equity (hyperoptable).")
    ] = 0.20
    initial_stake_fraction: Annotated[
        _Share, Field(description="The fixed small stake used until ``kelly_min_trades`` exist.")
    ] = 0.05
    kelly_min_trades: Annotated[
        int,
        Field(
            ge=1, description="Closed trades needed before Kelly sizing replaces the fixed stake."
        ),
    ] = 20
    kelly_window_trades: Annotated[
        int, Field(ge=1, description="The most recent closed trades the Kelly statistics use.")
    ] = 50
    kelly_lookback_days: Annotated[
        int,
        Field(
            ge=1,
            description="Only trades closed this recently count, so that a losing streak "
            "(Kelly <= 0, no new trades) ages out instead of stopping the bot for good.",
        ),
    ] = 30
    volatility_window_candles: Annotated[
        int, Field(ge=2, description='Candles of the "current volatility" of a pair.')
    ] = 24
    normal_volatility_window_candles: Annotated[
        int, Field(ge=2, description='Candles of the "normal" volatility it is compared to.')
    ] = 720
    high_volatility_ratio: Annotated[
        float,
        Field(gt=0, description="Current / normal volatility above which the stake is cut."),
    ] = 2.0
    high_volatility_stake_multiplier: Annotated[
        float, Field(ge=0, le=1, description="The cut (0.5 = halve the stake).")
    ] = 0.5
    daily_loss_limit: Annotated[
        _Share,
        Field(
            description="Realized loss within one UTC day, as a share of equity at the day's "
            "start, after which no trade opens until midnight UTC."
        ),
    ] = 0.05
    max_entries_per_day: Annotated[int, Field(ge=1, description="Entries per UTC day.")] = 10
    max_consecutive_losses: Annotated[
        int, Field(ge=1, description="Losing trades in a row that pause all entries.")
    ] = 5
    consecutive_loss_pause_hours: Annotated[
        int, Field(ge=1, description="Length of that pause.")
    ] = 24
    max_drawdown: Annotated[
        _Share,
        Field(description="Realized drawdown from the equity peak that pauses all entries."),
    ] = 0.15
    drawdown_pause_days: Annotated[int, Field(ge=1, description="Length of that pause.")] = 7
    max_correlation: Annotated[
        float,
        Field(
            ge=-1,
            le=1,
            description="Highest allowed correlation of recent returns between a new entry's "
            "pair and the pair of any open trade.",
        ),
    ] = 0.7
    correlation_window_candles: Annotated[
        int, Field(ge=3, description="Candles of returns the correlation is computed over.")
    ] = 168
    max_exposure: Annotated[
        _Share, Field(description="Open stakes (at entry cost) as a share of equity.")
    ] = 0.80
    max_spread_ratio: Annotated[
        _Share, Field(description="Highest (ask - bid) / ask at entry in dry-run and live.")
    ] = 0.01

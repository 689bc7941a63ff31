"""``swing.portfolio``: the trend portfolio's settings (docs/portfolio.md has the reasoning behind
each default)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic.dataclasses import dataclass

from freqai_swing.settings.errors import SETTINGS_CONFIG

DecisionEvery = Literal["1d", "4h"]
VolatilityModel = Literal["har", "lightgbm", "xgboost"]
MetaModel = Literal["lightgbm", "xgboost", "ensemble"]
Pair = Annotated[str, Field(pattern=r"^[A-Z0-9]+/[A-Z0-9]+$")]


@dataclass(frozen=True, config=SETTINGS_CONFIG)
class PortfolioSettings:
    """The trend portfolio."""

    universe: Annotated[
        Annotated[tuple[Pair, ...], Field(min_length=1)] | None,
        Field(
            description="The pairs the book is made of (their daily bars set every target); "
            "``null`` takes the whitelist. Naming them keeps a pair's target the same when a "
            "tool runs that pair alone (``lookahead-analysis``); pairs outside the whitelist are "
            "read as informative pairs and not traded."
        ),
    ] = None
    lookback_days: Annotated[
        tuple[Annotated[int, Field(ge=2, le=400)], ...],
        Field(
            min_length=1,
            description="Trend lookbacks; the score is the share of them with a positive return. "
            "Fixed before any result was seen (the time-series momentum literature's 1/3/6 "
            "months, rounded to 20/60/120 days).",
        ),
    ] = (20, 60, 120)
    volatility_days: Annotated[
        int,
        Field(
            ge=2,
            le=365,
            description="Window of the trailing realised volatility (from 1h returns).",
        ),
    ] = 30
    target_volatility: Annotated[
        float,
        Field(
            gt=0,
            le=2,
            description="Annualised volatility the whole portfolio aims at; each pair gets "
            "``1/n`` of it as if all pairs moved together, then the covariance of the held "
            "pairs scales the book down when that estimate is still above the target.",
        ),
    ] = 0.15
    covariance_days: Annotated[
        int,
        Field(ge=10, le=365, description="Window of daily returns for the portfolio's covariance."),
    ] = 90
    regime_pair: Annotated[
        str, Field(description="The market pair whose trend gates every long.")
    ] = "BTC/USDT"
    regime_days: Annotated[
        int, Field(ge=2, le=400, description="The gate's moving average (daily closes).")
    ] = 200
    regime_enabled: Annotated[
        bool, Field(description="Switch the gate off (all longs allowed).")
    ] = True
    rebalance_band: Annotated[
        float,
        Field(
            ge=0,
            le=1,
            description="A position is traded back to its target only when it is off by more "
            "than this share of the target (0.25 = ±25 %).",
        ),
    ] = 0.25
    min_order_fraction: Annotated[
        float,
        Field(
            ge=0,
            le=0.5,
            description="No order smaller than this share of equity (fees of tiny trades).",
        ),
    ] = 0.005
    decision_every: Annotated[
        DecisionEvery,
        Field(description="``1d`` (after the daily close) or ``4h`` decisions on the 1h strategy."),
    ] = "1d"
    volatility_forecast: Annotated[
        bool,
        Field(
            description="Size with the model's volatility forecast instead of the trailing "
            "volatility (an ML part; off where its ablation loses)."
        ),
    ] = False
    volatility_model: Annotated[
        VolatilityModel,
        Field(
            description="``har`` (the reference), or one of the bundle's boosting members as the "
            "contender: ``lightgbm`` or ``xgboost``."
        ),
    ] = "lightgbm"
    meta_filter: Annotated[
        bool,
        Field(
            description="Veto and scale longs by the model's meta-label probability (an ML part; "
            "off where its ablation loses)."
        ),
    ] = False
    meta_model: Annotated[
        MetaModel,
        Field(
            description="The meta-label's learner, from the bundle's members: ``lightgbm``, "
            "``xgboost``, or ``ensemble`` (both, mixed with weights learned out of sample)."
        ),
    ] = "lightgbm"
    meta_threshold: Annotated[
        float,
        Field(
            ge=0,
            le=1,
            description="Veto below this calibrated probability ``p``; at or above it the weight "
            "is multiplied by ``min(1, p / (1 - threshold))``.",
        ),
    ] = 0.45
    meta_horizon_days: Annotated[
        int,
        Field(
            ge=1,
            le=14,
            description="The meta-label's horizon (holding while the core is long).",
        ),
    ] = 5

    @field_validator("universe")
    @classmethod
    def _each_pair_once(cls, pairs: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if pairs is not None and len(set(pairs)) != len(pairs):
            raise ValueError(f"each pair once, got {list(pairs)}")
        return pairs

    @property
    def uses_model(self) -> bool:
        """Whether any ML part takes part in the decision."""
        return self.volatility_forecast or self.meta_filter

    @property
    def decision_hours(self) -> int:
        return 24 if self.decision_every == "1d" else 4

    @property
    def history_days(self) -> int:
        """Daily candles a decision needs before its first target is defined."""
        return max(*self.lookback_days, self.regime_days, self.covariance_days) + 1

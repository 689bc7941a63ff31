"""``swing.portfolio``: the settings of the trend portfolio, declared and checked once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Final, Literal

DecisionEvery = Literal["1d", "4h"]
VolatilityModel = Literal["har", "lightgbm", "xgboost"]
MetaModel = Literal["lightgbm", "xgboost", "ensemble"]

PORTFOLIO_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "universe": {
            "type": ["array", "null"],
            "items": {"type": "string", "pattern": "^[A-Z0-9]+/[A-Z0-9]+$"},
            "minItems": 1,
            "uniqueItems": True,
        },
        "lookback_days": {
            "type": "array",
            "items": {"type": "integer", "minimum": 2, "maximum": 400},
            "minItems": 1,
        },
        "volatility_days": {"type": "integer", "minimum": 2, "maximum": 365},
        "target_volatility": {"type": "number", "exclusiveMinimum": 0, "maximum": 2},
        "covariance_days": {"type": "integer", "minimum": 10, "maximum": 365},
        "regime_pair": {"type": "string"},
        "regime_days": {"type": "integer", "minimum": 2, "maximum": 400},
        "regime_enabled": {"type": "boolean"},
        "rebalance_band": {"type": "number", "minimum": 0, "maximum": 1},
        "min_order_fraction": {"type": "number", "minimum": 0, "maximum": 0.5},
        "decision_every": {"enum": ["1d", "4h"]},
        "volatility_forecast": {"type": "boolean"},
        "volatility_model": {"enum": ["har", "lightgbm", "xgboost"]},
        "meta_model": {"enum": ["lightgbm", "xgboost", "ensemble"]},
        "meta_filter": {"type": "boolean"},
        "meta_threshold": {"type": "number", "minimum": 0, "maximum": 1},
        "meta_horizon_days": {"type": "integer", "minimum": 1, "maximum": 14},
    },
}


@dataclass(frozen=True)
class PortfolioSettings:
    """The trend portfolio (docs/portfolio.md has the reasoning behind each default).

    Attributes:
        universe: the pairs the book is made of (their daily bars set every target); ``None``
            takes the whitelist. Naming them keeps a pair's target the same when a tool runs
            that pair alone (``lookahead-analysis``); pairs outside the whitelist are read as
            informative pairs and not traded.
        lookback_days: trend lookbacks; the score is the share of them with a positive return.
            Fixed before any result was seen (the time-series momentum literature's 1/3/6
            months, rounded to 20/60/120 days).
        volatility_days: window of the trailing realised volatility (from 1h returns).
        target_volatility: annualised volatility the whole portfolio aims at; each pair gets
            ``1/n`` of it as if all pairs moved together, then the covariance of the held
            pairs scales the book down when that estimate is still above the target.
        covariance_days: window of daily returns for the portfolio's covariance.
        regime_pair: the market pair whose trend gates every long.
        regime_days: the gate's moving average (daily closes).
        regime_enabled: switch the gate off (all longs allowed).
        rebalance_band: a position is traded back to its target only when it is off by more
            than this share of the target (0.25 = ±25 %).
        min_order_fraction: no order smaller than this share of equity (fees of tiny trades).
        decision_every: ``1d`` (after the daily close) or ``4h`` decisions on the 1h strategy.
        volatility_forecast: size with the model's volatility forecast instead of the
            trailing volatility (an ML part; off where its ablation loses).
        volatility_model: ``har`` (the reference), or one of the bundle's boosting members as
            the contender: ``lightgbm`` or ``xgboost``.
        meta_model: the meta-label's learner, from the bundle's members: ``lightgbm``,
            ``xgboost``, or ``ensemble`` (both, mixed with weights learned out of sample).
        meta_filter: veto and scale longs by the model's meta-label probability (an ML part;
            off where its ablation loses).
        meta_threshold: veto below this calibrated probability ``p``; at or above it the
            weight is multiplied by ``min(1, p / (1 - threshold))``.
        meta_horizon_days: the meta-label's horizon (holding while the core is long).
    """

    universe: tuple[str, ...] | None = None
    lookback_days: tuple[int, ...] = (20, 60, 120)
    volatility_days: int = 30
    target_volatility: float = 0.15
    covariance_days: int = 90
    regime_pair: str = "BTC/USDT"
    regime_days: int = 200
    regime_enabled: bool = True
    rebalance_band: float = 0.25
    min_order_fraction: float = 0.005
    decision_every: DecisionEvery = "1d"
    volatility_forecast: bool = False
    volatility_model: VolatilityModel = "lightgbm"
    meta_filter: bool = False
    meta_model: MetaModel = "lightgbm"
    meta_threshold: float = 0.45
    meta_horizon_days: int = 5

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


_NAMES: Final[frozenset[str]] = frozenset(item.name for item in fields(PortfolioSettings))


def portfolio_settings(block: Mapping[str, Any] | None) -> PortfolioSettings:
    """Build the settings from an already schema-checked ``swing.portfolio`` block."""
    values = {key: value for key, value in (block or {}).items() if key in _NAMES}
    if values.get("universe") is not None:
        values["universe"] = tuple(values["universe"])
    if "lookback_days" in values:
        values["lookback_days"] = tuple(int(days) for days in values["lookback_days"])
    return PortfolioSettings(**values)

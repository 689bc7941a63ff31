"""``swing.selftrain``: the lifecycle's settings, validated like the rest of the ``swing`` block.

The defaults are the seed's: weekly retrain, thresholds Sharpe 1.0 / drawdown 15 % / win rate
45 %, a 180-day training and 30-day validation window, a challenger on 20 % of the paper capital,
promotion after at least 20 challenger trades at 95 % confidence, rollback beyond a 10 %
drawdown since the promotion, five production checkpoints kept, and a champion that fails its
own thresholds 30 decisions in a row retired to the best registered checkpoint (or to cash).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Final

SELFTRAIN_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "retrain_every_days": {"type": "integer", "minimum": 1, "maximum": 365},
        "min_sharpe": {"type": "number"},
        "max_drawdown": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "min_win_rate": {"type": "number", "minimum": 0, "maximum": 1},
        "evaluation_days": {"type": "integer", "minimum": 2, "maximum": 365},
        "min_evaluation_trades": {"type": "integer", "minimum": 1},
        "regime_volatility_ratio": {"type": "number", "exclusiveMinimum": 1},
        "regime_trend_days": {"type": "integer", "minimum": 2, "maximum": 400},
        "train_days": {"type": "integer", "minimum": 7, "maximum": 2000},
        "validation_days": {"type": "integer", "minimum": 1, "maximum": 365},
        "optuna": {"type": "boolean"},
        "challenger_capital_fraction": {
            "type": "number",
            "exclusiveMinimum": 0,
            "exclusiveMaximum": 1,
        },
        "min_challenger_trades": {"type": "integer", "minimum": 2},
        "max_challenger_days": {"type": "integer", "minimum": 1},
        "confidence": {"type": "number", "exclusiveMinimum": 0.5, "exclusiveMaximum": 1},
        "rollback_drawdown": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "keep_checkpoints": {"type": "integer", "minimum": 2, "maximum": 100},
        "retire_after": {"type": "integer", "minimum": 0, "maximum": 1000},
    },
}


@dataclass(frozen=True)
class SelfTrainSettings:
    """The lifecycle's knobs (``swing.selftrain``); see docs/selftrain.md.

    Attributes:
        retrain_every_days: the scheduled retrain (weekly).
        min_sharpe: retrain when the production model's recent Sharpe is below this.
        max_drawdown: retrain when its recent drawdown is above this.
        min_win_rate: retrain when its recent win rate is below this.
        evaluation_days: how far back step 2 looks at the production model's trades.
        min_evaluation_trades: trades needed before the win-rate threshold counts.
        regime_volatility_ratio: a regime change when the last 30 days' volatility of the
            market pair is this many times the previous 180 days' (or that many times less).
        regime_trend_days: the daily average whose crossing by the market pair is a trend-state
            change.
        train_days: the challenger's training window.
        validation_days: the walk-forward validation window right after it.
        optuna: tune the ensemble members with Optuna at each challenger's training.
        challenger_capital_fraction: share of the paper capital the challenger bot trades.
        min_challenger_trades: closed challenger trades before the promotion test is run.
        max_challenger_days: a challenger still short of trades after this long is rejected.
        confidence: one-sided confidence of the promotion test.
        rollback_drawdown: roll back when the drawdown since a promotion exceeds this.
        keep_checkpoints: model checkpoints kept on disk (the production one always).
        retire_after: retire a champion that failed its own thresholds (``min_sharpe``,
            ``max_drawdown``, ``min_win_rate`` over ``evaluation_days``) at this many decisions
            in a row, for the best registered checkpoint that meets them or for cash; 0 never
            retires.
    """

    retrain_every_days: int = 7
    min_sharpe: float = 1.0
    max_drawdown: float = 0.15
    min_win_rate: float = 0.45
    evaluation_days: int = 30
    min_evaluation_trades: int = 10
    regime_volatility_ratio: float = 1.5
    regime_trend_days: int = 200
    train_days: int = 180
    validation_days: int = 30
    optuna: bool = True
    challenger_capital_fraction: float = 0.2
    min_challenger_trades: int = 20
    max_challenger_days: int = 42
    confidence: float = 0.95
    rollback_drawdown: float = 0.10
    keep_checkpoints: int = 5
    retire_after: int = 30


def selftrain_settings(block: Mapping[str, Any] | None) -> SelfTrainSettings:
    """Settings from an already schema-checked ``swing.selftrain`` block."""
    known = {field.name for field in fields(SelfTrainSettings)}
    return SelfTrainSettings(**{k: v for k, v in (block or {}).items() if k in known})

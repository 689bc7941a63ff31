"""``swing.selftrain``: the lifecycle's settings (docs/selftrain.md).

The defaults are the seed's: weekly retrain, thresholds Sharpe 1.0 / drawdown 15 % / win rate
45 %, a 180-day training and 30-day validation window, a challenger on 20 % of the paper capital,
promotion after at least 20 challenger trades at 95 % confidence, rollback beyond a 10 %
drawdown since the promotion, five production checkpoints kept, and a champion that fails its
own thresholds 30 decisions in a row retired to the best registered checkpoint (or to cash).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from pydantic.dataclasses import dataclass

from freqai_swing.settings.errors import SETTINGS_CONFIG

#: A share strictly between 0 and 1.
_OpenShare = Annotated[float, Field(gt=0, lt=1)]


@dataclass(frozen=True, config=SETTINGS_CONFIG)
class SelfTrainSettings:
    """The lifecycle's knobs (``swing.selftrain``)."""

    retrain_every_days: Annotated[
        int, Field(ge=1, le=365, description="The scheduled retrain (weekly).")
    ] = 7
    min_sharpe: Annotated[
        float,
        Field(description="Retrain when the production model's recent Sharpe is below this."),
    ] = 1.0
    max_drawdown: Annotated[
        _OpenShare, Field(description="Retrain when its recent drawdown is above this.")
    ] = 0.15
    min_win_rate: Annotated[
        float, Field(ge=0, le=1, description="Retrain when its recent win rate is below this.")
    ] = 0.45
    evaluation_days: Annotated[
        int,
        Field(
            ge=2,
            le=365,
            description="How far back step 2 looks at the production model's trades.",
        ),
    ] = 30
    min_evaluation_trades: Annotated[
        int, Field(ge=1, description="Trades needed before the win-rate threshold counts.")
    ] = 10
    regime_volatility_ratio: Annotated[
        float,
        Field(
            gt=1,
            description="A regime change when the last 30 days' volatility of the market pair "
            "is this many times the previous 180 days' (or that many times less).",
        ),
    ] = 1.5
    regime_trend_days: Annotated[
        int,
        Field(
            ge=2,
            le=400,
            description="The daily average whose crossing by the market pair is a trend-state "
            "change.",
        ),
    ] = 200
    train_days: Annotated[
        int, Field(ge=7, le=2000, description="The challenger's training window.")
    ] = 180
    validation_days: Annotated[
        int,
        Field(ge=1, le=365, description="The walk-forward validation window right after it."),
    ] = 30
    optuna: Annotated[
        bool,
        Field(description="Tune the ensemble members with Optuna at each challenger's training."),
    ] = True
    challenger_capital_fraction: Annotated[
        _OpenShare, Field(description="Share of the paper capital the challenger bot trades.")
    ] = 0.2
    min_challenger_trades: Annotated[
        int,
        Field(ge=2, description="Closed challenger trades before the promotion test is run."),
    ] = 20
    max_challenger_days: Annotated[
        int,
        Field(
            ge=0,
            description="A challenger still short of trades after this long is rejected "
            "(0: the first pass decides whatever the trade count; the bots' test uses it).",
        ),
    ] = 42
    confidence: Annotated[
        float, Field(gt=0.5, lt=1, description="One-sided confidence of the promotion test.")
    ] = 0.95
    rollback_drawdown: Annotated[
        _OpenShare,
        Field(description="Roll back when the drawdown since a promotion exceeds this."),
    ] = 0.10
    keep_checkpoints: Annotated[
        int,
        Field(
            ge=2,
            le=100,
            description="Model checkpoints kept on disk (the production one always).",
        ),
    ] = 5
    retire_after: Annotated[
        int,
        Field(
            ge=0,
            le=1000,
            description=(
                "Retire a champion that failed its own thresholds (min_sharpe, max_drawdown, "
                "min_win_rate over evaluation_days) at this many decisions in a row, for the "
                "best registered checkpoint that meets them or for cash; 0 never retires."
            ),
        ),
    ] = 30

"""``swing.labels``: the triple-barrier label's settings (used by :mod:`freqai_swing.labels`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic.dataclasses import dataclass

from freqai_swing.settings.errors import SETTINGS_CONFIG

BarrierMode = Literal["fixed", "volatility"]
_Fraction = Annotated[float, Field(gt=0, lt=1)]


@dataclass(frozen=True, config=SETTINGS_CONFIG)
class LabelConfig:
    """Settings of the triple-barrier label; a wrong value raises a ``ValueError`` naming it."""

    horizon_candles: Annotated[
        int,
        Field(ge=1, le=500, description="N, how many future candles the barriers are watched for."),
    ] = 24
    barrier_pct: Annotated[
        _Fraction, Field(description="x for ``fixed`` mode, as a fraction (0.02 = 2 %).")
    ] = 0.02
    barrier_mode: Annotated[
        BarrierMode,
        Field(
            description="``fixed`` uses ``barrier_pct``; ``volatility`` scales the barrier with "
            "the recent realised volatility so that calm and wild markets get comparable labels."
        ),
    ] = "fixed"
    volatility_multiplier: Annotated[
        float,
        Field(
            gt=0,
            description="In ``volatility`` mode, x = multiplier * std(log returns over "
            "``volatility_window`` past candles) * sqrt(N), bounded by ``min/max_barrier_pct``.",
        ),
    ] = 1.0
    volatility_window: Annotated[
        int,
        Field(ge=2, description="Past candles of the volatility estimate (backward-looking only)."),
    ] = 168
    min_barrier_pct: Annotated[
        _Fraction, Field(description="Lower bound on x in ``volatility`` mode (must beat fees).")
    ] = 0.01
    max_barrier_pct: Annotated[
        _Fraction, Field(description="Upper bound on x in ``volatility`` mode.")
    ] = 0.08

    @field_validator("max_barrier_pct")
    @classmethod
    def _bounds_in_order(cls, value: float, info: ValidationInfo) -> float:
        low = info.data.get("min_barrier_pct")
        if low is not None and value < low:
            raise ValueError(f"must be >= min_barrier_pct ({low}), got {value}")
        return value

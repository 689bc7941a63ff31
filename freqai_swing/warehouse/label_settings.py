"""The label settings a model was trained with, as the warehouse stores and the report reads them.

The report scores each prediction against the class its candle really had, rebuilt from the
candles; that class is only the one the model learned when it is rebuilt with exactly the
model's triple-barrier settings on its candle timeframe. So every field of
:class:`~freqai_swing.labels.LabelConfig` has a column (``label_`` + the field's name) in
``model_versions`` and ``backtest_runs``, beside the run's ``timeframe``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, fields
from typing import Any, Final

import pandas as pd

from freqai_swing.labels import LabelConfig

#: One column per :class:`~freqai_swing.labels.LabelConfig` field, with its DuckDB type.
LABEL_COLUMNS: Final[dict[str, str]] = {
    "label_horizon_candles": "INTEGER",
    "label_barrier_pct": "DOUBLE",
    "label_barrier_mode": "VARCHAR",
    "label_volatility_multiplier": "DOUBLE",
    "label_volatility_window": "INTEGER",
    "label_min_barrier_pct": "DOUBLE",
    "label_max_barrier_pct": "DOUBLE",
}

#: The candle period labels were computed on when a model's is unknown (the bundle's own).
DEFAULT_TIMEFRAME: Final = "1h"

_FIELDS: Final = tuple(field.name for field in fields(LabelConfig))
_TYPES: Final = {"INTEGER": int, "DOUBLE": float, "VARCHAR": str}


def label_columns(config: Mapping[str, Any]) -> dict[str, Any]:
    """A run's label columns from its Freqtrade config.

    With the bundle's ``swing`` block every setting is stored, the defaults the strategy used
    for those the config leaves out included; without one (another strategy, or a config
    FreqAI did not keep, such as ``run_params.json``) they are unknown: NULL.
    """
    swing = config.get("swing")
    if not isinstance(swing, Mapping):
        return dict.fromkeys(LABEL_COLUMNS)
    labels = swing.get("labels") or {}
    try:
        settings = asdict(LabelConfig(**labels))
    except (TypeError, ValueError):  # not this bundle's settings: what it names, as given
        settings = {name: labels.get(name) for name in _FIELDS}
    return {f"label_{name}": settings[name] for name in _FIELDS}


def stored_label_config(row: Mapping[str, Any]) -> LabelConfig:
    """The :class:`~freqai_swing.labels.LabelConfig` of a stored row; a NULL setting is
    the default (a run whose config did not say)."""
    settings: dict[str, Any] = {}
    for name in _FIELDS:
        column = f"label_{name}"
        value = row.get(column)
        if value is not None and not pd.isna(value):
            settings[name] = _TYPES[LABEL_COLUMNS[column]](value)
    return LabelConfig(**settings)

"""The stacked ensemble: members trained per purged fold, weighted and calibrated out of sample.

Before the models were put in one folder per family this package was a single module, and
ensembles pickled then (FreqAI's model files) name their classes by its path: those names are
looked up in the modules that hold them now.
"""

from __future__ import annotations

import importlib
from typing import Any, Final

_MOVED: Final[dict[str, str]] = {
    "SwingEnsemble": "stacked",
    "IdentityCalibration": "calibration",
    "IsotonicCalibration": "calibration",
    "SigmoidCalibration": "calibration",
    "MemberFile": "persistence",
    "TrialRecord": "tuning",
    "TuningResult": "tuning",
}


def __getattr__(name: str) -> Any:
    module = _MOVED.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)

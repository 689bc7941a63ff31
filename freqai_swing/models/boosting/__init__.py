"""The gradient-boosting family: XGBoost and LightGBM on the fixed classes.

Before the models were put in one folder per family this package was a single module, and
classifiers pickled then (FreqAI's model files) name their classes by its path and old names:
those are looked up in :mod:`.cores`, under the names they have now.
"""

from __future__ import annotations

import importlib
from typing import Any, Final

_RENAMED: Final[dict[str, str]] = {
    "XGBoostSwingModel": "XGBoostCore",
    "LightGBMSwingModel": "LightGBMCore",
}


def __getattr__(name: str) -> Any:
    if name not in _RENAMED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.cores"), _RENAMED[name])

"""Test-only strategies: the shipped one with loose entries, and the same trained on labels
shuffled in time (a model without signal).

Loaded by freqtrade's resolver from ``--strategy-path tests/support/shuffled_labels``; the
shipped strategy is imported from its file so that only the entry threshold and the targets
differ. Loose entries (any expected edge above −1 %) make both trade often enough in a short
test period for the promotion test, not the trade count, to decide.
"""

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from freqai_swing.signals import SignalThresholds

_FILE = Path(__file__).resolve().parents[3] / "strategies" / "SwingClassifierStrategy.py"
_SPEC = importlib.util.spec_from_file_location("swing_classifier_strategy_for_tests", _FILE)
assert _SPEC is not None and _SPEC.loader is not None
_MODULE = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_MODULE)


class LooseSwingStrategy(_MODULE.SwingClassifierStrategy):
    """The shipped strategy, entering wherever P(up) is not far below P(down)."""

    def thresholds(self) -> SignalThresholds:
        return SignalThresholds(min_edge=-0.01, min_up_probability=0.0, exit_down_probability=0.5)


class ShuffledLabelStrategy(LooseSwingStrategy):
    """Same features, thresholds and exits; the triple-barrier labels permuted (seeded)."""

    def set_freqai_targets(
        self, dataframe: pd.DataFrame, metadata: dict[str, Any], **kwargs: Any
    ) -> pd.DataFrame:
        dataframe = super().set_freqai_targets(dataframe, metadata, **kwargs)
        generator = np.random.default_rng(7)
        for column in [c for c in dataframe.columns if str(c).startswith("&")]:
            dataframe[column] = generator.permutation(dataframe[column].to_numpy())
        return dataframe

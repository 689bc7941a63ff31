"""freqai-swing core: features, labels, model cores and signals shared by strategies and tools."""

import os

# XGBoost, LightGBM and torch each spin OpenMP threads while waiting for work. On a home PC with
# two cores and anything else running (FreqAI's training thread, another bot), spinning threads
# slowed a 60-round fit from 0.6 s to 40 s here; passive waiting costs nothing measurable. It
# must be set before the first of those libraries loads, which importing the bundle precedes.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"

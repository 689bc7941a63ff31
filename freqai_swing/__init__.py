"""freqai-swing core: features, labels, model cores and risk rules shared by strategies and tools."""

__version__ = "0.1.0"

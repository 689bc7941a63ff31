"""freqai-swing commands: local exchange, sample data, offline freqtrade runs, the demo."""

"""freqai-swing command-line tools: local exchange, sample data, and (later) export, report, selftrain."""

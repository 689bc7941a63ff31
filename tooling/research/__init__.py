"""Research scripts whose results the docs quote (each logs what it tried)."""

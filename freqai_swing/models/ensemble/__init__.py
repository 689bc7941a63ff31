"""The stacked ensemble: members trained per purged fold, weighted and calibrated out of sample."""

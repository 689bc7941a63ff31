"""Lineage: the model version behind each trade, and the run settings each version inherits."""

from __future__ import annotations

import duckdb


def link_trades_to_models(connection: duckdb.DuckDBPyConnection) -> None:
    """Name each trade's model version: the model that predicted its signal candle.

    In a backtest that is the identifier's sub-train folder whose training ended at or before
    the signal candle (FreqAI predicts each window with the model trained just before it); for
    a dry-run or live bot, the latest model of any identifier trained by then for that pair.
    """
    connection.execute(
        """
        UPDATE model_versions SET freqaimodel = r.freqaimodel,
            label_horizon_candles = coalesce(model_versions.label_horizon_candles,
                                             r.label_horizon_candles),
            label_barrier_pct = coalesce(model_versions.label_barrier_pct, r.label_barrier_pct),
            label_barrier_mode = coalesce(model_versions.label_barrier_mode, r.label_barrier_mode)
        FROM (SELECT identifier, any_value(freqaimodel) AS freqaimodel,
                     any_value(label_horizon_candles) AS label_horizon_candles,
                     any_value(label_barrier_pct) AS label_barrier_pct,
                     any_value(label_barrier_mode) AS label_barrier_mode
              FROM backtest_runs WHERE identifier IS NOT NULL GROUP BY identifier) r
        WHERE model_versions.identifier = r.identifier AND model_versions.freqaimodel IS NULL
        """
    )
    connection.execute(
        """
        UPDATE trades SET identifier = m.identifier, model_trained_at = m.trained_at,
                          model_version = m.model_version
        FROM (
            SELECT t.source, t.trade_id, m.identifier, m.trained_at,
                   m.identifier || '@' || epoch(m.trained_at)::BIGINT AS model_version
            FROM trades t ASOF JOIN model_versions m
              ON t.pair = m.pair AND t.identifier = m.identifier AND t.signal_date >= m.trained_at
            WHERE t.model_version IS NULL AND t.identifier IS NOT NULL
            UNION ALL
            SELECT t.source, t.trade_id, m.identifier, m.trained_at,
                   m.identifier || '@' || epoch(m.trained_at)::BIGINT AS model_version
            FROM trades t ASOF JOIN model_versions m
              ON t.pair = m.pair AND t.signal_date >= m.trained_at
            WHERE t.model_version IS NULL AND t.identifier IS NULL
        ) m
        WHERE trades.source = m.source AND trades.trade_id = m.trade_id
        """
    )

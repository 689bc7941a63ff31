"""Lineage: the model version behind each trade, and the run settings each version inherits."""

from __future__ import annotations

import duckdb

from freqai_swing.warehouse.label_settings import LABEL_COLUMNS


def link_trades_to_models(connection: duckdb.DuckDBPyConnection) -> None:
    """Name each trade's model version: the model that predicted its signal candle.

    In a backtest that is the identifier's sub-train folder whose training ended at or before
    the signal candle (FreqAI predicts each window with the model trained just before it); for
    a dry-run or live bot, the latest model of any identifier trained by then for that pair.
    A version first takes its model class, candle timeframe and label settings from the latest
    backtest of its identifier where its own folder did not record them.
    """
    inherited = ("freqaimodel", "timeframe", *LABEL_COLUMNS)
    settings = ",\n".join(
        f"{column} = coalesce(model_versions.{column}, r.{column})" for column in inherited
    )
    # one run's settings together (the identifier's latest), never a mix of several runs'
    connection.execute(
        f"""
        UPDATE model_versions SET {settings}
        FROM (SELECT identifier, {", ".join(inherited)} FROM backtest_runs
              WHERE identifier IS NOT NULL
              QUALIFY row_number() OVER (PARTITION BY identifier ORDER BY source DESC) = 1) r
        WHERE model_versions.identifier = r.identifier AND model_versions.freqaimodel IS NULL
        """  # noqa: S608 - column names of the schema
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

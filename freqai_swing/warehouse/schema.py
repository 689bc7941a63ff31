"""The warehouse's tables and their unique keys.

Every table has a unique key (``KEYS``), so that an export inserting the same source twice adds
nothing and a source that changed replaces its own rows. All but ``ohlcv`` hold it as their
primary key (``INSERT OR IGNORE`` / ``INSERT OR REPLACE``).

``ohlcv``, by far the largest relation, is a view over two storage tables: ``candle_series``
(one row per exchange, pair, timeframe and candle type, with a small integer id) and
``candles`` (the id, the date and the prices). Four text columns repeated on every candle
cost DuckDB more than the prices themselves to insert and to store; the view gives queries the
wide rows. ``candles`` is bulk-loaded without an index (one would double its load time): its
key is kept by inserting with an anti-join on ``(series_id, date)``, and candle files with
repeated dates are refused.
All timestamps are UTC, stored as DuckDB ``TIMESTAMP`` (no time-zone extension needed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from freqai_swing.warehouse.label_settings import LABEL_COLUMNS

if TYPE_CHECKING:
    import duckdb

#: The storage behind the ``ohlcv`` view (created first; not exported on their own).
STORAGE_TABLES: Final[dict[str, str]] = {
    "candle_series": """
        CREATE TABLE IF NOT EXISTS candle_series (
            series_id INTEGER NOT NULL,
            exchange VARCHAR NOT NULL,
            pair VARCHAR NOT NULL,
            timeframe VARCHAR NOT NULL,
            candle_type VARCHAR NOT NULL,
            PRIMARY KEY (series_id),
            UNIQUE (exchange, pair, timeframe, candle_type)
        )""",
    "candles": """
        CREATE TABLE IF NOT EXISTS candles (
            series_id INTEGER NOT NULL,
            date TIMESTAMP NOT NULL,
            open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE, volume DOUBLE
        )""",
}

#: Relation name -> DDL: what users query and what Parquet export writes.
TABLES: Final[dict[str, str]] = {
    "ohlcv": """
        CREATE VIEW IF NOT EXISTS ohlcv AS
        SELECT s.exchange, s.pair, s.timeframe, s.candle_type,
               c.date, c.open, c.high, c.low, c.close, c.volume
        FROM candles c JOIN candle_series s USING (series_id)""",
    "model_versions": """
        CREATE TABLE IF NOT EXISTS model_versions (
            identifier VARCHAR NOT NULL,
            pair VARCHAR NOT NULL,
            trained_at TIMESTAMP NOT NULL,
            model_version VARCHAR NOT NULL,
            freqaimodel VARCHAR,
            train_start TIMESTAMP,
            train_end TIMESTAMP,
            feature_count INTEGER,
            validation_skill DOUBLE,
            label_horizon_candles INTEGER,
            label_barrier_pct DOUBLE,
            label_barrier_mode VARCHAR,
            folder VARCHAR,
            timeframe VARCHAR,
            label_volatility_multiplier DOUBLE,
            label_volatility_window INTEGER,
            label_min_barrier_pct DOUBLE,
            label_max_barrier_pct DOUBLE,
            PRIMARY KEY (identifier, pair, trained_at)
        )""",
    "features": """
        CREATE TABLE IF NOT EXISTS features (
            identifier VARCHAR NOT NULL,
            pair VARCHAR NOT NULL,
            trained_at TIMESTAMP NOT NULL,
            feature VARCHAR NOT NULL,
            position INTEGER NOT NULL,
            importance DOUBLE,
            PRIMARY KEY (identifier, pair, trained_at, feature)
        )""",
    "predictions": """
        CREATE TABLE IF NOT EXISTS predictions (
            identifier VARCHAR NOT NULL,
            pair VARCHAR NOT NULL,
            date TIMESTAMP NOT NULL,
            trained_at TIMESTAMP,
            predicted_class VARCHAR,
            p_down DOUBLE, p_flat DOUBLE, p_up DOUBLE,
            do_predict DOUBLE,
            validation_skill DOUBLE,
            PRIMARY KEY (identifier, pair, date)
        )""",
    "backtest_runs": """
        CREATE TABLE IF NOT EXISTS backtest_runs (
            source VARCHAR NOT NULL,
            strategy VARCHAR NOT NULL,
            run_id VARCHAR,
            freqaimodel VARCHAR,
            identifier VARCHAR,
            timeframe VARCHAR,
            backtest_start TIMESTAMP,
            backtest_end TIMESTAMP,
            starting_balance DOUBLE,
            final_balance DOUBLE,
            total_trades INTEGER,
            profit_total DOUBLE,
            sharpe DOUBLE, sortino DOUBLE, calmar DOUBLE,
            max_drawdown DOUBLE,
            win_rate DOUBLE,
            label_horizon_candles INTEGER,
            label_barrier_pct DOUBLE,
            label_barrier_mode VARCHAR,
            label_volatility_multiplier DOUBLE,
            label_volatility_window INTEGER,
            label_min_barrier_pct DOUBLE,
            label_max_barrier_pct DOUBLE,
            PRIMARY KEY (source, strategy)
        )""",
    "trades": """
        CREATE TABLE IF NOT EXISTS trades (
            source VARCHAR NOT NULL,
            trade_id BIGINT NOT NULL,
            mode VARCHAR NOT NULL,
            strategy VARCHAR,
            exchange VARCHAR,
            pair VARCHAR NOT NULL,
            is_open BOOLEAN,
            is_short BOOLEAN,
            leverage DOUBLE,
            open_date TIMESTAMP NOT NULL,
            close_date TIMESTAMP,
            signal_date TIMESTAMP,
            open_rate DOUBLE,
            close_rate DOUBLE,
            amount DOUBLE,
            stake_amount DOUBLE,
            fee_open DOUBLE,
            fee_close DOUBLE,
            profit_abs DOUBLE,
            profit_ratio DOUBLE,
            enter_tag VARCHAR,
            exit_reason VARCHAR,
            identifier VARCHAR,
            model_trained_at TIMESTAMP,
            model_version VARCHAR,
            PRIMARY KEY (source, trade_id)
        )""",
    "orders": """
        CREATE TABLE IF NOT EXISTS orders (
            source VARCHAR NOT NULL,
            trade_id BIGINT NOT NULL,
            order_index INTEGER NOT NULL,
            pair VARCHAR,
            side VARCHAR,
            is_entry BOOLEAN,
            status VARCHAR,
            order_type VARCHAR,
            amount DOUBLE,
            filled DOUBLE,
            price DOUBLE,
            cost DOUBLE,
            filled_at TIMESTAMP,
            tag VARCHAR,
            PRIMARY KEY (source, trade_id, order_index)
        )""",
    "model_performance": """
        CREATE TABLE IF NOT EXISTS model_performance (
            identifier VARCHAR NOT NULL,
            trained_at TIMESTAMP NOT NULL,
            model_version VARCHAR NOT NULL,
            pairs INTEGER,
            train_start TIMESTAMP,
            train_end TIMESTAMP,
            active_until TIMESTAMP,
            mean_validation_skill DOUBLE,
            backtest_trades INTEGER,
            backtest_profit_abs DOUBLE,
            backtest_sharpe DOUBLE,
            backtest_sortino DOUBLE,
            backtest_max_drawdown DOUBLE,
            backtest_win_rate DOUBLE,
            paper_trades INTEGER,
            paper_profit_abs DOUBLE,
            paper_win_rate DOUBLE,
            live_trades INTEGER,
            live_profit_abs DOUBLE,
            live_win_rate DOUBLE,
            status VARCHAR NOT NULL DEFAULT 'testing',
            status_source VARCHAR NOT NULL DEFAULT 'export',
            PRIMARY KEY (identifier, trained_at)
        )""",
    "sources": """
        CREATE TABLE IF NOT EXISTS sources (
            path VARCHAR NOT NULL,
            kind VARCHAR NOT NULL,
            size BIGINT,
            mtime_ns BIGINT,
            watermark VARCHAR,
            rows_read BIGINT,
            exported_at TIMESTAMP,
            PRIMARY KEY (path)
        )""",
}

#: Each relation's unique key (its primary key above, except for the ``ohlcv`` view).
KEYS: Final[dict[str, tuple[str, ...]]] = {
    "ohlcv": ("exchange", "pair", "timeframe", "candle_type", "date"),
    "model_versions": ("identifier", "pair", "trained_at"),
    "features": ("identifier", "pair", "trained_at", "feature"),
    "predictions": ("identifier", "pair", "date"),
    "backtest_runs": ("source", "strategy"),
    "trades": ("source", "trade_id"),
    "orders": ("source", "trade_id", "order_index"),
    "model_performance": ("identifier", "trained_at"),
    "sources": ("path",),
}

MODEL_STATUSES: Final = ("testing", "production", "retired")


#: ``ohlcv`` as the warehouse first stored it: one wide table with the four key columns on every
#: candle. Such a table is migrated by :func:`create_tables`; the export benchmark loads it too.
WIDE_OHLCV: Final = """
    CREATE TABLE ohlcv (
        exchange VARCHAR NOT NULL, pair VARCHAR NOT NULL, timeframe VARCHAR NOT NULL,
        candle_type VARCHAR NOT NULL, date TIMESTAMP NOT NULL,
        open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE, volume DOUBLE
    )"""

#: What counts the rows of a relation cheaply (the view's rows are its storage's).
COUNTED_AS: Final[dict[str, str]] = {"ohlcv": "candles"}


#: Columns added since the warehouse first stored these tables: the model's candle timeframe
#: and the label settings beyond horizon, barrier and mode (see :mod:`.label_settings`).
_FIRST_STORED: Final = ("label_horizon_candles", "label_barrier_pct", "label_barrier_mode")
_LATER_LABEL_COLUMNS: Final = {
    column: kind for column, kind in LABEL_COLUMNS.items() if column not in _FIRST_STORED
}
ADDED_COLUMNS: Final[dict[str, dict[str, str]]] = {
    "model_versions": {"timeframe": "VARCHAR"} | _LATER_LABEL_COLUMNS,
    "backtest_runs": _LATER_LABEL_COLUMNS,
}


def create_tables(connection: duckdb.DuckDBPyConnection) -> None:
    """Create every missing table and view (an existing warehouse keeps its rows)."""
    for ddl in STORAGE_TABLES.values():
        connection.execute(ddl)
    _migrate_wide_ohlcv(connection)
    for ddl in TABLES.values():
        connection.execute(ddl)
    _add_label_settings(connection)


def _add_label_settings(connection: duckdb.DuckDBPyConnection) -> None:
    """Add the columns of :data:`ADDED_COLUMNS` to a warehouse written before them.

    Their values are in the model folders and result zips already exported, so those are
    forgotten in ``sources``: the export reads them again (their rows are replaced, trades and
    orders ignored as duplicates) and fills the new columns in.
    """
    added = False
    for table, columns in ADDED_COLUMNS.items():
        present = {
            row[0]
            for row in connection.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
                [table],
            ).fetchall()
        }
        for column, kind in columns.items():
            if column not in present:
                connection.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
                added = True
    if added:
        connection.execute("DELETE FROM sources WHERE kind IN ('model', 'backtest')")


def _migrate_wide_ohlcv(connection: duckdb.DuckDBPyConnection) -> None:
    """Move the candles of a warehouse written before the view (``ohlcv`` as a wide table)."""
    kind = connection.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_name = 'ohlcv'"
    ).fetchall()
    if not kind or kind[0][0] != "BASE TABLE":
        return
    connection.execute(
        "INSERT INTO candle_series SELECT row_number() OVER (ORDER BY exchange, pair, timeframe,"
        " candle_type)::INTEGER, exchange, pair, timeframe, candle_type FROM (SELECT DISTINCT"
        " exchange, pair, timeframe, candle_type FROM ohlcv)"
    )
    connection.execute(
        "INSERT INTO candles SELECT s.series_id, o.date, o.open, o.high, o.low, o.close, o.volume"
        " FROM ohlcv o JOIN candle_series s USING (exchange, pair, timeframe, candle_type)"
    )
    connection.execute("DROP TABLE ohlcv")


def model_version_name(identifier: str, trained_at_unix: int) -> str:
    """``<identifier>@<training timestamp>``: FreqAI's own names for a trained model."""
    return f"{identifier}@{trained_at_unix}"

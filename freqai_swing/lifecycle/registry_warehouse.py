"""The registry mirrored into the DuckDB warehouse: statuses and the decision log."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from freqai_swing.lifecycle.registry import ModelRegistry


def sync_warehouse(registry: ModelRegistry, warehouse: Path) -> int:
    """Write every version's status into the warehouse's ``model_performance`` (status
    source ``registry``, which an export keeps) and the decision log into
    ``selftrain_decisions``; one DuckDB transaction. Returns the version rows."""
    import duckdb

    from freqai_swing.warehouse.schema import create_tables

    rows = [
        (
            v.identifier,
            v.trained_at.astimezone(UTC).replace(tzinfo=None),
            v.version_id,
            _naive(v.train_start),
            _naive(v.train_end),
            _metric(v.metrics, "sharpe"),
            _metric(v.metrics, "max_drawdown"),
            _metric(v.metrics, "win_rate"),
            v.status,
        )
        for v in registry.versions()
    ]
    connection = duckdb.connect(str(warehouse))
    try:
        connection.execute("BEGIN TRANSACTION")
        create_tables(connection)
        connection.executemany(
            "INSERT INTO model_performance (identifier, trained_at, model_version, "
            "train_start, train_end, backtest_sharpe, backtest_max_drawdown, "
            "backtest_win_rate, status, status_source) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'registry') "
            "ON CONFLICT (identifier, trained_at) DO UPDATE SET "
            "status = excluded.status, status_source = 'registry', "
            "model_version = excluded.model_version",
            rows,
        )
        connection.execute(_DECISIONS_DDL)
        connection.executemany(
            "INSERT OR REPLACE INTO selftrain_decisions VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    d.decision_id,
                    d.decided_at.astimezone(UTC).replace(tzinfo=None),
                    d.kind,
                    d.version_id,
                    d.champion_id,
                    json.dumps(dict(d.figures), default=str, sort_keys=True),
                    d.message,
                )
                for d in registry.decisions()
            ],
        )
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    finally:
        connection.close()
    return len(rows)


#: The registry's decision log, mirrored into the warehouse (an export keeps other tables).
_DECISIONS_DDL: Final = """
    CREATE TABLE IF NOT EXISTS selftrain_decisions (
        decision_id BIGINT PRIMARY KEY,
        decided_at TIMESTAMP NOT NULL,
        kind VARCHAR NOT NULL,
        version_id VARCHAR,
        champion_id VARCHAR,
        figures VARCHAR,
        message VARCHAR
    )"""


def _naive(moment: datetime | None) -> datetime | None:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment else None


def _metric(metrics: Mapping[str, Any], key: str) -> float | None:
    value = metrics.get(key)
    return float(value) if isinstance(value, int | float) else None

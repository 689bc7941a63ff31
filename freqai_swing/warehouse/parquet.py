"""``freqai-swing export --parquet``: warehouse tables as Parquet files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from freqai_swing.warehouse.errors import WarehouseInputError
from freqai_swing.warehouse.schema import KEYS, TABLES


def export_parquet(
    warehouse: Path, folder: Path, tables: Sequence[str] | None = None
) -> list[Path]:
    """Write tables as Parquet files (DuckDB's built-in ``COPY``; no extension download)."""
    names = list(tables or TABLES)
    unknown = [name for name in names if name not in TABLES]
    if unknown:
        raise ValueError(f"unknown warehouse tables {unknown}; known: {sorted(TABLES)}")
    if not warehouse.exists():
        raise WarehouseInputError(warehouse, "warehouse does not exist (run the export first)")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        for name in names:
            target = folder / f"{name}.parquet"
            partial = folder / f".{name}.parquet.partial"
            connection.execute(
                f"COPY (SELECT * FROM {name} ORDER BY {', '.join(KEYS[name])}) "  # noqa: S608
                f"TO '{partial}' (FORMAT parquet)"
            )
            partial.replace(target)
            written.append(target)
    finally:
        connection.close()
    return written

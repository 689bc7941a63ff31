"""The analytics warehouse: Freqtrade's and FreqAI's files in one DuckDB database."""

from freqai_swing.warehouse.errors import WarehouseInputError
from freqai_swing.warehouse.export import ExportSources, ExportSummary, export_warehouse
from freqai_swing.warehouse.parquet import export_parquet

__all__ = [
    "ExportSources",
    "ExportSummary",
    "WarehouseInputError",
    "export_parquet",
    "export_warehouse",
]

"""``freqai-swing export`` and ``freqai-swing report`` as a user runs them."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as parquet
import pytest

from freqai_swing.warehouse.schema import TABLES
from tests.conftest import SAMPLE_DATADIR, run_bundle_cli
from tests.freqai_swing.conftest import ExportedRun
from tests.freqai_swing.warehouse.test_export import query, table_digest

pytestmark = pytest.mark.slow


def test_export_then_report_from_a_user_directory(exported: ExportedRun, tmp_path: Path) -> None:
    """The user directory's own layout is found without naming each source."""
    userdir = exported.run.userdir
    (userdir / "tradesv3.dryrun.sqlite").write_bytes(exported.paper_db.read_bytes())
    warehouse, parquet_dir = tmp_path / "warehouse.duckdb", tmp_path / "parquet"
    common = ["--warehouse", str(warehouse), "--userdir", str(userdir)]
    first = run_bundle_cli(
        "export", *common, "--datadir", str(SAMPLE_DATADIR), "--parquet", str(parquet_dir),
        "--parquet-tables", "trades,model_performance",
    )  # fmt: skip
    assert first.returncode == 0, first.stderr[-3000:]
    same_sources = ("ohlcv", "model_versions", "features", "predictions", "backtest_runs")
    found, expected = table_digest(warehouse), table_digest(exported.warehouse)
    assert {table: found[table] for table in (*same_sources, "model_performance")} == {
        table: expected[table] for table in (*same_sources, "model_performance")
    }
    by_mode = (
        "SELECT mode, count(*) n, count(model_version) linked FROM trades GROUP BY ALL ORDER BY 1"
    )
    assert query(warehouse, by_mode).equals(query(exported.warehouse, by_mode))
    assert {path.name for path in parquet_dir.iterdir()} == {
        "trades.parquet",
        "model_performance.parquet",
    }
    trades = query(warehouse, "SELECT count(*) n FROM trades")["n"][0]
    assert parquet.read_metadata(parquet_dir / "trades.parquet").num_rows == trades

    again = run_bundle_cli("export", *common, "--datadir", str(SAMPLE_DATADIR))
    assert again.returncode == 0 and "read nothing new; added nothing" in again.stderr, again.stderr

    report = run_bundle_cli(
        "report", "--warehouse", str(warehouse), "--output", str(tmp_path / "r.html")
    )
    assert report.returncode == 0, report.stderr[-3000:]
    assert (tmp_path / "r.html").stat().st_size > 1_000_000, "plotly.js is inside the page"
    assert set(TABLES) >= {"trades", "model_performance"}


def test_report_of_a_missing_warehouse_exits_2_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "none.duckdb"
    result = run_bundle_cli(
        "report", "--warehouse", str(missing), "--output", str(tmp_path / "r.html")
    )
    assert result.returncode == 2
    assert f"{missing}: warehouse does not exist" in result.stderr

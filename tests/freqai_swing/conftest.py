"""Warehouse and report fixtures: one small real FreqAI backtest, a dry-run database made from its
trades, and their export.

Session-scoped: every warehouse and report test reads the same run (about half a minute).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from freqai_swing.warehouse import ExportSources, ExportSummary, export_warehouse
from tests.conftest import (
    REPO_ROOT,
    SAMPLE_DATADIR,
    FreqtradeRun,
    overlay_factory,
    run_freqtrade,
)
from tooling.offline import backtesting_arguments, bundle_environment

#: Two pairs that trade in January 2024, three 10-day walk-forward windows, models kept on disk
#: (``save_backtest_models``) so the export can read feature importances.
PAIRS = ["SOL/USDT", "DOT/USDT"]
TIMERANGE = "20240101-20240131"
FREQAI_OVERLAY = {"backtest_period_days": 10, "save_backtest_models": True}
#: The export is about lineage, not sizing: without the risk layer's Kelly skips the month
#: trades under several model versions, which the lineage test needs.
NO_RISK_LAYER = {"risk": {"enabled": False}}


@dataclass(frozen=True)
class ExportedRun:
    run: FreqtradeRun
    result_zip: Path
    paper_db: Path
    warehouse: Path
    summary: ExportSummary

    @property
    def sources(self) -> ExportSources:
        return full_sources(self.run.userdir, self.paper_db)


def full_sources(userdir: Path, paper_db: Path, **changes) -> ExportSources:
    fields = {
        "datadir": SAMPLE_DATADIR,
        "backtest_results": userdir / "backtest_results",
        "models": userdir / "models",
        "paper_dbs": (paper_db,),
    }
    fields.update(changes)
    return ExportSources(**fields)


def make_trade_db(result_zip: Path, database: Path, *options: str) -> None:
    """Write Freqtrade ``Trade``/``Order`` rows from the backtest's trades (in a subprocess)."""
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.freqai_swing.warehouse.make_trade_db",
            str(result_zip),
            str(database),
            *options,
        ],
        cwd=REPO_ROOT,
        env=bundle_environment(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]


@pytest.fixture(scope="session")
def warehouse_backtest(
    tmp_path_factory: pytest.TempPathFactory, offline_overlay: Path
) -> FreqtradeRun:
    overlays = overlay_factory(tmp_path_factory.mktemp("warehouse-overlays"))
    run = run_freqtrade(
        backtesting_arguments("SwingXGBoostClassifier", TIMERANGE),
        userdir=tmp_path_factory.mktemp("warehouse-backtest"),
        overlays=[overlays(PAIRS, freqai=FREQAI_OVERLAY, swing=NO_RISK_LAYER), offline_overlay],
    )
    assert run.returncode == 0, run.output[-3000:]
    return run


@pytest.fixture(scope="session")
def exported(
    warehouse_backtest: FreqtradeRun, tmp_path_factory: pytest.TempPathFactory
) -> ExportedRun:
    folder = tmp_path_factory.mktemp("warehouse")
    (result_zip,) = (warehouse_backtest.userdir / "backtest_results").glob("*.zip")
    paper_db = folder / "tradesv3.dryrun.sqlite"
    make_trade_db(result_zip, paper_db)
    warehouse = folder / "warehouse.duckdb"
    summary = export_warehouse(warehouse, full_sources(warehouse_backtest.userdir, paper_db))
    return ExportedRun(warehouse_backtest, result_zip, paper_db, warehouse, summary)

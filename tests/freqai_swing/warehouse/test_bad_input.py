"""Interrupted exports and bad input: the warehouse is either fully updated or left as it was."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from freqai_swing.warehouse import ExportSources, WarehouseInputError, export_warehouse
from tests.conftest import REPO_ROOT, SAMPLE_DATADIR
from tests.freqai_swing.conftest import ExportedRun, full_sources
from tests.freqai_swing.warehouse.test_export import query, table_digest
from tooling.offline import bundle_environment

pytestmark = pytest.mark.slow


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def candles_only(tmp_path: Path) -> Path:
    """A warehouse holding the candles only: the state every failed export must keep."""
    warehouse = tmp_path / "warehouse.duckdb"
    export_warehouse(warehouse, ExportSources(datadir=SAMPLE_DATADIR))
    return warehouse


def export_command(warehouse: Path, exported: ExportedRun) -> list[str]:
    userdir = exported.run.userdir
    return [
        sys.executable, "-m", "tooling.cli", "export", "--only-named",
        "--warehouse", str(warehouse),
        "--datadir", str(SAMPLE_DATADIR), "--models", str(userdir / "models"),
        "--backtest-results", str(userdir / "backtest_results"), "--paper-db",
        str(exported.paper_db),
    ]  # fmt: skip


def assert_unchanged(warehouse: Path, digest: str) -> None:
    assert file_hash(warehouse) == digest
    assert not list(warehouse.parent.glob("*.export-*.tmp")), "no partial copy left behind"


def contents(warehouse: Path) -> dict[str, str]:
    """Table digests without the ``sources`` bookkeeping (its paths and times differ)."""
    digests = table_digest(warehouse)
    return {table: digest for table, digest in digests.items() if table != "sources"}


@pytest.mark.parametrize("delay", [0.0, 0.1, 0.4])
def test_a_killed_export_leaves_the_warehouse_as_it_was(
    exported: ExportedRun, candles_only: Path, delay: float
) -> None:
    """kill -9 once the export is writing (its working copy exists), at three moments.

    Killed before its final rename, the warehouse is exactly the old file; a kill that lands
    after the rename finds the complete new warehouse. Nothing in between, ever; and a kill
    right after the copy appears is always before the rename.
    """
    before = file_hash(candles_only)
    process = subprocess.Popen(
        export_command(candles_only, exported),
        cwd=REPO_ROOT,
        env=bundle_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not list(candles_only.parent.glob("*.export-*.tmp")):
        assert process.poll() is None, "the export ended before it started writing"
        assert time.monotonic() < deadline
        time.sleep(0.002)
    time.sleep(delay)
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL, "the export exited before the kill"
    if file_hash(candles_only) == before:
        assert query(candles_only, "SELECT count(*) n FROM trades")["n"][0] == 0
    else:
        assert delay > 0, "killed as it started writing, the export cannot have finished"
        assert contents(candles_only) == contents(exported.warehouse), "complete, or untouched"

    rerun = subprocess.run(
        export_command(candles_only, exported),
        cwd=REPO_ROOT,
        env=bundle_environment(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert not list(candles_only.parent.glob("*.export-*.tmp")), "the killed copy was cleaned up"
    assert contents(candles_only) == contents(exported.warehouse)


def test_a_corrupt_result_zip_is_named_and_nothing_is_written(
    exported: ExportedRun, candles_only: Path, tmp_path: Path
) -> None:
    results = tmp_path / "backtest_results"
    shutil.copytree(exported.run.userdir / "backtest_results", results)
    good = exported.result_zip.read_bytes()
    corrupt = results / "backtest-result-2026-01-01_00-00-00.zip"
    corrupt.write_bytes(good[: len(good) // 2])
    before = file_hash(candles_only)
    sources = full_sources(exported.run.userdir, exported.paper_db, backtest_results=results)
    with pytest.raises(
        WarehouseInputError, match="corrupt or unreadable backtest result zip"
    ) as error:
        export_warehouse(candles_only, sources)
    assert error.value.path == corrupt
    assert_unchanged(candles_only, before)

    cli = subprocess.run(
        export_command(candles_only, exported)[:-6] + ["--backtest-results", str(results)],
        cwd=REPO_ROOT,
        env=bundle_environment(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert cli.returncode == 2
    assert f"{corrupt}: corrupt or unreadable backtest result zip" in cli.stderr
    assert "the warehouse is unchanged" in cli.stderr
    assert_unchanged(candles_only, before)


def test_a_trade_database_of_an_older_freqtrade_schema_is_named(
    exported: ExportedRun, candles_only: Path, tmp_path: Path
) -> None:
    """Freqtrade before 2022 called these columns buy_tag and sell_reason."""
    old = tmp_path / "tradesv3.sqlite"
    shutil.copyfile(exported.paper_db, old)
    with sqlite3.connect(old) as connection:
        connection.execute("ALTER TABLE trades RENAME COLUMN enter_tag TO buy_tag")
        connection.execute("ALTER TABLE trades RENAME COLUMN exit_reason TO sell_reason")
    before = file_hash(candles_only)
    sources = full_sources(exported.run.userdir, exported.paper_db, live_dbs=(old,))
    with pytest.raises(WarehouseInputError, match=r"lacks columns \['enter_tag', 'exit_reason'\]"):
        export_warehouse(candles_only, sources)
    assert_unchanged(candles_only, before)


def test_a_locked_trade_database_is_named_and_left_alone(
    exported: ExportedRun, candles_only: Path, tmp_path: Path
) -> None:
    """Freqtrade's databases are in WAL mode, where a running bot never blocks a reader; a
    process in exclusive locking mode (a backup or repair tool, say) does."""
    locked = tmp_path / "tradesv3.dryrun.sqlite"
    shutil.copyfile(exported.paper_db, locked)
    before, database_before = file_hash(candles_only), file_hash(locked)
    holder = sqlite3.connect(locked, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        sources = full_sources(exported.run.userdir, locked, lock_timeout=0.2)
        with pytest.raises(WarehouseInputError, match="database is locked") as error:
            export_warehouse(candles_only, sources)
        assert error.value.path == locked
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert_unchanged(candles_only, before)
    assert file_hash(locked) == database_before, "read-only: the bot's database is untouched"


@pytest.mark.parametrize("kind", ["models", "backtest_results", "datadir", "paper_dbs"])
def test_a_missing_folder_or_database_is_named(
    exported: ExportedRun, candles_only: Path, tmp_path: Path, kind: str
) -> None:
    missing = tmp_path / "no-such-place"
    value = (missing,) if kind == "paper_dbs" else missing
    sources = full_sources(exported.run.userdir, exported.paper_db, **{kind: value})
    before = file_hash(candles_only)
    with pytest.raises(WarehouseInputError, match="does not exist") as error:
        export_warehouse(candles_only, sources)
    assert error.value.path == missing
    assert_unchanged(candles_only, before)


def test_a_candle_file_with_repeated_dates_is_named(candles_only: Path, tmp_path: Path) -> None:
    datadir = tmp_path / "binance"
    datadir.mkdir()
    candles = pd.read_feather(SAMPLE_DATADIR / "ETH_USDT-4h.feather")
    pd.concat([candles, candles.tail(3)], ignore_index=True).to_feather(
        datadir / "ETH_USDT-4h.feather"
    )
    before = file_hash(candles_only)
    with pytest.raises(WarehouseInputError, match="repeated candle dates") as error:
        export_warehouse(candles_only, ExportSources(datadir=datadir))
    assert error.value.path == datadir / "ETH_USDT-4h.feather"
    assert_unchanged(candles_only, before)


@pytest.mark.parametrize(
    ("pattern", "named"),
    [
        ("backtesting_predictions/*_prediction.feather", "corrupt or unreadable prediction file"),
        ("sub-train-*/*_model.joblib", "corrupt or unreadable model file"),
    ],
)
def test_a_corrupt_freqai_file_is_named_with_its_fix_and_nothing_is_written(
    exported: ExportedRun, candles_only: Path, tmp_path: Path, pattern: str, named: str
) -> None:
    """One policy for FreqAI's prediction and model files: stop, name the file and the fix."""
    models = tmp_path / "models"
    shutil.copytree(exported.run.userdir / "models", models)
    corrupt = sorted(models.glob(f"*/{pattern}"))[0]
    corrupt.write_bytes(corrupt.read_bytes()[: corrupt.stat().st_size // 2])
    before = file_hash(candles_only)
    sources = full_sources(exported.run.userdir, exported.paper_db, models=models)
    with pytest.raises(WarehouseInputError, match=named) as error:
        export_warehouse(candles_only, sources)
    assert error.value.path == corrupt
    assert "make clean-models" in str(error.value)
    assert "\n" not in str(error.value)
    assert_unchanged(candles_only, before)

"""The model registry: statuses, the one-champion rule, pruning, crash safety, the warehouse."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from freqai_swing.lifecycle.registry import (
    ModelRegistry,
    ModelVersion,
    RegistryError,
    folder_hash,
    install_checkpoint,
)
from tests.conftest import REPO_ROOT, SAMPLE_DATADIR

START = datetime(2024, 1, 1, tzinfo=UTC)


def model_folder(root: Path, index: int) -> Path:
    """A FreqAI-shaped model folder holding real candle files (what is in it does not matter
    to the registry, only that it is copied, hashed and kept or pruned whole)."""
    folder = root / f"swing-{index}"
    sub = folder / f"sub-train-BTC_{1704067200 + index}"
    sub.mkdir(parents=True)
    candles = (SAMPLE_DATADIR / "BTC_USDT-1d.feather").read_bytes()
    (sub / f"cb_btc_{index}_model.joblib").write_bytes(candles + index.to_bytes(4, "little"))
    (folder / "pair_dictionary.json").write_text(
        json.dumps({"BTC/USDT": {"model_filename": f"cb_btc_{index}", "data_path": str(sub)}})
    )
    return folder


def version(index: int) -> ModelVersion:
    return ModelVersion(
        version_id=f"swing-{index}@{1704067200 + index}",
        identifier=f"swing-{index}",
        trained_at=START + timedelta(days=7 * index),
        metrics={"sharpe": 1.0 + index, "win_rate": 0.5},
    )


def test_promotion_swaps_the_champion_in_one_transaction(tmp_path: Path) -> None:
    with ModelRegistry(tmp_path / "registry") as registry:
        for index in range(3):
            registry.register(version(index), model_folder(tmp_path, index))
        assert all(v.status == "testing" for v in registry.versions())
        registry.promote(version(0).version_id, {}, "first")
        registry.promote(version(1).version_id, {"p_value": 0.01}, "better")
        statuses = {v.version_id: v.status for v in registry.versions()}
        assert statuses == {
            version(0).version_id: "retired",
            version(1).version_id: "production",
            version(2).version_id: "testing",
        }
        assert registry.previous_champion().version_id == version(0).version_id
        # a rollback restores version 0; version 1, rolled back, is never a rollback target
        registry.rollback({"drawdown_since_promotion": 0.12}, "drawdown")
        assert registry.production().version_id == version(0).version_id
        assert registry.previous_champion() is None
        assert not registry.promoted_by_test()  # a rolled-back-to model is not watched
        registry.promote(version(1).version_id, {}, "better again")
        assert registry.promoted_by_test()
        kinds = [d.kind for d in registry.decisions()]
        assert kinds == ["register"] * 3 + ["promote", "promote", "rollback", "promote"]
        assert registry.decisions()[4].figures == {"p_value": 0.01}
        # the store itself refuses a second production row
        connection = sqlite3.connect(registry.path)
        with pytest.raises(sqlite3.IntegrityError):
            connection.execute(
                "UPDATE versions SET status = 'production' WHERE version_id = ?",
                (version(2).version_id,),
            )
        connection.close()
        with pytest.raises(RegistryError, match="no model version"):
            registry.promote("missing@1", {}, "nope")


def test_checkpoint_is_a_hashed_copy_and_installs_for_freqai(tmp_path: Path) -> None:
    source = model_folder(tmp_path, 0)
    with ModelRegistry(tmp_path / "registry") as registry:
        recorded = registry.register(version(0), source)
    assert recorded.checkpoint is not None and recorded.checkpoint.is_dir()
    assert recorded.file_hash == folder_hash(source) == folder_hash(recorded.checkpoint)
    bot_models = tmp_path / "bot" / "models"
    (bot_models / "swing-abc").mkdir(parents=True)
    history = (SAMPLE_DATADIR / "ETH_USDT-1d.feather").read_bytes()
    (bot_models / "swing-abc" / "historic_predictions.pkl").write_bytes(history)
    installed = install_checkpoint(recorded, bot_models, "swing-abc")
    assert (installed / "historic_predictions.pkl").read_bytes() == history
    paths = json.loads((installed / "pair_dictionary.json").read_text())
    assert Path(paths["BTC/USDT"]["data_path"]).parent == installed
    assert Path(paths["BTC/USDT"]["data_path"]).is_dir()


def test_pruning_keeps_exactly_five_and_never_the_production_model(tmp_path: Path) -> None:
    with ModelRegistry(tmp_path / "registry", keep_checkpoints=5) as registry:
        registry.register(version(0), model_folder(tmp_path, 0))
        registry.promote(version(0).version_id, {}, "the oldest stays champion")
        for index in range(1, 9):
            registry.register(version(index), model_folder(tmp_path, index))
            registry.prune()
        on_disk = sorted(p.name for p in registry.checkpoints.iterdir())
        assert len(on_disk) == 5
        production = registry.production()
        assert production.version_id == version(0).version_id
        assert production.checkpoint.is_dir()
        kept = [v for v in registry.versions() if v.checkpoint is not None]
        assert len(kept) == 5
        # the newest four challengers are the others kept; every version is still recorded
        assert {v.version_id for v in kept} == {version(i).version_id for i in (0, 5, 6, 7, 8)}
        assert len(registry.versions()) == 9
        # past champions outrank plain challengers
        registry.promote(version(5).version_id, {}, "")
        registry.promote(version(6).version_id, {}, "")
        for index in range(9, 12):
            registry.register(version(index), model_folder(tmp_path, index))
        registry.prune()
        kept = {v.version_id for v in registry.versions() if v.checkpoint is not None}
        assert kept == {version(i).version_id for i in (6, 5, 0, 11, 10)}
        assert len(list(registry.checkpoints.iterdir())) == 5


HAMMER = """
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
sys.path.insert(0, {repo!r})
from tests.freqai_swing.lifecycle.test_registry import model_folder, version
from freqai_swing.lifecycle.registry import ModelRegistry
root = Path({root!r})
registry = ModelRegistry(root / "registry", keep_checkpoints=3)
for index in range(1000):
    folder = model_folder(root / "sources" / str(index), index)
    registry.register(version(index), folder)
    print("registered", index, flush=True)
    registry.promote(version(index).version_id, {{}}, "next")
    print("promoted", index, flush=True)
    registry.prune()
"""


@pytest.mark.parametrize("delay", [0.05, 0.4, 1.1])
def test_kill_minus_nine_loses_no_entry_and_never_two_champions(
    tmp_path: Path, delay: float
) -> None:
    script = tmp_path / "hammer.py"
    script.write_text(HAMMER.format(repo=str(REPO_ROOT), root=str(tmp_path)))
    log = tmp_path / "hammer.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, str(script)],
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    # kill at a different point of the work each time, once it is under way
    deadline = time.monotonic() + 60
    while "registered" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(delay)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    lines = log.read_text().splitlines()
    registered = {int(line.split()[1]) for line in lines if line.startswith("registered")}
    promoted = [int(line.split()[1]) for line in lines if line.startswith("promoted")]
    assert registered, log.read_text()[-2000:]
    with ModelRegistry(tmp_path / "registry", keep_checkpoints=3) as registry:
        recorded = {v.version_id for v in registry.versions()}
        assert {version(i).version_id for i in registered} <= recorded
        production = [v for v in registry.versions() if v.status == "production"]
        assert len(production) <= 1
        if promoted:
            # the last reported promotion holds, or a later one that committed before the kill
            assert int(production[0].version_id.split("@")[1]) - 1704067200 >= promoted[-1]
        # every checkpoint a row points at is complete, and the restart's prune sweeps leftovers
        for entry in registry.versions():
            if entry.checkpoint is not None:
                assert folder_hash(entry.checkpoint) == entry.file_hash
        registry.prune()
        names = {p.name for p in registry.checkpoints.iterdir()}
        assert not any(".tmp-" in name for name in names)
        assert len(names) <= 3


def test_statuses_reach_the_warehouse_as_registry_decisions(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    with ModelRegistry(tmp_path / "registry") as registry:
        for index in range(2):
            registry.register(version(index), model_folder(tmp_path, index))
        registry.promote(version(1).version_id, {}, "better")
        assert registry.sync_warehouse(warehouse) == 2
        registry.promote(version(0).version_id, {}, "rollback", kind="rollback")
        registry.sync_warehouse(warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute(
            "SELECT model_version, status, status_source FROM model_performance ORDER BY 1"
        ).fetchall()
    assert rows == [
        (version(0).version_id, "production", "registry"),
        (version(1).version_id, "retired", "registry"),
    ]
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        kinds = connection.execute(
            "SELECT kind, version_id FROM selftrain_decisions ORDER BY decision_id"
        ).fetchall()
    assert kinds[-2:] == [("promote", version(1).version_id), ("rollback", version(0).version_id)]
    # and the report shows them
    from freqai_swing.report.html import build_figures

    (section,) = [s for s in build_figures(warehouse) if s.title == "Self-training decisions"]
    assert section.table is not None
    assert list(section.table["kind"][:2]) == ["rollback", "promote"]
    assert list(section.table["message"][:2]) == ["rollback", "better"]

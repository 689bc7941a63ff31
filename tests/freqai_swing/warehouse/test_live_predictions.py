"""A dry-run or live bot's ``historic_predictions.pkl``, written by FreqAI's own data drawer."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from freqtrade.freqai.data_drawer import FreqaiDataDrawer

from freqai_swing.warehouse import ExportSources, export_warehouse
from tests.freqai_swing.conftest import ExportedRun
from tests.freqai_swing.warehouse.test_export import query

pytestmark = pytest.mark.slow


def bot_folder(exported: ExportedRun, target: Path) -> pd.DataFrame:
    """A model folder as a bot leaves it: sub-train folders plus FreqAI's prediction history,
    here the backtest's real predictions saved through ``FreqaiDataDrawer``."""
    (source,) = (exported.run.userdir / "models").iterdir()
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("backtesting_predictions"))
    drawer = FreqaiDataDrawer(target, {"freqai": {"identifier": source.name}})
    expected = []
    for coin, pair in (("sol", "SOL/USDT"), ("dot", "DOT/USDT")):
        files = sorted((source / "backtesting_predictions").glob(f"cb_{coin}_*_prediction.feather"))
        frames = [
            pd.read_feather(path).assign(trained_at=int(path.name.split("_")[2])) for path in files
        ]
        history = pd.concat(frames, ignore_index=True).rename(columns={"date": "date_pred"})
        expected.append(history.assign(pair=pair))
        drawer.historic_predictions[pair] = history.drop(columns=["trained_at"])
    drawer.save_historic_predictions_to_disk()
    return pd.concat(expected, ignore_index=True)


def test_bot_predictions_name_the_model_that_made_them(
    exported: ExportedRun, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    (identifier,) = (path.name for path in (exported.run.userdir / "models").iterdir())
    expected = bot_folder(exported, models / identifier)
    warehouse = tmp_path / "warehouse.duckdb"
    first = export_warehouse(warehouse, ExportSources(models=models))
    assert first.rows_read["live_predictions"] == len(expected)
    stored = query(warehouse, "SELECT * FROM predictions ORDER BY pair, date")
    assert len(stored) == len(expected)
    merged = stored.merge(
        expected.assign(date=pd.to_datetime(expected["date_pred"]).dt.tz_localize(None)),
        on=["pair", "date"],
        suffixes=("", "_expected"),
    )
    assert len(merged) == len(expected)
    assert (merged["trained_at"] == pd.to_datetime(merged["trained_at_expected"], unit="s")).all()
    assert merged["p_up"].to_numpy() == pytest.approx(merged["up"].to_numpy())
    assert (merged["do_predict"] == merged["do_predict_expected"]).all()

    again = export_warehouse(warehouse, ExportSources(models=models))
    assert "live_predictions" not in again.rows_read and again.rows_added["predictions"] == 0

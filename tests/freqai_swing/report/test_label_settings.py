"""The report scores predictions against the labels the model was trained on: every label setting
and the candle timeframe travel from the run's config through the export into the report."""

from __future__ import annotations

import json
import shutil
import zipfile
from dataclasses import asdict, fields
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

from freqai_swing.labels import CLASS_ORDER, LabelConfig, triple_barrier_labels
from freqai_swing.models.common.freqai_classifier import record_label_settings
from freqai_swing.report import build_figures
from freqai_swing.report.trade_figures import price_figures
from freqai_swing.warehouse import ExportSources, export_warehouse
from freqai_swing.warehouse.label_settings import LABEL_COLUMNS
from freqai_swing.warehouse.schema import ADDED_COLUMNS, TABLES
from tests.conftest import SAMPLE_DATADIR

IDENTIFIER = "swing-volatility"
#: Volatility-scaled barriers with a shorter window and a wider multiplier than the defaults.
LABELS = {
    "barrier_mode": "volatility",
    "horizon_candles": 12,
    "volatility_window": 48,
    "volatility_multiplier": 1.5,
    "max_barrier_pct": 0.06,
}
TRAINED_AT = pd.Timestamp("2023-01-03")
PREDICTED_UNTIL = pd.Timestamp("2023-03-01")
RESULT = "backtest-result-2023-03-02_00-00-00"


def user_data(root: Path, timeframe: str, from_metadata: bool = False) -> ExportSources:
    """SOL/USDT candles (1h and 4h), a FreqAI model folder as FreqAI writes it (its
    ``run_params.json`` names the timeframe, not the bundle's labels) with one model version's
    predictions, and the backtest result whose stored config holds ``swing.labels``; or, for
    ``from_metadata`` (a dry-run or live bot's models folder), no backtest at all and the
    settings the model recorded in its metadata when it was trained."""
    datadir = root / "data" / "binance"
    datadir.mkdir(parents=True)
    for period in ("1h", "4h"):
        shutil.copy(SAMPLE_DATADIR / f"SOL_USDT-{period}.feather", datadir)
    folder = root / "models" / IDENTIFIER
    stamp = int(TRAINED_AT.timestamp())
    sub_train = folder / f"sub-train-SOL_{stamp}"
    (folder / "backtesting_predictions").mkdir(parents=True)
    sub_train.mkdir()
    run_params = {
        "freqai": {"identifier": IDENTIFIER, "train_period_days": 30},
        "timeframe": timeframe,
        "stake_currency": "USDT",
        "pairs": ["SOL/USDT"],
    }
    (folder / "run_params.json").write_text(json.dumps(run_params))
    metadata: dict[str, Any] = {"training_features_list": ["%-rsi"], "extra_returns_per_train": {}}
    if from_metadata:  # what the FreqAI model writes at training time
        kitchen = SimpleNamespace(data=metadata)
        record_label_settings(kitchen, LabelConfig(**LABELS), timeframe)  # type: ignore[arg-type]
        run_params["timeframe"] = "1h"  # the window's own record wins over the folder's
        (folder / "run_params.json").write_text(json.dumps(run_params))
    (sub_train / f"cb_sol_{stamp}_metadata.json").write_text(json.dumps(metadata))
    dates = pd.date_range(TRAINED_AT, PREDICTED_UNTIL, freq=timeframe, tz="UTC")
    probabilities = np.random.default_rng(16).dirichlet(np.ones(3), len(dates))
    predictions = pd.DataFrame({"date": dates, "do_predict": 1})
    for column, name in enumerate(CLASS_ORDER):
        predictions[name] = probabilities[:, column]
    predictions["&-swing_class"] = np.array(CLASS_ORDER)[probabilities.argmax(axis=1)]
    predictions.to_feather(
        folder / "backtesting_predictions" / f"cb_sol_{stamp}_prediction.feather"
    )
    results = root / "backtest_results"
    results.mkdir()
    if from_metadata:
        return ExportSources(datadir=datadir, backtest_results=results, models=root / "models")
    stats = {
        "freqaimodel": "SwingXGBoostClassifier",
        "freqai_identifier": IDENTIFIER,
        "timeframe": timeframe,
        "trades": [],
    }
    config = {"timeframe": timeframe, "swing": {"labels": LABELS}}
    with zipfile.ZipFile(results / f"{RESULT}.zip", "w") as archive:
        archive.writestr(f"{RESULT}.json", json.dumps({"strategy": {"SwingStrategy": stats}}))
        archive.writestr(f"{RESULT}_config.json", json.dumps(config))
    return ExportSources(datadir=datadir, backtest_results=results, models=root / "models")


def expected_scores(timeframe: str) -> pd.DataFrame:
    """The labels the model learned, on the predicted candles."""
    candles = pd.read_feather(SAMPLE_DATADIR / f"SOL_USDT-{timeframe}.feather")
    realized = triple_barrier_labels(candles, LabelConfig(**LABELS), timeframe)
    by_date = pd.Series(realized.to_numpy(), index=candles["date"].dt.tz_localize(None))
    dates = pd.date_range(TRAINED_AT, PREDICTED_UNTIL, freq=timeframe)
    return by_date.reindex(dates).dropna()


def reliability(warehouse: Path) -> dict[str, float]:
    """The report's reliability section: candles scored, and per class the observed
    frequency over all bins (each bin's frequency weighted by its count)."""
    sections = {section.title: section for section in build_figures(warehouse)}
    figure = sections["Reliability"].figure
    assert figure is not None
    found = {"candles": float(figure.layout.title.text.split("(")[1].split()[0])}
    for trace in figure.data[1:]:
        counts = np.array([int(text.removeprefix("n=")) for text in trace.text])
        found[trace.name] = float(np.dot(trace.y, counts) / counts.sum())
    return found


@pytest.mark.parametrize(
    ("timeframe", "from_metadata"), [("1h", False), ("4h", False), ("4h", True)]
)
def test_the_report_scores_against_the_labels_the_model_learned(
    tmp_path: Path, timeframe: str, from_metadata: bool
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    export_warehouse(warehouse, user_data(tmp_path / "user_data", timeframe, from_metadata))

    with duckdb.connect(str(warehouse), read_only=True) as connection:
        stored = connection.execute(
            f"SELECT timeframe, {', '.join(LABEL_COLUMNS)} FROM model_versions"  # noqa: S608
        ).df()
    assert len(stored) == 1
    assert stored["timeframe"].iloc[0] == timeframe
    settings = asdict(LabelConfig(**LABELS))
    assert {field.name: stored[f"label_{field.name}"].iloc[0] for field in fields(LabelConfig)} == (
        settings
    )

    expected = expected_scores(timeframe)
    found = reliability(warehouse)
    assert found["candles"] == len(expected)
    for name in CLASS_ORDER:
        assert found[name] == pytest.approx(float((expected == name).mean()))


def test_label_columns_cover_every_label_setting() -> None:
    assert list(LABEL_COLUMNS) == [f"label_{field.name}" for field in fields(LabelConfig)]
    for table in ("model_versions", "backtest_runs"):
        assert all(column in TABLES[table] for column in LABEL_COLUMNS)


def test_a_warehouse_written_before_the_settings_gains_them_on_the_next_export(
    tmp_path: Path,
) -> None:
    sources = user_data(tmp_path / "user_data", "4h")
    fresh = tmp_path / "fresh.duckdb"
    export_warehouse(fresh, sources)
    old = tmp_path / "old.duckdb"
    export_warehouse(old, sources)
    with duckdb.connect(str(old)) as connection:  # as the exporter before the columns left it
        for table, columns in ADDED_COLUMNS.items():
            for column in columns:
                connection.execute(f"ALTER TABLE {table} DROP COLUMN {column}")

    export_warehouse(old, sources)

    def described(warehouse: Path, sql: str) -> list[tuple]:
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            return connection.execute(sql).fetchall()

    for table in ADDED_COLUMNS:
        assert described(old, f"DESCRIBE {table}") == described(fresh, f"DESCRIBE {table}")
        rows = f"SELECT * FROM {table} ORDER BY ALL"  # noqa: S608
        assert described(old, rows) == described(fresh, rows)
    assert reliability(old) == reliability(fresh)


def test_trades_are_drawn_on_the_candles_their_run_traded() -> None:
    days = pd.date_range("2024-01-01", periods=12, freq="4h")
    candles = pd.DataFrame(
        {"date": days, "pair": "SOL/USDT", "timeframe": "4h", "open": 1.0, "high": 1.0,
         "low": 1.0, "close": 1.0}
    )  # fmt: skip
    trades = pd.DataFrame(
        {"pair": ["SOL/USDT"], "open_date": [days[3]], "close_date": [days[6]],
         "open_rate": [1.0], "close_rate": [1.0], "profit_ratio": [0.0],
         "exit_reason": ["roi"], "run_timeframe": ["4h"]}
    )  # fmt: skip
    with duckdb.connect() as connection:
        connection.register("candles_frame", candles)
        connection.execute("CREATE TABLE ohlcv AS SELECT * FROM candles_frame")
        figure = price_figures(connection, trades)[0]
    assert len(figure.data[0].x) == len(days)

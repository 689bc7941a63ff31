"""The export of a real FreqAI backtest and of a real dry-run-shaped trade database."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow.feather as feather
import pyarrow.parquet as parquet
import pytest

from freqai_swing.warehouse import ExportSources, export_parquet, export_warehouse
from freqai_swing.warehouse.schema import KEYS, TABLES
from tests.conftest import SAMPLE_DATADIR
from tests.freqai_swing.conftest import ExportedRun, full_sources, make_trade_db

pytestmark = pytest.mark.slow


def query(warehouse: Path, sql: str) -> pd.DataFrame:
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        return connection.execute(sql).df()
    finally:
        connection.close()


def table_digest(warehouse: Path) -> dict[str, str]:
    """Every table's rows, in key order, hashed: equal digests mean equal contents.

    Floats to 10 significant digits: DuckDB's parallel sums may differ in the last bit.
    """
    digests = {}
    for table, key in KEYS.items():
        order = ", ".join(key)
        rows = query(
            warehouse,
            f"SELECT * EXCLUDE (exported_at) FROM {table} ORDER BY {order}"
            if table == "sources"
            else f"SELECT * FROM {table} ORDER BY {order}",
        )
        digests[table] = hashlib.sha256(
            rows.to_csv(index=False, float_format="%.10g").encode()
        ).hexdigest()
    return digests


def test_the_warehouse_holds_every_candle_trade_and_model(exported: ExportedRun) -> None:
    warehouse = exported.warehouse
    candle_rows = sum(
        feather.read_table(path).num_rows for path in SAMPLE_DATADIR.glob("*.feather")
    )
    assert query(warehouse, "SELECT count(*) n FROM ohlcv")["n"][0] == candle_rows
    btc = query(
        warehouse, "SELECT * FROM ohlcv WHERE pair = 'BTC/USDT' AND timeframe = '1h' ORDER BY date"
    )
    original = pd.read_feather(SAMPLE_DATADIR / "BTC_USDT-1h.feather")
    np.testing.assert_array_equal(btc["close"], original["close"])
    assert (btc["date"] == original["date"].dt.tz_localize(None)).all()

    expected = exported.run.trades()
    trades = query(warehouse, "SELECT * FROM trades WHERE mode = 'backtest' ORDER BY trade_id")
    assert len(trades) == len(expected) > 0
    assert trades["profit_abs"].sum() == pytest.approx(expected["profit_abs"].sum())
    assert (trades["fee_open"] == 0.0015).all() and (trades["fee_close"] == 0.0015).all()
    assert set(trades["strategy"]) == {"SwingClassifierStrategy"}
    orders = query(
        warehouse,
        "SELECT trade_id, count(*) n, sum(is_entry::INT) entries FROM orders "
        "WHERE source LIKE 'backtest:%' GROUP BY trade_id",
    )
    assert (
        len(orders) == len(trades) and (orders["n"] == 2).all() and (orders["entries"] == 1).all()
    )

    stats = exported.run.backtest_stats()["strategy"]["SwingClassifierStrategy"]
    run = query(warehouse, "SELECT * FROM backtest_runs").iloc[0]
    assert run["sharpe"] == pytest.approx(stats["sharpe"])
    assert run["max_drawdown"] == pytest.approx(stats["max_drawdown_account"])
    assert run["identifier"] == stats["freqai_identifier"]
    assert run["label_barrier_pct"] == 0.02

    folders = sorted((exported.run.userdir / "models").glob("*/sub-train-*"))
    versions = query(warehouse, "SELECT * FROM model_versions")
    assert len(versions) == len(folders) == 2 * 3  # two pairs, three windows
    assert (versions["train_end"] < versions["trained_at"]).all()
    assert (versions["freqaimodel"] == "SwingXGBoostClassifier").all()
    features = query(
        warehouse,
        "SELECT identifier, pair, trained_at, count(*) n, "
        "sum(importance) total FROM features GROUP BY ALL",
    )
    assert (features["n"] > 100).all()
    assert features["total"].to_numpy() == pytest.approx(1.0), "saved models: importances known"
    prediction_rows = sum(
        len(pd.read_feather(path))
        for path in (exported.run.userdir / "models").glob("*/backtesting_predictions/*.feather")
    )
    assert query(warehouse, "SELECT count(*) n FROM predictions")["n"][0] == prediction_rows


def test_every_trade_names_the_model_that_predicted_its_signal(exported: ExportedRun) -> None:
    """The prediction on the signal candle came from the very model version the trade names."""
    trades = query(
        exported.warehouse,
        """SELECT t.mode, t.pair, t.open_date, t.signal_date, t.model_trained_at, t.model_version,
                  p.trained_at AS predicted_by, p.do_predict, p.p_up
           FROM trades t LEFT JOIN predictions p
             ON p.identifier = t.identifier AND p.pair = t.pair AND p.date = t.signal_date""",
    )
    assert trades["model_version"].notna().all()
    assert (trades["model_trained_at"] == trades["predicted_by"]).all()
    assert (trades["do_predict"] == 1).all(), "no trade opens without a trusted prediction"
    assert (trades["signal_date"] == trades["open_date"] - pd.Timedelta(hours=1)).all()
    assert trades.loc[trades["mode"] == "backtest", "model_version"].nunique() >= 2
    identifier = exported.run.backtest_stats()["strategy"]["SwingClassifierStrategy"][
        "freqai_identifier"
    ]
    assert trades["model_version"].str.startswith(f"{identifier}@").all()


def test_the_dry_run_database_exports_as_paper_trades(exported: ExportedRun) -> None:
    both = query(
        exported.warehouse,
        """SELECT b.pair, b.open_date, b.profit_abs AS backtest_profit,
                  p.profit_abs AS paper_profit,
                  b.model_version AS backtest_model, p.model_version AS paper_model, p.exchange
           FROM trades b JOIN trades p ON b.pair = p.pair AND b.open_date = p.open_date
           WHERE b.mode = 'backtest' AND p.mode = 'paper'""",
    )
    paper = query(exported.warehouse, "SELECT count(*) n FROM trades WHERE mode = 'paper'")["n"][0]
    assert len(both) == paper == len(exported.run.trades())
    assert both["paper_profit"].to_numpy() == pytest.approx(both["backtest_profit"].to_numpy())
    assert (both["paper_model"] == both["backtest_model"]).all()
    assert (both["exchange"] == "binance").all()
    orders = query(exported.warehouse, "SELECT count(*) n FROM orders WHERE source LIKE 'paper:%'")
    assert orders["n"][0] == 2 * paper


def test_model_performance_has_one_row_per_version(exported: ExportedRun) -> None:
    performance = query(exported.warehouse, "SELECT * FROM model_performance ORDER BY trained_at")
    trades = query(exported.warehouse, "SELECT * FROM trades WHERE mode = 'backtest'")
    assert len(performance) == 3 and (performance["pairs"] == 2).all()
    assert performance["backtest_trades"].sum() == len(trades)
    assert performance["paper_trades"].sum() == len(trades)
    traded = performance[performance["backtest_trades"] > 0]
    for row in traded.itertuples():
        own = trades[trades["model_version"] == row.model_version]
        assert row.backtest_win_rate == pytest.approx((own["profit_abs"] > 0).mean())
        assert row.backtest_profit_abs == pytest.approx(own["profit_abs"].sum())
        assert np.isfinite(row.backtest_sharpe) and np.isfinite(row.backtest_sortino)
        assert 0 <= row.backtest_max_drawdown < 1
    assert (performance["status"] == "testing").all(), "nothing traded live"
    assert (
        performance["active_until"].iloc[:-1].to_numpy()
        == performance["trained_at"].iloc[1:].to_numpy()
    ).all()


def test_a_second_export_reads_nothing_and_adds_nothing(
    exported: ExportedRun, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(exported.warehouse, warehouse)
    before = table_digest(warehouse)
    summary = export_warehouse(warehouse, exported.sources)
    assert summary.rows_read == {"paper_trades": 0}, "unchanged files are not read again"
    assert set(summary.rows_added.values()) == {0}
    after = table_digest(warehouse)
    assert {t: d for t, d in after.items() if t != "sources"} == {
        t: d for t, d in before.items() if t != "sources"
    }


def test_candles_read_again_add_no_duplicate(exported: ExportedRun, tmp_path: Path) -> None:
    """The same candles under another path are read again and keyed away: no new row."""
    datadir = tmp_path / "binance"
    shutil.copytree(SAMPLE_DATADIR, datadir)
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(exported.warehouse, warehouse)
    summary = export_warehouse(warehouse, ExportSources(datadir=datadir))
    assert summary.rows_read["candles"] == query(warehouse, "SELECT count(*) n FROM ohlcv")["n"][0]
    assert summary.rows_added["ohlcv"] == 0
    duplicates = query(
        warehouse,
        "SELECT count(*) n FROM (SELECT 1 FROM ohlcv GROUP BY "
        f"{', '.join(KEYS['ohlcv'])} HAVING count(*) > 1)",
    )
    assert duplicates["n"][0] == 0


def test_a_rerun_reads_only_new_candles_and_trades(exported: ExportedRun, tmp_path: Path) -> None:
    datadir = tmp_path / "binance"
    datadir.mkdir()
    candles = pd.read_feather(SAMPLE_DATADIR / "SOL_USDT-1h.feather")
    candles.iloc[:-100].reset_index(drop=True).to_feather(datadir / "SOL_USDT-1h.feather")
    database = tmp_path / "tradesv3.dryrun.sqlite"
    make_trade_db(exported.result_zip, database, "--first", "10", "--open-last")
    sources = full_sources(
        exported.run.userdir, database, datadir=datadir, models=None, backtest_results=None
    )
    warehouse = tmp_path / "warehouse.duckdb"
    first = export_warehouse(warehouse, sources)
    assert first.rows_read == {"candles": len(candles) - 100, "paper_trades": 10}
    still_open = query(warehouse, "SELECT * FROM trades WHERE trade_id = 10").iloc[0]
    assert still_open["is_open"] and pd.isna(still_open["profit_abs"])

    candles.to_feather(datadir / "SOL_USDT-1h.feather")
    make_trade_db(exported.result_zip, database, "--first", "12")  # 10 closes, 11 and 12 open
    second = export_warehouse(warehouse, sources)
    assert second.rows_read == {"candles": 100, "paper_trades": 3}
    assert query(warehouse, "SELECT count(*) n FROM ohlcv")["n"][0] == len(candles)
    closed = query(warehouse, "SELECT * FROM trades WHERE trade_id = 10").iloc[0]
    assert not closed["is_open"] and pd.notna(closed["profit_abs"])
    assert query(warehouse, "SELECT count(*) n FROM trades")["n"][0] == 12
    assert query(warehouse, "SELECT count(*) n FROM orders WHERE trade_id = 10")["n"][0] == 2


def test_every_table_exports_to_parquet(exported: ExportedRun, tmp_path: Path) -> None:
    written = export_parquet(exported.warehouse, tmp_path / "parquet")
    assert {path.stem for path in written} == set(TABLES)
    for path in written:
        rows = query(exported.warehouse, f"SELECT count(*) n FROM {path.stem}")["n"][0]
        assert parquet.read_metadata(path).num_rows == rows
    with pytest.raises(ValueError, match="unknown warehouse tables"):
        export_parquet(exported.warehouse, tmp_path / "x", ["trade"])

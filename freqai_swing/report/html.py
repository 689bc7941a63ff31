"""``freqai-swing report``: the warehouse report's sections in page order, and the page.

The trade sections are in :mod:`~freqai_swing.report.trade_figures`, the model sections in
:mod:`~freqai_swing.report.model_figures`, the page writer in :mod:`~freqai_swing.report.page`.
Every figure is built from warehouse queries only, so the report shows exactly what the export
stored. The page works offline: plotly.js is written into it once, no CDN.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from freqai_swing.report.model_figures import (
    importance_figure,
    model_versions_figure,
    reliability_figure,
)
from freqai_swing.report.page import write_page
from freqai_swing.report.sections import Section, query
from freqai_swing.report.trade_figures import (
    equity_figure,
    monthly_returns_figure,
    per_pair_table,
    price_figures,
)
from freqai_swing.warehouse.errors import WarehouseInputError
from freqai_swing.warehouse.label_settings import LABEL_COLUMNS

#: Below this many trades a Sharpe, Sortino or Calmar ratio says nothing (one or two trades
#: in a window gave Sharpe -100 and Sortino -1022): the report shows "n/a".
MIN_RATIO_TRADES = 10
_RATIO_COLUMNS = {
    "backtest_trades": ("backtest_sharpe", "backtest_sortino"),
    "total_trades": ("sharpe", "sortino", "calmar"),
}


def _trades(connection: duckdb.DuckDBPyConnection, source: str | None) -> pd.DataFrame:
    where = "WHERE t.source = ?" if source else ""
    return query(
        connection,
        f"""SELECT t.*, r.starting_balance, r.timeframe AS run_timeframe FROM trades t
            LEFT JOIN backtest_runs r ON t.source = r.source {where}
            ORDER BY t.close_date, t.trade_id""",  # noqa: S608
        [source] if source else [],
    )


def _decisions(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The self-training registry's decision log (``selftrain_decisions``), newest first; empty
    when no selftrain run has written to this warehouse."""
    exists = connection.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'selftrain_decisions'"
    ).fetchall()[0][0]
    if not exists:
        return pd.DataFrame(columns=["decided_at", "kind", "version_id", "champion_id", "message"])
    return query(
        connection,
        "SELECT decided_at, kind, version_id, champion_id, message, figures "
        "FROM selftrain_decisions ORDER BY decided_at DESC, decision_id DESC",
    )


def _rounded(frame: pd.DataFrame) -> pd.DataFrame:
    numbers = frame.select_dtypes("number").columns
    return frame.assign(**{column: frame[column].round(4) for column in numbers})


def ratios_with_enough_trades(frame: pd.DataFrame) -> pd.DataFrame:
    """Sharpe, Sortino and Calmar as "n/a" where fewer than ``MIN_RATIO_TRADES`` trades."""
    frame = frame.copy()
    for count, ratios in _RATIO_COLUMNS.items():
        if count not in frame:
            continue
        enough = frame[count].fillna(0) >= MIN_RATIO_TRADES
        for column in ratios:
            if column in frame:
                frame[column] = frame[column].astype(object).where(enough, "n/a")
    return frame


def _runs(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every run (backtest result or bot database) with trades in the warehouse."""
    return query(
        connection,
        "SELECT source AS run, min(mode) AS mode, count(*) AS trades, min(open_date) AS first, "
        "max(close_date) AS last FROM trades GROUP BY source "
        "ORDER BY (min(mode) = 'backtest') DESC, source DESC",
    )


def _primary_source(connection: duckdb.DuckDBPyConnection, source: str | None) -> str | None:
    if source is not None:
        known = connection.execute(
            "SELECT count(*) FROM trades WHERE source = ?", [source]
        ).fetchall()[0][0]
        if not known:
            runs = ", ".join(_runs(connection)["run"]) or "none"
            raise WarehouseInputError(source, f"no such run in the warehouse (runs: {runs})")
        return source
    rows = connection.execute(
        "SELECT source FROM trades GROUP BY source "
        "ORDER BY (min(mode) = 'backtest') DESC, source DESC "
        "LIMIT 1"
    ).fetchall()
    return rows[0][0] if rows else None


def build_figures(warehouse: Path, source: str | None = None) -> list[Section]:
    """The report's sections, in page order.

    The per-run sections (monthly returns, per pair, trades on price) show one run: ``source``,
    else the latest backtest; each section's note says what it shows.
    """
    if not warehouse.is_file():
        raise WarehouseInputError(warehouse, "warehouse does not exist (run freqai-swing export)")
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        runs = _runs(connection)
        primary = _primary_source(connection, source)
        all_trades = _trades(connection, source)
        primary_trades = all_trades[all_trades["source"] == primary]
        backtests = query(
            connection,
            f"SELECT * EXCLUDE ({', '.join(LABEL_COLUMNS)}) "  # noqa: S608 - schema's names
            "FROM backtest_runs ORDER BY source",
        )
        performance = query(
            connection,
            "SELECT * EXCLUDE (identifier, status_source) "
            "FROM model_performance ORDER BY trained_at",
        )
        run_note = f"run: {primary}"
        everything = "every model version in the warehouse"
        sections = [
            Section(
                "Equity and drawdown",
                equity_figure(all_trades, run_note if source else "every run, one line each"),
            ),
            Section(
                "Runs",
                table=runs,
                note=f"Monthly returns, Per pair and Trades on price show {primary} "
                + ("(chosen with --run)" if source else "(the latest backtest)")
                + "; choose another with freqai-swing report --run RUN.",
            ),
            Section("Monthly returns", monthly_returns_figure(primary_trades), note=run_note),
            Section("Per pair", table=per_pair_table(primary_trades), note=run_note),
            *[
                Section("Trades on price", figure, note=run_note)
                for figure in price_figures(connection, primary_trades)
            ],
            Section("Model versions", model_versions_figure(connection), note=everything),
            Section(
                "Model performance",
                table=ratios_with_enough_trades(_rounded(performance)),
                note=f"{everything}; Sharpe and Sortino n/a below {MIN_RATIO_TRADES} trades",
            ),
            Section(
                "Self-training decisions",
                table=_decisions(connection),
                note="promotions, challengers kept out and rollbacks of freqai-swing selftrain",
            ),
            Section(
                "Backtest runs",
                table=ratios_with_enough_trades(_rounded(backtests)),
                note="every backtest in the warehouse; Sharpe, Sortino and Calmar n/a below "
                f"{MIN_RATIO_TRADES} trades",
            ),
            Section("Feature importances", importance_figure(connection), note=everything),
            Section("Reliability", reliability_figure(connection), note=everything),
        ]
    finally:
        connection.close()
    return sections


def write_report(warehouse: Path, output: Path, source: str | None = None) -> Path:
    """Write the warehouse's HTML report."""
    sections = build_figures(warehouse, source)
    return write_page(sections, "freqai-swing report", f"warehouse: {warehouse}", output)

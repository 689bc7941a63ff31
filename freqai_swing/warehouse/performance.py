"""``model_performance``: one row per model version (identifier and training time).

Backtest figures use Freqtrade's own metric functions over the trades that version opened in
the latest backtest of its identifier, between its training time and the next retrain. Paper
and live figures come from the dry-run and live databases. ``status`` is ``testing`` for a
version that never traded live, ``production`` for the latest version with live trades and
``retired`` for earlier ones; a status written by anything other than the export (a model
registry: ``status_source`` other than ``export``) is kept.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pandas as pd
from freqtrade.data.metrics import calculate_max_drawdown, calculate_sharpe, calculate_sortino

VERSIONS_SQL = """
    SELECT identifier, trained_at,
           identifier || '@' || epoch(trained_at)::BIGINT AS model_version,
           count(*)::INTEGER AS pairs, min(train_start) AS train_start, max(train_end) AS train_end,
           lead(trained_at) OVER (PARTITION BY identifier ORDER BY trained_at) AS active_until,
           avg(validation_skill ORDER BY pair) AS mean_validation_skill
    FROM model_versions GROUP BY identifier, trained_at
"""

# The latest backtest of each identifier (result names carry their time, so max() is latest).
BACKTEST_TRADES_SQL = """
    SELECT t.model_version, t.close_date, t.profit_abs, t.profit_ratio, r.starting_balance
    FROM trades t JOIN backtest_runs r ON t.source = r.source
    WHERE t.mode = 'backtest' AND t.model_version IS NOT NULL AND NOT t.is_open
    QUALIFY t.source = max(t.source) OVER (PARTITION BY t.identifier)
    ORDER BY t.close_date, t.source, t.trade_id
"""

# Ordered, and summed in pandas: the same rows give the same figures to the last bit.
TRADED_SQL = """
    SELECT model_version, mode, profit_abs FROM trades
    WHERE model_version IS NOT NULL AND NOT is_open AND mode IN ('paper', 'live')
    ORDER BY close_date, source, trade_id
"""


def _backtest_figures(trades: pd.DataFrame, start: Any, end: Any) -> dict[str, Any]:
    if trades.empty:
        return {"backtest_trades": 0}
    balance = float(trades["starting_balance"].iloc[0] or 1.0)
    end = end if pd.notna(end) else trades["close_date"].max()
    try:
        drawdown = calculate_max_drawdown(
            trades, starting_balance=balance
        ).relative_account_drawdown
    except ValueError:  # no losing stretch at all
        drawdown = 0.0
    return {
        "backtest_trades": len(trades),
        "backtest_profit_abs": float(trades["profit_abs"].sum()),
        "backtest_sharpe": float(calculate_sharpe(trades, start, end, balance)),
        "backtest_sortino": float(calculate_sortino(trades, start, end, balance)),
        "backtest_max_drawdown": float(drawdown),
        "backtest_win_rate": float((trades["profit_abs"] > 0).mean()),
    }


def update_model_performance(connection: duckdb.DuckDBPyConnection) -> None:
    """Recompute every version's row (bulk), keeping statuses a registry wrote."""
    versions = connection.execute(VERSIONS_SQL).df()
    if versions.empty:
        return
    backtest = connection.execute(BACKTEST_TRADES_SQL).df()
    traded = (
        connection.execute(TRADED_SQL)
        .df()
        .assign(win=lambda frame: (frame["profit_abs"] > 0).astype(float))
        .groupby(["model_version", "mode"], as_index=False, sort=True)
        .agg(
            trades=("profit_abs", "size"),
            profit_abs=("profit_abs", "sum"),
            win_rate=("win", "mean"),
        )
    )
    kept = connection.execute(
        "SELECT model_version, status, status_source FROM model_performance "
        "WHERE status_source <> 'export'"
    ).df()
    by_version = dict(tuple(backtest.groupby("model_version"))) if len(backtest) else {}
    rows = []
    for version in versions.itertuples(index=False):
        row = version._asdict()
        trades = by_version.get(version.model_version, backtest.iloc[0:0])
        row.update(_backtest_figures(trades, version.trained_at, version.active_until))
        for mode in ("paper", "live"):
            match = traded[
                (traded["model_version"] == version.model_version) & (traded["mode"] == mode)
            ]
            row[f"{mode}_trades"] = int(match["trades"].sum()) if len(match) else 0
            row[f"{mode}_profit_abs"] = float(match["profit_abs"].sum()) if len(match) else None
            row[f"{mode}_win_rate"] = float(match["win_rate"].iloc[0]) if len(match) else None
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame["status"] = _default_status(frame)
    frame["status_source"] = "export"
    if len(kept):
        merged = frame.merge(kept, on="model_version", how="left", suffixes=("", "_kept"))
        registry = merged["status_source_kept"].notna().to_numpy()
        frame.loc[registry, "status"] = merged.loc[registry, "status_kept"].to_numpy()
        frame.loc[registry, "status_source"] = merged.loc[registry, "status_source_kept"].to_numpy()
    connection.execute("DELETE FROM model_performance")
    connection.register("incoming", frame)
    try:
        columns = [row[0] for row in connection.execute("DESCRIBE model_performance").fetchall()]
        names = ", ".join(c for c in columns if c in frame.columns)
        connection.execute(
            f"INSERT INTO model_performance ({names}) SELECT {names} FROM incoming"  # noqa: S608
        )
    finally:
        connection.unregister("incoming")


def _default_status(frame: pd.DataFrame) -> np.ndarray:
    status = np.full(len(frame), "testing", dtype=object)
    live = frame["live_trades"].fillna(0) > 0
    for _, group in frame[live].groupby("identifier"):
        latest = group["trained_at"].idxmax()
        status[group.index] = "retired"
        status[latest] = "production"
    return status

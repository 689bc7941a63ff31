"""The report's figures and the page that holds them.

Every figure is built from warehouse queries only, so the report shows exactly what the export
stored. The page works offline: plotly.js is written into it once, no CDN.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from freqai_swing.labels import CLASS_ORDER, LabelConfig, triple_barrier_labels
from freqai_swing.warehouse.errors import WarehouseInputError

MAX_PRICE_PAIRS = 4
TOP_FEATURES = 20
#: Below this many trades a Sharpe, Sortino or Calmar ratio says nothing (one or two trades
#: in a window gave Sharpe -100 and Sortino -1022): the report shows "n/a".
MIN_RATIO_TRADES = 10
_RATIO_COLUMNS = {
    "backtest_trades": ("backtest_sharpe", "backtest_sortino"),
    "total_trades": ("sharpe", "sortino", "calmar"),
}
#: A table with more columns than this is laid out to the page's width, its cells wrapped.
WIDE_TABLE_COLUMNS = 8


@dataclass(frozen=True)
class Section:
    title: str
    figure: go.Figure | None = None
    table: pd.DataFrame | None = None
    note: str = ""


def _query(
    connection: duckdb.DuckDBPyConnection, sql: str, parameters: list | None = None
) -> pd.DataFrame:
    return connection.execute(sql, parameters or []).df()


def _empty(title: str, message: str) -> go.Figure:
    figure = go.Figure()
    figure.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    figure.update_layout(title=title, xaxis_visible=False, yaxis_visible=False, height=250)
    return figure


def _trades(connection: duckdb.DuckDBPyConnection, source: str | None) -> pd.DataFrame:
    where = "WHERE t.source = ?" if source else ""
    return _query(
        connection,
        f"""SELECT t.*, r.starting_balance FROM trades t
            LEFT JOIN backtest_runs r ON t.source = r.source {where}
            ORDER BY t.close_date, t.trade_id""",  # noqa: S608
        [source] if source else [],
    )


def equity_figure(trades: pd.DataFrame, shows: str = "every run, one line each") -> go.Figure:
    """Closed profit over time per source (stake currency) and its drawdown from the peak.

    Profit rather than balance: dry-run and live databases do not record a starting balance,
    and one axis must fit backtests and bots alike.
    """
    closed = trades[trades["close_date"].notna() & ~trades["is_open"].astype(bool)]
    if closed.empty:
        return _empty("Equity", "no closed trades in the warehouse")
    figure = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.04
    )
    for source, group in closed.groupby("source", sort=True):
        profit = group["profit_abs"].fillna(0).cumsum()
        drawdown = profit - profit.cummax().clip(lower=0)
        label = str(source).split(":")[-2] if str(source).startswith("backtest:") else str(source)
        figure.add_trace(
            go.Scatter(x=group["close_date"], y=profit, mode="lines", name=label), row=1, col=1
        )
        figure.add_trace(
            go.Scatter(
                x=group["close_date"],
                y=drawdown,
                mode="lines",
                fill="tozeroy",
                name=f"{label} drawdown",
                showlegend=False,
            ),
            row=2,
            col=1,
        )
    figure.update_yaxes(title_text="closed profit", row=1, col=1)
    figure.update_yaxes(title_text="drawdown", row=2, col=1)
    figure.update_layout(
        title=f"Equity (closed profit, stake currency) and drawdown: {shows}",
        height=520,
        legend_orientation="h",
    )
    return figure


def monthly_returns_figure(trades: pd.DataFrame) -> go.Figure:
    """Monthly return of the primary source in % of the equity at the month's start."""
    closed = trades[trades["close_date"].notna()].sort_values("close_date")
    if closed.empty:
        return _empty("Monthly returns", "no closed trades")
    balance = closed["starting_balance"].dropna()
    start = float(balance.iloc[0]) if len(balance) else 0.0
    monthly = closed.set_index("close_date")["profit_abs"].resample("MS").sum()
    if start > 0:
        equity_before = start + monthly.cumsum().shift(fill_value=0.0)
        values, unit = monthly / equity_before * 100, "%"
    else:
        values, unit = monthly, "abs"
    frame = pd.DataFrame({"year": values.index.year, "month": values.index.month, "value": values})
    grid = frame.pivot(index="year", columns="month", values="value").reindex(columns=range(1, 13))
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    text = grid.map(lambda v: "" if pd.isna(v) else f"{v:+.1f}")
    figure = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(),
            x=months,
            y=[str(y) for y in grid.index],
            text=text.to_numpy(),
            texttemplate="%{text}",
            colorscale="RdYlGn",
            zmid=0,
            # a colour bar as tall as the plot, few ticks: legible even for a single year
            colorbar={
                "title": {"text": unit, "side": "right"},
                "ticksuffix": " %" if unit == "%" else "",
                "nticks": 5,
                "len": 1.0,
                "thickness": 18,
                "tickfont": {"size": 12},
            },
        )
    )
    figure.update_layout(
        title=f"Monthly returns ({unit})",
        height=max(MONTHLY_MIN_HEIGHT, 160 + 60 * len(grid)),
        yaxis_type="category",
    )
    return figure


#: The heatmap's height for one year: its colour bar then has room for readable tick labels.
MONTHLY_MIN_HEIGHT = 340


def per_pair_table(trades: pd.DataFrame) -> pd.DataFrame:
    closed = trades[trades["close_date"].notna()]
    if closed.empty:
        return pd.DataFrame()
    hours = (closed["close_date"] - closed["open_date"]).dt.total_seconds() / 3600
    table = (
        closed.assign(win=closed["profit_abs"] > 0, hours=hours)
        .groupby(["mode", "pair"])
        .agg(
            trades=("trade_id", "count"),
            win_rate=("win", "mean"),
            profit_abs=("profit_abs", "sum"),
            mean_profit_pct=("profit_ratio", lambda r: r.mean() * 100),
            mean_hours=("hours", "mean"),
        )
    )
    return table.round(3).reset_index()


def price_figures(connection: duckdb.DuckDBPyConnection, trades: pd.DataFrame) -> list[go.Figure]:
    """Candles of the most-traded pairs with each trade's entry and exit."""
    if trades.empty:
        return [_empty("Trades on price", "no trades")]
    figures = []
    for pair in trades["pair"].value_counts().index[:MAX_PRICE_PAIRS]:
        pair_trades = trades[trades["pair"] == pair]
        start = pair_trades["open_date"].min() - pd.Timedelta(days=1)
        end = pair_trades["close_date"].max() + pd.Timedelta(days=1)
        candles = _query(
            connection,
            "SELECT date, open, high, low, close FROM ohlcv WHERE pair = ? AND timeframe = '1h' "
            "AND date BETWEEN ? AND ? ORDER BY date",
            [pair, start, end],
        )
        figure = go.Figure()
        if len(candles):
            figure.add_trace(
                go.Candlestick(
                    x=candles["date"],
                    open=candles["open"],
                    high=candles["high"],
                    low=candles["low"],
                    close=candles["close"],
                    name=pair,
                )
            )
        figure.add_trace(
            go.Scatter(
                x=pair_trades["open_date"],
                y=pair_trades["open_rate"],
                mode="markers",
                name="entry",
                marker={"symbol": "triangle-up", "size": 10, "color": "green"},
            )
        )
        figure.add_trace(
            go.Scatter(
                x=pair_trades["close_date"],
                y=pair_trades["close_rate"],
                mode="markers",
                name="exit",
                marker={"symbol": "triangle-down", "size": 10, "color": "red"},
                text=pair_trades["exit_reason"],
            )
        )
        figure.update_layout(
            title=f"Trades on price: {pair}", height=420, xaxis_rangeslider_visible=False
        )
        figures.append(figure)
    return figures


def model_versions_figure(connection: duckdb.DuckDBPyConnection) -> go.Figure:
    """Each version's training window (thin) and the period it predicted (thick)."""
    versions = _query(
        connection,
        """SELECT v.identifier, v.pair, v.trained_at, v.train_start, v.model_version,
                  lead(v.trained_at) OVER (PARTITION BY v.identifier, v.pair ORDER BY v.trained_at)
                      AS active_until,
                  p.status, v.validation_skill
           FROM model_versions v LEFT JOIN model_performance p
             ON p.identifier = v.identifier AND p.trained_at = v.trained_at
           ORDER BY v.identifier, v.pair, v.trained_at""",
    )
    if versions.empty:
        return _empty("Model versions", "no FreqAI model folders exported")
    figure = go.Figure()
    for row in versions.itertuples(index=False):
        lane = f"{row.identifier} {row.pair}"
        until = (
            row.active_until
            if pd.notna(row.active_until)
            else row.trained_at + pd.Timedelta(days=1)
        )
        hover = f"{row.model_version}<br>status {row.status}<br>skill {row.validation_skill}"
        figure.add_trace(
            go.Scatter(
                x=[row.train_start, row.trained_at],
                y=[lane, lane],
                mode="lines",
                line={"width": 3, "color": "lightgray"},
                hovertext=hover,
                showlegend=False,
            )
        )
        figure.add_trace(
            go.Scatter(
                x=[row.trained_at, until],
                y=[lane, lane],
                mode="lines+markers",
                line={"width": 10},
                hovertext=hover,
                showlegend=False,
            )
        )
    figure.update_layout(
        title="Model versions over time (gray: training data, bar: predicting)",
        height=160 + 30 * versions[["identifier", "pair"]].drop_duplicates().shape[0],
    )
    return figure


def importance_figure(connection: duckdb.DuckDBPyConnection) -> go.Figure:
    top = _query(
        connection,
        f"""SELECT feature, avg(importance) AS importance, count(*) AS versions FROM features
            WHERE importance IS NOT NULL GROUP BY feature
            ORDER BY importance DESC LIMIT {TOP_FEATURES}""",  # noqa: S608
    )
    if top.empty:
        return _empty(
            "Feature importances",
            "no importances recorded (the bundle's models record them at training time; "
            "other FreqAI models only in saved models, save_backtest_models)",
        )
    top = top.iloc[::-1]
    figure = go.Figure(go.Bar(x=top["importance"], y=top["feature"], orientation="h"))
    figure.update_layout(
        title=f"Feature importances (mean over model versions, top {TOP_FEATURES})",
        height=180 + 22 * len(top),
        margin={"l": 320},
    )
    return figure


def realized_classes(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The triple-barrier class each predicted candle really had, with its model's settings."""
    groups = _query(
        connection,
        """SELECT DISTINCT p.identifier, p.pair, v.label_horizon_candles, v.label_barrier_pct,
                  v.label_barrier_mode
           FROM predictions p JOIN model_versions v
             ON v.identifier = p.identifier AND v.pair = p.pair AND v.trained_at = p.trained_at""",
    )
    frames = []
    for group in groups.drop_duplicates(["identifier", "pair"]).itertuples(index=False):
        settings = {}
        if pd.notna(group.label_horizon_candles):
            settings["horizon_candles"] = int(group.label_horizon_candles)
        if pd.notna(group.label_barrier_pct):
            settings["barrier_pct"] = float(group.label_barrier_pct)
        if group.label_barrier_mode in ("fixed", "volatility"):
            settings["barrier_mode"] = group.label_barrier_mode
        candles = _query(
            connection,
            "SELECT date, open, high, low, close, volume FROM ohlcv WHERE pair = ? "
            "AND timeframe = '1h' ORDER BY date",
            [group.pair],
        )
        if candles.empty:
            continue
        labels = triple_barrier_labels(candles, LabelConfig(**settings), "1h")
        frames.append(
            pd.DataFrame(
                {
                    "identifier": group.identifier,
                    "pair": group.pair,
                    "date": candles["date"],
                    "realized": labels,
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def reliability_figure(connection: duckdb.DuckDBPyConnection) -> go.Figure:
    """Predicted probability (binned) against how often that class really came first."""
    predictions = _query(
        connection, "SELECT identifier, pair, date, p_down, p_flat, p_up FROM predictions"
    )
    realized = realized_classes(connection)
    if predictions.empty or realized.empty:
        return _empty("Reliability", "no predictions with candles to score them against")
    scored = predictions.merge(realized, on=["identifier", "pair", "date"]).dropna(
        subset=["realized"]
    )
    figure = go.Figure(
        go.Scatter(
            x=[0, 1], y=[0, 1], mode="lines", name="perfect", line={"dash": "dot", "color": "gray"}
        )
    )
    bins = np.linspace(0, 1, 11)
    for name in CLASS_ORDER:
        column = scored[f"p_{name}"]
        valid = column.notna()
        if not valid.any():
            continue
        binned = pd.cut(column[valid], bins, include_lowest=True)
        outcome = (scored.loc[valid, "realized"] == name).astype(float)
        table = (
            pd.DataFrame({"p": column[valid], "hit": outcome, "bin": binned})
            .groupby("bin", observed=True)
            .agg(p=("p", "mean"), hit=("hit", "mean"), n=("hit", "size"))
        )
        figure.add_trace(
            go.Scatter(
                x=table["p"],
                y=table["hit"],
                mode="lines+markers",
                name=name,
                text=[f"n={n}" for n in table["n"]],
            )
        )
    figure.update_layout(
        title=f"Reliability of predicted probabilities ({len(scored)} candles)",
        xaxis_title="predicted probability",
        yaxis_title="observed frequency",
        height=450,
        xaxis_range=[0, 1],
        yaxis_range=[0, 1],
    )
    return figure


def _decisions(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The self-training registry's decision log (``selftrain_decisions``), newest first; empty
    when no selftrain run has written to this warehouse."""
    exists = connection.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'selftrain_decisions'"
    ).fetchall()[0][0]
    if not exists:
        return pd.DataFrame(columns=["decided_at", "kind", "version_id", "champion_id", "message"])
    return _query(
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
    return _query(
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
        backtests = _query(
            connection,
            "SELECT * EXCLUDE (label_horizon_candles, label_barrier_pct, "
            "label_barrier_mode) FROM backtest_runs ORDER BY source",
        )
        performance = _query(
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


PAGE_HEAD = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>freqai-swing report</title>
<script>window.reportErrors = [];
window.addEventListener("error", function (event) {
  window.reportErrors.push(String(event.message));
  document.documentElement.setAttribute("data-report-errors", window.reportErrors.length);
});</script>
<style>body{font-family:sans-serif;margin:24px;max-width:1400px}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px}
td,th{overflow-wrap:anywhere}table.wide{table-layout:fixed;width:100%}
h2{margin-top:32px}</style></head><body>
"""


def write_page(sections: list[Section], heading: str, subtitle: str, output: Path) -> Path:
    """Write sections as one self-contained page, atomically (never half a report)."""
    parts = [PAGE_HEAD, f"<h1>{html.escape(heading)}</h1><p>{html.escape(subtitle)}</p>"]
    plotly_written = False
    for number, section in enumerate(sections):
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        if section.note:
            parts.append(f"<p>{html.escape(section.note)}</p>")
        if section.figure is not None:
            parts.append(
                section.figure.to_html(
                    full_html=False, include_plotlyjs=not plotly_written, div_id=f"figure-{number}"
                )
            )
            plotly_written = True
        if section.table is not None:
            wide = ["wide"] if len(section.table.columns) > WIDE_TABLE_COLUMNS else None
            table = (
                section.table.to_html(index=False, na_rep="", classes=wide)
                if len(section.table)
                else "none"
            )
            parts.append(f'<div style="overflow-x:auto">{table}</div>')
    parts.append("</body></html>")
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.partial")
    partial.write_text("\n".join(parts), encoding="utf-8")
    partial.replace(output)
    return output


def write_report(warehouse: Path, output: Path, source: str | None = None) -> Path:
    """Write the warehouse's HTML report."""
    sections = build_figures(warehouse, source)
    return write_page(sections, "freqai-swing report", f"warehouse: {warehouse}", output)

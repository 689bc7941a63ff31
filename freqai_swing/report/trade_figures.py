"""The trade sections: equity and drawdown, monthly returns, per-pair figures, trades on price."""

from __future__ import annotations

import duckdb
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from freqai_swing.report.sections import placeholder, query
from freqai_swing.warehouse.label_settings import DEFAULT_TIMEFRAME

MAX_PRICE_PAIRS = 4


def equity_figure(trades: pd.DataFrame, shows: str = "every run, one line each") -> go.Figure:
    """Closed profit over time per source (stake currency) and its drawdown from the peak.

    Profit rather than balance: dry-run and live databases do not record a starting balance,
    and one axis must fit backtests and bots alike.
    """
    closed = trades[trades["close_date"].notna() & ~trades["is_open"].astype(bool)]
    if closed.empty:
        return placeholder("Equity", "no closed trades in the warehouse")
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
        return placeholder("Monthly returns", "no closed trades")
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


def _run_timeframes(trades: pd.DataFrame) -> list[str]:
    """The candle timeframes the trades' runs traded on, most common first (the bundle's
    own when their runs did not record one)."""
    if "run_timeframe" not in trades:
        return []
    return [str(value) for value in trades["run_timeframe"].dropna().value_counts().index]


def price_figures(connection: duckdb.DuckDBPyConnection, trades: pd.DataFrame) -> list[go.Figure]:
    """Candles of the most-traded pairs with each trade's entry and exit."""
    if trades.empty:
        return [placeholder("Trades on price", "no trades")]
    figures = []
    for pair in trades["pair"].value_counts().index[:MAX_PRICE_PAIRS]:
        pair_trades = trades[trades["pair"] == pair]
        start = pair_trades["open_date"].min() - pd.Timedelta(days=1)
        end = pair_trades["close_date"].max() + pd.Timedelta(days=1)
        candles = pd.DataFrame()
        for timeframe in dict.fromkeys([*_run_timeframes(pair_trades), DEFAULT_TIMEFRAME]):
            candles = query(
                connection,
                "SELECT date, open, high, low, close FROM ohlcv WHERE pair = ? AND timeframe = ? "
                "AND date BETWEEN ? AND ? ORDER BY date",
                [pair, timeframe, start, end],
            )
            if len(candles):
                break
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

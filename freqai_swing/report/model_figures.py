"""The model sections: versions over time, feature importances, and the reliability of the
predicted probabilities against the classes that really came."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from freqai_swing.labels import CLASS_ORDER, triple_barrier_labels
from freqai_swing.report.sections import placeholder, query
from freqai_swing.warehouse.label_settings import (
    DEFAULT_TIMEFRAME,
    LABEL_COLUMNS,
    stored_label_config,
)

TOP_FEATURES = 20


def model_versions_figure(connection: duckdb.DuckDBPyConnection) -> go.Figure:
    """Each version's training window (thin) and the period it predicted (thick)."""
    versions = query(
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
        return placeholder("Model versions", "no FreqAI model folders exported")
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
    top = query(
        connection,
        f"""SELECT feature, avg(importance) AS importance, count(*) AS versions FROM features
            WHERE importance IS NOT NULL GROUP BY feature
            ORDER BY importance DESC LIMIT {TOP_FEATURES}""",  # noqa: S608
    )
    if top.empty:
        return placeholder(
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
    """The triple-barrier class each predicted candle really had: rebuilt from the candles of
    the model's timeframe with exactly the label settings it was trained with (a setting the
    warehouse does not know is the default; settings this bundle cannot rebuild are skipped)."""
    groups = query(
        connection,
        f"""SELECT DISTINCT p.identifier, p.pair, v.timeframe,
                  {", ".join(f"v.{column}" for column in LABEL_COLUMNS)}
           FROM predictions p JOIN model_versions v
             ON v.identifier = p.identifier AND v.pair = p.pair
            AND v.trained_at = p.trained_at""",  # noqa: S608 - column names of the schema
    )
    frames: list[pd.DataFrame] = []
    for group in groups.drop_duplicates(["identifier", "pair"]).to_dict("records"):
        try:
            settings = stored_label_config(group)
        except ValueError:
            continue
        timeframe = group["timeframe"] if pd.notna(group["timeframe"]) else DEFAULT_TIMEFRAME
        candles = query(
            connection,
            "SELECT date, open, high, low, close, volume FROM ohlcv WHERE pair = ? "
            "AND timeframe = ? ORDER BY date",
            [group["pair"], timeframe],
        )
        if candles.empty:
            continue
        labels = triple_barrier_labels(candles, settings, timeframe)
        frames.append(
            pd.DataFrame(
                {
                    "identifier": group["identifier"],
                    "pair": group["pair"],
                    "date": candles["date"],
                    "realized": labels,
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def reliability_figure(connection: duckdb.DuckDBPyConnection) -> go.Figure:
    """Predicted probability (binned) against how often that class really came first."""
    predictions = query(
        connection, "SELECT identifier, pair, date, p_down, p_flat, p_up FROM predictions"
    )
    realized = realized_classes(connection)
    if predictions.empty or realized.empty:
        return placeholder("Reliability", "no predictions with candles to score them against")
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

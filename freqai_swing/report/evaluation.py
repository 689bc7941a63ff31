"""The walk-forward evaluation as an HTML page: equity, drawdown, figures, calibration.

Built from the evaluation's own results (``freqai-swing evaluate``), with the same page writer
as the warehouse report, so it opens offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from freqai_swing.report.page import write_page
from freqai_swing.report.sections import Section


def _curves(results: dict[str, Any]) -> dict[str, pd.Series]:
    return {
        name: pd.Series(
            [value for _, value in runner["equity"]],
            index=pd.to_datetime([day for day, _ in runner["equity"]], utc=True),
        )
        for name, runner in results["runners"].items()
    }


def equity_section(results: dict[str, Any]) -> Section:
    figure = go.Figure()
    for name, curve in _curves(results).items():
        figure.add_trace(go.Scatter(x=curve.index, y=curve.values, name=name, mode="lines"))
    figure.update_layout(yaxis_title="equity (start = 1)", height=420, hovermode="x unified")
    return Section("Equity, splits chained", figure)


def drawdown_section(results: dict[str, Any]) -> Section:
    figure = go.Figure()
    for name, curve in _curves(results).items():
        drawdown = curve / curve.cummax() - 1
        figure.add_trace(go.Scatter(x=drawdown.index, y=drawdown.values, name=name, mode="lines"))
    figure.update_layout(yaxis_title="drawdown", yaxis_tickformat=".0%", height=320)
    return Section("Drawdown", figure)


def figures_table(results: dict[str, Any], columns: list[tuple[str, str]]) -> pd.DataFrame:
    rows = []
    for name, runner in results["runners"].items():
        rows.append(
            {"runner": name, **{title: runner["overall"].get(key) for key, title in columns}}
        )
    return pd.DataFrame(rows).round(4)


def split_table(results: dict[str, Any], columns: list[tuple[str, str]]) -> pd.DataFrame:
    rows = [
        {"runner": name, "test": split["test"], **{t: split.get(k) for k, t in columns}}
        for name, runner in results["runners"].items()
        for split in runner["splits"]
    ]
    return pd.DataFrame(rows).round(4)


def calibration_section(results: dict[str, Any]) -> Section:
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(x=[0, 1], y=[0, 1], name="perfect", mode="lines", line={"dash": "dot"})
    )
    for name, runner in results["runners"].items():
        table = runner["overall"].get("calibration")
        if table:
            figure.add_trace(
                go.Scatter(
                    x=[row["predicted_up"] for row in table],
                    y=[row["observed_up"] for row in table],
                    name=name,
                    mode="lines+markers",
                )
            )
    figure.update_layout(
        xaxis_title="mean predicted P(up)", yaxis_title="observed share of up", height=380
    )
    return Section("Calibration of P(up), quintiles", figure)


def write_evaluation_report(
    results: dict[str, Any], columns: list[tuple[str, str]], output: Path
) -> Path:
    settings = results["settings"]
    subtitle = (
        f"{len(settings['splits'])} splits × {settings['test_days']} days test after "
        f"{settings['train_days']} days train; pairs: {', '.join(settings['pairs'])}"
    )
    sections = [
        equity_section(results),
        drawdown_section(results),
        Section("Overall", table=figures_table(results, columns)),
        calibration_section(results),
        Section("Per split", table=split_table(results, columns)),
    ]
    return write_page(sections, "freqai-swing walk-forward evaluation", subtitle, output)

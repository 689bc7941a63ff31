"""What every section of the report is built from: its container, its warehouse queries and the
placeholder figure of a section without data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd
import plotly.graph_objects as go


@dataclass(frozen=True)
class Section:
    """One heading of the page with its figure, its table (either or both) and a note."""

    title: str
    figure: go.Figure | None = None
    table: pd.DataFrame | None = None
    note: str = ""


def query(
    connection: duckdb.DuckDBPyConnection, sql: str, parameters: list[Any] | None = None
) -> pd.DataFrame:
    """A warehouse query's rows (the report reads nothing else)."""
    return connection.execute(sql, parameters or []).df()


def placeholder(title: str, message: str) -> go.Figure:
    """An empty figure that says why it is empty."""
    figure = go.Figure()
    figure.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    figure.update_layout(title=title, xaxis_visible=False, yaxis_visible=False, height=250)
    return figure

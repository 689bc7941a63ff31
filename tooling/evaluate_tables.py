"""The tables of ``freqai-swing evaluate`` (``evaluation.md``): split by split, and continuous."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

TABLE_COLUMNS = (
    ("total_return", "return", "{:+.1%}"),
    ("sharpe", "Sharpe", "{:.2f}"),
    ("sortino", "Sortino", "{:.2f}"),
    ("calmar", "Calmar", "{:.2f}"),
    ("max_drawdown", "max DD", "{:.1%}"),
    ("max_drawdown_days", "DD days", "{:.0f}"),
    ("win_rate", "win rate", "{:.1%}"),
    ("profit_factor", "profit factor", "{:.2f}"),
    ("average_win", "avg win", "{:+.2%}"),
    ("average_loss", "avg loss", "{:+.2%}"),
    ("trades", "trades", "{}"),
    ("average_duration_hours", "avg hours", "{:.1f}"),
    ("exposure", "exposure", "{:.0%}"),
    ("balanced_accuracy", "bal. acc.", "{:.3f}"),
    ("log_loss", "log loss", "{:.4f}"),
    ("brier", "Brier", "{:.4f}"),
)


def _row(label: str, figures: dict[str, Any]) -> str:
    # a missing figure (a baseline's log loss) and an undefined one (no losing trade: no
    # profit factor) both show as a dash
    cells = [
        fmt.format(figures[key]) if figures.get(key) is not None else "–"
        for key, _, fmt in TABLE_COLUMNS
    ]
    return f"| {label} | " + " | ".join(cells) + " |"


def markdown_table(results: dict[str, Any]) -> str:
    header = "| runner | " + " | ".join(title for _, title, _ in TABLE_COLUMNS) + " |"
    lines = ["## Overall", "", header, "|---" * (len(TABLE_COLUMNS) + 1) + "|"]
    lines += [_row(name, r["overall"]) for name, r in results["runners"].items()]
    lines += ["", "## Per split", "", header.replace("runner", "runner / split")]
    lines.append("|---" * (len(TABLE_COLUMNS) + 1) + "|")
    for name, r in results["runners"].items():
        lines += [_row(f"{name} / {s['test']}", s) for s in r["splits"]]
    return "\n".join(lines) + "\n"


#: Figures of each year and of the whole span (the issue's list, in its order).
YEAR_COLUMNS = (
    ("total_return", "return", "{:+.1%}"),
    ("cagr", "CAGR", "{:+.1%}"),
    ("sharpe", "Sharpe", "{:.3f}"),
    ("sortino", "Sortino", "{:.3f}"),
    ("calmar", "Calmar", "{:.3f}"),
    ("max_drawdown", "max DD", "{:.1%}"),
    ("exposure", "invested", "{:.0%}"),
    ("turnover_per_year", "turnover/yr", "{:.1f}"),
    ("fees_share_of_start", "fees", "{:.2%}"),
)
SEED_FIGURES = ("total_return", "sharpe", "sortino", "calmar", "max_drawdown")


def _cells(figures: dict[str, Any], columns: Sequence[tuple[str, str, str]]) -> str:
    return " | ".join(
        fmt.format(figures[key]) if figures.get(key) is not None else "–" for key, _, fmt in columns
    )


def continuous_markdown(results: dict[str, Any]) -> str:
    """The evaluation's tables: overall, per year, seeds, forecast scores, per split."""
    overall_columns = (*YEAR_COLUMNS, ("deflated_sharpe", "DSR", "{:.3f}"))
    header = "| runner | " + " | ".join(title for _, title, _ in overall_columns) + " |"
    lines = ["## Overall", "", header, "|---" * (len(overall_columns) + 1) + "|"]
    for name, run in results["runners"].items():
        row = {**run["overall"], "exposure": run["overall"]["invested"]}
        lines.append(f"| {name} | {_cells(row, overall_columns)} |")
    year_header = "| runner | year | " + " | ".join(t for _, t, _ in YEAR_COLUMNS) + " |"
    lines += ["", "## Per year", "", year_header, "|---" * (len(YEAR_COLUMNS) + 2) + "|"]
    for name, run in results["runners"].items():
        for year, figures in run["years"].items():
            if year != "overall":
                lines.append(f"| {name} | {year} | {_cells(figures, YEAR_COLUMNS)} |")
    lines += _seed_lines(results) + _prediction_lines(results)
    split_columns = [c for c in TABLE_COLUMNS if c[0] not in {"log_loss", "brier"}]
    lines += ["", "## Per split", ""]
    lines.append("| runner / split | " + " | ".join(t for _, t, _ in split_columns) + " |")
    lines.append("|---" * (len(split_columns) + 1) + "|")
    for name, run in results["runners"].items():
        for split in run["splits"]:
            lines.append(f"| {name} / {split['test']} | {_cells(split, split_columns)} |")
    return "\n".join(lines) + "\n"


def _seed_lines(results: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    if not results["seed_spread"]:
        return lines
    lines += ["", "## Over the seeds (mean ± standard deviation [min, max])", ""]
    lines += ["| runner | seeds | " + " | ".join(SEED_FIGURES) + " |"]
    lines.append("|---" * (len(SEED_FIGURES) + 2) + "|")
    for runner, figures in results["seed_spread"].items():
        cells = [
            f"{f['mean']:.3f} ± {f['std']:.3f} [{f['min']:.3f}, {f['max']:.3f}]"
            for f in (figures[key] for key in SEED_FIGURES)
        ]
        seeds = int(next(iter(figures.values()))["seeds"])
        lines.append(f"| {runner} | {seeds} | " + " | ".join(cells) + " |")
    return lines


def _prediction_lines(results: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    if not results["predictions"]:
        return lines
    lines += ["", "## Forecast scores (stored walk-forward predictions)", ""]
    lines += ["| run | forecast | QLIKE / log loss | log-RMSE / Brier |", "|---|---|---|---|"]
    for name, scores in results["predictions"].items():
        for key in ("volatility_model", "volatility_har", "volatility_trailing"):
            lines.append(
                f"| {name} | {key} | {scores[key]['qlike']:.4f} | {scores[key]['log_rmse']:.4f} |"
            )
        for key in ("meta_model", "meta_base_rate"):
            lines.append(
                f"| {name} | {key} | {scores[key]['log_loss']:.4f} | {scores[key]['brier']:.4f} |"
            )
    return lines

"""The HTML report of a real export, rendered by headless Chromium (Debian's ``chromium``)."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from freqai_swing.report import build_figures, write_report
from freqai_swing.report.html import MIN_RATIO_TRADES, ratios_with_enough_trades
from freqai_swing.report.model_figures import TOP_FEATURES
from freqai_swing.report.trade_figures import MONTHLY_MIN_HEIGHT
from freqai_swing.warehouse import ExportSources, WarehouseInputError, export_warehouse
from tests.freqai_swing.conftest import ExportedRun, full_sources
from tests.support.browser import chromium

STRATEGY = "SwingClassifierStrategy"

pytestmark = pytest.mark.slow

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000",
]  # fmt: skip


def render(page: Path, profile: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """One fresh-profile headless Chromium run over the page (file://, nothing else loaded)."""
    return subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *options, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture(scope="module")
def report(exported: ExportedRun, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_report(exported.warehouse, tmp_path_factory.mktemp("report") / "report.html")


def test_the_report_is_one_self_contained_page(report: Path, exported: ExportedRun) -> None:
    text = report.read_text()
    assert not re.search(r"<script[^>]+src=", text), "plotly.js is inlined, never fetched"
    assert not re.search(r"<link[^>]+href=\"?https?:", text)
    assert text.count("Plotly.newPlot") == sum(
        section.figure is not None for section in build_figures(exported.warehouse)
    )
    titles = [section.title for section in build_figures(exported.warehouse)]
    for title in (
        "Equity and drawdown",
        "Monthly returns",
        "Per pair",
        "Trades on price",
        "Model versions",
        "Feature importances",
        "Reliability",
    ):
        assert title in titles
    assert "SOL/USDT" in text and "DOT/USDT" in text


def test_chromium_renders_every_figure_without_javascript_errors(
    report: Path, tmp_path: Path
) -> None:
    rendered = render(report, tmp_path / "profile", "--dump-dom")
    assert rendered.returncode == 0, rendered.stderr[-3000:]
    console = [line for line in rendered.stderr.splitlines() if ":CONSOLE" in line]
    assert not [line for line in console if "Uncaught" in line or "Error" in line], console
    assert "data-report-errors" not in rendered.stdout.split("<head", 1)[0]
    figures = report.read_text().count("Plotly.newPlot")
    drawn = rendered.stdout.count('class="plot-container plotly"')
    assert drawn == figures > 5


def test_chromium_catches_a_broken_page(tmp_path: Path) -> None:
    """The check above can fail: a page whose script throws is caught the same way."""
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>undefinedFunction();</script></body></html>")
    rendered = render(page, tmp_path / "profile", "--dump-dom")
    assert any("Uncaught" in line for line in rendered.stderr.splitlines() if ":CONSOLE" in line)


def test_the_equity_chart_is_drawn(report: Path, tmp_path: Path) -> None:
    """Screenshot of the page top: the equity chart's plot area holds a drawn curve."""
    shot = tmp_path / "report.png"
    rendered = render(
        report, tmp_path / "profile", "--window-size=1400,1000", f"--screenshot={shot}"
    )
    assert rendered.returncode == 0 and shot.exists(), rendered.stderr[-3000:]
    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=np.float64)
    chart = pixels[260:640, 100:1300]  # the equity and drawdown plot areas
    assert chart.std() > 10, "not a blank area"
    background = np.array([229, 236, 246])  # plotly's plot background
    drawn = np.abs(chart - background).sum(axis=2) > 60
    assert 0.02 < drawn.mean() < 0.9, drawn.mean()
    shutil.copyfile(shot, Path(tmp_path.parent / "report-screenshot.png"))


def test_a_missing_warehouse_is_named(tmp_path: Path) -> None:
    with pytest.raises(WarehouseInputError, match="warehouse does not exist") as error:
        write_report(tmp_path / "none.duckdb", tmp_path / "report.html")
    assert error.value.path == tmp_path / "none.duckdb"
    assert not (tmp_path / "report.html").exists()


@pytest.fixture(scope="module")
def rerun_warehouse(exported: ExportedRun, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same backtest exported twice, as a rerun would add it (a later result zip)."""
    folder = tmp_path_factory.mktemp("rerun")
    results = folder / "backtest_results"
    shutil.copytree(exported.run.userdir / "backtest_results", results)
    rerun = "backtest-result-2099-01-01_00-00-00"
    with (
        zipfile.ZipFile(exported.result_zip) as original,
        zipfile.ZipFile(results / f"{rerun}.zip", "w") as copy,
    ):
        for member in original.namelist():
            copy.writestr(member.replace(exported.result_zip.stem, rerun), original.read(member))
    warehouse = folder / "warehouse.duckdb"
    sources = full_sources(exported.run.userdir, exported.paper_db, backtest_results=results)
    export_warehouse(warehouse, sources)
    return warehouse


def sections_by_title(sections: list) -> dict:
    return {section.title: section for section in sections}


def test_a_rerun_never_doubles_the_per_pair_counts_and_the_page_names_the_run(
    rerun_warehouse: Path, exported: ExportedRun
) -> None:
    latest = f"backtest:backtest-result-2099-01-01_00-00-00:{STRATEGY}"
    first = f"backtest:{exported.result_zip.stem}:{STRATEGY}"
    one_run = len(exported.run.trades())
    sections = sections_by_title(build_figures(rerun_warehouse))
    runs = sections["Runs"].table
    assert {first, latest} <= set(runs["run"])
    per_pair = sections["Per pair"].table
    assert per_pair["trades"].sum() == one_run, "one run's trades, not every run's"
    for title in ("Monthly returns", "Per pair", "Trades on price"):
        assert sections[title].note == f"run: {latest}", title
    assert latest in sections["Runs"].note and "--run" in sections["Runs"].note
    equity_title = sections["Equity and drawdown"].figure.layout.title.text
    assert equity_title.endswith("every run, one line each")

    chosen = sections_by_title(build_figures(rerun_warehouse, first))
    assert chosen["Per pair"].note == f"run: {first}"
    assert chosen["Equity and drawdown"].figure.layout.title.text.endswith(f"run: {first}")
    assert chosen["Per pair"].table["trades"].sum() == one_run
    with pytest.raises(WarehouseInputError, match="no such run in the warehouse"):
        build_figures(rerun_warehouse, "backtest:nothing:here")


def test_ratios_below_the_minimum_sample_are_na(exported: ExportedRun) -> None:
    performance = sections_by_title(build_figures(exported.warehouse))["Model performance"].table
    few = performance["backtest_trades"].fillna(0) < MIN_RATIO_TRADES
    assert (performance.loc[few, "backtest_sharpe"] == "n/a").all()
    assert (performance.loc[few, "backtest_sortino"] == "n/a").all()
    assert not (performance.loc[~few, "backtest_sharpe"] == "n/a").any()
    synthetic = pd.DataFrame(
        {"total_trades": [2, 40], "sharpe": [-100.0, 1.2], "sortino": [-1022.0, 2.0],
         "calmar": [-5.0, 3.0]}
    )  # fmt: skip
    shown = ratios_with_enough_trades(synthetic)
    assert shown.loc[0, ["sharpe", "sortino", "calmar"]].tolist() == ["n/a"] * 3
    assert shown.loc[1, ["sharpe", "sortino", "calmar"]].tolist() == [1.2, 2.0, 3.0]


def test_importances_without_saved_models_come_from_the_training_metadata(
    exported: ExportedRun, tmp_path: Path
) -> None:
    """Like the demo (no save_backtest_models): the model files gone, the importances stay,
    and they are the ones the saved models hold."""
    models = tmp_path / "models"
    shutil.copytree(exported.run.userdir / "models", models)
    for model in models.glob("*/sub-train-*/*_model.joblib"):
        model.unlink()
    warehouse = tmp_path / "warehouse.duckdb"
    export_warehouse(warehouse, ExportSources(models=models))
    query = "SELECT pair, trained_at, feature, importance FROM features ORDER BY ALL"
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        recorded = connection.execute(query).df()
    with duckdb.connect(str(exported.warehouse), read_only=True) as connection:
        saved = connection.execute(query).df()
    assert recorded["importance"].notna().all() and len(recorded) > 100
    pd.testing.assert_frame_equal(recorded, saved)
    figure = sections_by_title(build_figures(warehouse))["Feature importances"].figure
    assert figure is not None and len(figure.data) == 1 and len(figure.data[0].x) == TOP_FEATURES


def test_the_monthly_heatmap_has_room_for_its_colour_bar(exported: ExportedRun) -> None:
    figure = sections_by_title(build_figures(exported.warehouse))["Monthly returns"].figure
    assert figure.layout.height >= MONTHLY_MIN_HEIGHT, "one year: a bar tall enough for labels"
    bar = figure.data[0].colorbar
    assert bar.nticks <= 6 and bar.len == 1.0 and bar.title.side == "right"


MEASURE_TABLES = """<script>window.addEventListener("load", function () {
  var page = document.body.getBoundingClientRect().right, over = [];
  document.querySelectorAll("table").forEach(function (table) {
    var box = table.getBoundingClientRect();
    if (box.right > page + 1) { over.push(Math.round(box.width)); }
  });
  document.documentElement.setAttribute("data-tables-over", over.join("-") || "none");
});</script></body>"""


def test_every_table_fits_a_1400_pixel_window(report: Path, tmp_path: Path) -> None:
    measured = tmp_path / "measured.html"
    measured.write_text(report.read_text().replace("</body>", MEASURE_TABLES))
    rendered = render(measured, tmp_path / "profile", "--window-size=1400,1000", "--dump-dom")
    assert rendered.returncode == 0, rendered.stderr[-3000:]
    found = re.search(r'data-tables-over="([^"]*)"', rendered.stdout)
    assert found is not None, "the measuring script ran"
    assert found.group(1) == "none", f"tables wider than the page: {found.group(1)} px"

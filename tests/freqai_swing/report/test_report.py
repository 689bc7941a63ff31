"""The HTML report of a real export, rendered by headless Chromium (Debian's ``chromium``)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from freqai_swing.report import build_figures, write_report
from freqai_swing.warehouse import WarehouseInputError
from tests.freqai_swing.conftest import ExportedRun

pytestmark = pytest.mark.slow

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000",
]  # fmt: skip


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.fail(
            "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
        )
    return found


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

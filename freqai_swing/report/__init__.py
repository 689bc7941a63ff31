"""``freqai-swing report``: one self-contained HTML page (plotly.js inlined) from the warehouse."""

from freqai_swing.report.html import build_figures, write_report

__all__ = ["build_figures", "write_report"]

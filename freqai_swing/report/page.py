"""The report page: sections written as one self-contained HTML file (plotly.js inlined once)."""

from __future__ import annotations

import html
from pathlib import Path

from freqai_swing.report.sections import Section

#: A table with more columns than this is laid out to the page's width, its cells wrapped.
WIDE_TABLE_COLUMNS = 8

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

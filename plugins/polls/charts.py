"""Server-rendered horizontal bar charts (SVG, no JavaScript, no Flask).

A chart is a ``<figure>`` with an SVG and the same figures as a data table (folded in a
``<details>``). The SVG has ``role="img"``, a ``<title>`` and a ``<desc>`` that reads every bar
aloud, and ``aria-describedby`` pointing to the table. Everything shown is escaped here.

Colours come from the text colour (``currentColor`` with opacities), so a chart follows the
page into dark mode and needs no stylesheet; there are no ``style`` attributes (the
Content-Security-Policy forbids them), only presentation attributes and classes
(``poll-chart``, ``poll-bar``, ``poll-track``) a site may style. Geometry is in percent of the
width with fixed text sizes, so the chart fits a 390 px phone and a wide screen alike: each bar
has its label on a line of its own (long labels shortened, in full in the table and the
bar's tooltip) and its figures right of the bar.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

#: share of the width the bars may take; the rest holds the figures
BAR_SPAN = 62.0
ROW_HEIGHT = 46
LABEL_CHARS = 40
#: fill opacity of the 1st, 2nd … segment of a stacked bar, and of the empty track
SEGMENT_OPACITY = (1.0, 0.5, 0.25)
TRACK_OPACITY = 0.12


@dataclass(frozen=True)
class Bar:
    """One bar: its label, the filled fractions (0–1; several for a stacked bar) and the
    figures written next to it."""

    label: str
    fractions: tuple[float, ...]
    text: str


def safe_id(text: str) -> str:
    """An HTML id made of ``text`` (letters, digits, ``-`` and ``_`` only)."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", str(text)) or "chart"


def short(label: str, limit: int = LABEL_CHARS) -> str:
    """``label`` on one line, shortened with … to ``limit`` characters."""
    flat = " ".join(str(label).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _pct(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") + "%"


def svg(chart_id: str, title: str, bars: Sequence[Bar], table_id: str | None = None) -> Markup:
    """The SVG of ``bars`` (see the module docstring)."""
    cid = safe_id(chart_id)
    height = ROW_HEIGHT * len(bars) + 4
    described = f"{cid}-desc" + (f" {safe_id(table_id)}" if table_id else "")
    desc = "; ".join(f"{' '.join(b.label.split())}: {b.text}" for b in bars)
    parts = [
        f'<svg class="poll-chart-svg" role="img" width="100%" height="{height}" '
        f'aria-labelledby="{cid}-title" aria-describedby="{described}" '
        f'xmlns="http://www.w3.org/2000/svg" fill="currentColor" font-size="14">',
        f'<title id="{cid}-title">{escape(title)}</title>',
        f'<desc id="{cid}-desc">{escape(desc)}</desc>',
    ]
    for i, bar in enumerate(bars):
        top = i * ROW_HEIGHT
        parts.append(f'<g class="poll-bar"><title>{escape(bar.label)}: {escape(bar.text)}</title>')
        parts.append(f'<text x="0" y="{top + 15}">{escape(short(bar.label))}</text>')
        parts.append(
            f'<rect class="poll-track" x="0" y="{top + 22}" width="{_pct(BAR_SPAN)}" height="16" '
            f'rx="2" fill-opacity="{TRACK_OPACITY}"/>'
        )
        offset = 0.0
        for n, fraction in enumerate(bar.fractions):
            width = BAR_SPAN * min(max(fraction, 0.0), 1.0)
            if width > 0:
                opacity = SEGMENT_OPACITY[min(n, len(SEGMENT_OPACITY) - 1)]
                parts.append(
                    f'<rect class="poll-fill poll-fill-{n + 1}" x="{_pct(offset)}" '
                    f'y="{top + 22}" width="{_pct(width)}" height="16" rx="2" '
                    f'fill-opacity="{opacity}"/>'
                )
            offset = min(offset + width, BAR_SPAN)
        parts.append(
            f'<text x="100%" y="{top + 35}" text-anchor="end">{escape(bar.text)}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def table(
    table_id: str, caption: str, headers: Sequence[str], rows: Sequence[Sequence[object]]
) -> Markup:
    """The data table of a chart (first column a row header, the others numbers)."""
    out = [
        f'<div class="table-wrap"><table id="{safe_id(table_id)}" class="poll-table">',
        f"<caption>{escape(caption)}</caption><thead><tr>",
        *(f'<th scope="col">{escape(h)}</th>' for h in headers),
        "</tr></thead><tbody>",
    ]
    for row in rows:
        first, *rest = row
        out.append(f'<tr><th scope="row">{escape(first)}</th>')
        out.extend(f'<td class="num">{escape(cell)}</td>' for cell in rest)
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return Markup("".join(out))


def bar_chart(
    chart_id: str,
    title: str,
    bars: Sequence[Bar],
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    legend: Sequence[str] = (),
    table_summary: str = "Als Tabelle",
) -> Markup:
    """A figure: caption (for screen readers; the section has a heading), optional legend
    (one entry per segment), the SVG, and the data table folded under ``table_summary``."""
    cid = safe_id(chart_id)
    out = [f'<figure class="poll-chart" id="{cid}">']
    out.append(f'<figcaption class="visually-hidden">{escape(title)}</figcaption>')
    if legend:
        out.append('<p class="poll-legend">')
        for n, name in enumerate(legend):
            opacity = SEGMENT_OPACITY[min(n, len(SEGMENT_OPACITY) - 1)]
            out.append(
                f'<span class="poll-legend-item"><svg width="14" height="14" aria-hidden="true" '
                f'fill="currentColor"><rect width="14" height="14" rx="2" '
                f'fill-opacity="{opacity}"/></svg> {escape(name)}</span> '
            )
        out.append("</p>")
    out.append(svg(cid, title, bars, table_id=f"{cid}-table"))
    out.append(f'<details class="poll-chart-table"><summary>{escape(table_summary)}</summary>')
    out.append(table(f"{cid}-table", title, headers, rows))
    out.append("</details></figure>")
    return Markup("".join(out))

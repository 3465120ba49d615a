"""Accessible SVG charts rendered on the server: a title and a description for assistive
technologies, text labels on every bar, colours from the stylesheet, a data table beside."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape


@dataclass
class Chart:
    name: str
    title: str
    description: str
    rows: list[tuple[str, float]]
    unit: str = ""

    @property
    def total(self) -> float:
        return sum(v for _l, v in self.rows)


def _fmt(value: float) -> str:
    text = f"{value:.1f}" if isinstance(value, float) and not value.is_integer() else f"{int(value)}"
    return text.replace(".", ",")


def _short(label: str, limit: int = 34) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def bar_svg(chart: Chart, *, width: int = 720, bar_height: int = 26, label_width: int = 300) -> Markup:
    """Horizontal bars, one per row, value written after the bar."""
    rows = chart.rows or [("Aucune donnée", 0)]
    height = len(rows) * (bar_height + 10) + 10
    top = max((v for _l, v in rows), default=0) or 1
    span = width - label_width - 70
    ident = f"chart-{chart.name}"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
             f'width="100%" role="img" aria-labelledby="{ident}-title {ident}-desc">',
             f'<title id="{ident}-title">{escape(chart.title)}</title>',
             f'<desc id="{ident}-desc">{escape(chart.description)}</desc>']
    for index, (label, value) in enumerate(rows):
        y = 10 + index * (bar_height + 10)
        length = 0 if not value else max(2, round(span * value / top))
        parts.append(f'<text class="chart-label" x="{label_width - 8}" y="{y + bar_height * 0.68:.1f}" '
                     f'text-anchor="end">{escape(_short(label))}</text>')
        parts.append(f'<rect class="chart-bar" x="{label_width}" y="{y}" width="{length}" height="{bar_height}" rx="3"/>')
        parts.append(f'<text class="chart-value" x="{label_width + length + 6}" y="{y + bar_height * 0.68:.1f}">'
                     f'{_fmt(value)}{escape(chart.unit)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))

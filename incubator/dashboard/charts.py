"""Accessible SVG charts rendered on the server: a title and a description for assistive
technologies, text labels on every bar, colours from the stylesheet, a data table beside."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape


@dataclass(frozen=True)
class Hidden:
    """A figure that is not shown. Most are about fewer people than MIN_GROUP_SIZE
    (« moins de 5 »); a `secondary` one is hidden with them, since subtracting the shown
    rows from a total shown elsewhere would give the hidden figure back (« masqué »)."""

    size: int
    secondary: bool = False

    def __str__(self) -> str:
        return "masqué" if self.secondary else f"moins de {self.size}"


def guarded(value: float, people: int, minimum: int) -> float | Hidden:
    """`value` when it is about no one or about at least `minimum` people, else hidden."""
    return Hidden(minimum) if 0 < people < minimum else value


def protect(rows: list[tuple[str, float, int]], minimum: int, *, adds_up: bool = False, ranked: bool = False
            ) -> list[tuple[str, float | Hidden]]:
    """Rows (label, figure, distinct people) as shown: each figure guarded. When the rows add
    up to a total shown elsewhere (`adds_up`: proposals by theme add up to the proposals
    submitted), the rows with the fewest people are hidden too, until the hidden rows are
    together about at least `minimum` people. People of two rows may overlap (one agent's
    hours in two months): the rule then hides less than it would with exact counts.
    Rows `ranked` by their figure would place a hidden one between two shown figures: hidden
    rows go last, by label."""
    shown = [[label, guarded(value, people, minimum), people, value] for label, value, people in rows]
    if adds_up:
        hidden_people = sum(row[2] for row in shown if isinstance(row[1], Hidden))
        others = sorted((row for row in shown if not isinstance(row[1], Hidden) and row[2] > 0),
                        key=lambda row: (row[2], row[3]))
        while 0 < hidden_people < minimum and others:
            row = others.pop(0)
            row[1] = Hidden(minimum, secondary=True)
            hidden_people += row[2]
    if ranked:
        shown = ([row for row in shown if not isinstance(row[1], Hidden)]
                 + sorted((row for row in shown if isinstance(row[1], Hidden)), key=lambda row: row[0]))
    return [(label, value) for label, value, _people, _raw in shown]


@dataclass
class Chart:
    name: str
    title: str
    description: str
    rows: list[tuple[str, float | Hidden]]
    unit: str = ""

    @property
    def hidden(self) -> Hidden | None:
        """A figure hidden as about too few people, for the note under the chart."""
        return next((v for _l, v in self.rows if isinstance(v, Hidden) and not v.secondary), None)

    @property
    def masked(self) -> bool:
        return any(isinstance(v, Hidden) and v.secondary for _l, v in self.rows)


def figure(value: float | Hidden, unit: str = "") -> str:
    """A figure as the chart and its table write it: « 2,5 h », or « moins de 5 »."""
    if isinstance(value, Hidden):
        return str(value)
    text = f"{value:.1f}" if isinstance(value, float) and not value.is_integer() else f"{int(value)}"
    return text.replace(".", ",") + unit


def stat(value: float | Hidden | None, unit: str) -> str:
    """A headline figure, rounded: « 67 % », « moins de 5 », or « — » when there is none."""
    if value is None:
        return "—"
    return str(value) if isinstance(value, Hidden) else f"{value:.0f}{unit}"


def _short(label: str, limit: int = 30) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


# Bars are drawn without a viewBox: SVG units are CSS pixels, so the text keeps its size in
# the stylesheet (never below 12 px, on a phone too) while the bars' lengths are percentages
# of the width. Each row: its label on a line, then the bar, the value written after it.
BAR_SHARE = 70  # % of the width taken by the longest bar, leaving room for its value
ROW_PITCH, LABEL_BASELINE, BAR_TOP, BAR_HEIGHT = 50, 16, 23, 18


def bar_svg(chart: Chart) -> Markup:
    """Horizontal bars, one per row, label above and value after each bar."""
    rows = chart.rows or [("Aucune donnée", 0)]
    height = len(rows) * ROW_PITCH + 4
    top = max((v for _l, v in rows if not isinstance(v, Hidden)), default=0) or 1
    ident = f"chart-{chart.name}"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="100%" height="{height}" '
             f'role="img" aria-labelledby="{ident}-title {ident}-desc">',
             f'<title id="{ident}-title">{escape(chart.title)}</title>',
             f'<desc id="{ident}-desc">{escape(chart.description)}</desc>']
    for index, (label, value) in enumerate(rows):
        y = 2 + index * ROW_PITCH
        share = 0 if isinstance(value, Hidden) or not value else max(0.5, round(BAR_SHARE * value / top, 2))
        parts.append(f'<text class="chart-label" x="0" y="{y + LABEL_BASELINE}">{escape(_short(label))}</text>')
        parts.append(f'<rect class="chart-bar" x="0" y="{y + BAR_TOP}" width="{share:g}%" height="{BAR_HEIGHT}" rx="3"/>')
        parts.append(f'<text class="chart-value" x="{share:g}%" dx="6" y="{y + BAR_TOP + BAR_HEIGHT - 4}">'
                     f'{escape(figure(value, chart.unit))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))

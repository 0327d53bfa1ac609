"""Geometry of the dashboard's charts, drawn as SVG by templates/includes/charts/.

The same SVG goes to the page and to the PDF (WeasyPrint draws inline SVG), and every chart
is followed by a table of its figures. Drawing these three simple charts ourselves keeps the
markup accessible (titles, roles, text labels beside colours) and identical in both outputs;
a chart library would add a dependency whose SVG WeasyPrint renders only in part.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import NamedTuple

from actions.models import Status

# Colours with a contrast of at least 3:1 on white (RGAA / WCAG 1.4.11); the legend and the
# table carry the same information in text.
STATUS_COLOURS = {
    "planned": "#6b6b6b",
    "in_progress": "#000091",
    "done": "#18753c",
    "on_hold": "#b34000",
    "abandoned": "#161616",
}
WIDTH = 640
LABEL = 0  # bars start at the left edge: each is named by its title on the line above it
AREA = WIDTH - LABEL - 40
BAR = 22
GAP = 10
TITLE = 18  # the line of the title above each bar
ROW = TITLE + BAR + GAP
# The SVG is drawn at the page's width (A4 less margins: 178 mm for 640 units): 11 units are
# 8.7 pt on paper, the smallest text we draw.
TITLE_CHARS = 82


def bar_title(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1].rstrip() + "…"


SUB_INDENT = 16  # an objective's title, under its axis's


class Row(NamedTuple):
    """One bar: its label, its figure (a percent, or [(status, label, count)]), and whether it
    is a sub-row (an objective under its axis: its title indented, its table row too)."""

    label: str
    value: object
    sub: bool = False


def _rows(rows) -> list[Row]:
    return [row if isinstance(row, Row) else Row(*row) for row in rows]


@dataclass
class Segment:
    x: float
    width: float
    colour: str
    label: str
    count: int


def stacked_bars(rows, *, title: str) -> dict:
    """rows: [(label, [(status, status_label, count), …])] or Row → one horizontal stacked bar each."""
    top = 10
    rows = _rows(rows)
    most = max((sum(c for _, _, c in row.value) for row in rows), default=0) or 1
    bars = []
    for i, (label, statuses, sub) in enumerate(rows):
        x, segments = LABEL, []
        for status, status_label, count in statuses:
            if count:
                width = AREA * count / most
                segments.append(Segment(x, width, STATUS_COLOURS[status], status_label, count))
                x += width
        bars.append(
            {
                "label": label,
                "title": bar_title(label),
                "title_x": LABEL + (SUB_INDENT if sub else 0),
                "sub": sub,
                "statuses": statuses,
                "title_y": top + i * ROW + 13,
                "y": top + i * ROW + TITLE,
                "segments": segments,
                "total": sum(c for _, _, c in statuses),
                "end": x,
            }
        )
    legend_y = top + len(rows) * ROW + 10
    legend = []
    x = LABEL
    for status, colour in STATUS_COLOURS.items():
        label = Status(status).label
        legend.append({"x": x, "colour": colour, "label": label})
        x += 14 + 7 * len(label) + 18
    return {
        "title": title,
        "width": WIDTH,
        "x0": LABEL,
        "height": legend_y + 24,
        "bars": bars,
        "bar_height": BAR,
        "legend": legend,
        "legend_y": legend_y,
        "rows": rows,
    }


def progress_bars(rows, *, title: str) -> dict:
    """rows: [(label, percent)] or Row → one bar each on a 0–100 % scale."""
    top = 10
    rows = _rows(rows)
    bars = []
    for i, (label, percent, sub) in enumerate(rows):
        width = AREA * percent / 100
        inside = percent >= 12  # room for the figure inside the bar, in white
        bars.append(
            {
                "label": label,
                "title": bar_title(label),
                "title_x": LABEL + (SUB_INDENT if sub else 0),
                "sub": sub,
                "title_y": top + i * ROW + 13,
                "y": top + i * ROW + TITLE,
                "width": width,
                "percent": percent,
                "inside": inside,
                "text_x": LABEL + 6 if inside else LABEL + width + 6,
            }
        )
    return {
        "area": AREA,
        "title": title,
        "width": WIDTH,
        "height": top + len(rows) * ROW + 10,
        "bars": bars,
        "bar_height": BAR,
        "x0": LABEL,
        "x100": LABEL + AREA,
        "rows": rows,
    }


def timeline(plan, actions, today: datetime.date) -> dict:
    """The calendar of the fiches over the plan's years, by semester, with today marked."""
    start = datetime.date(plan.start_year, 1, 1)
    end = datetime.date(plan.end_year, 12, 31)
    span = (end - start).days or 1
    left, area, row = 80, WIDTH - 80 - 10, 16

    def x(day: datetime.date) -> float:
        day = min(max(day, start), end)
        return left + area * (day - start).days / span

    semesters = []
    for year in range(plan.start_year, plan.end_year + 1):
        for half, month in ((1, 1), (2, 7)):
            first = datetime.date(year, month, 1)
            semesters.append({"x": x(first), "label": f"S{half}", "year": year, "year_start": half == 1})
    rows, undated, undated_actions, table = [], 0, [], []
    for action in actions:
        dated = [e for e in action.calendar if e.start or e.end]
        if not dated:
            undated += 1
            # Listed under the chart: a fiche the timeline cannot place is not forgotten.
            undated_actions.append((action, [e.label for e in action.calendar]))
            continue
        bars = []
        for entry in dated:
            x1 = x(entry.start or start)
            x2 = x(entry.end or end)
            bars.append({"x": x1, "width": max(x2 - x1, 2), "open": entry.end is None, "label": entry.label})
            table.append((action, entry))
        rows.append(
            {
                "label": f"Action {action.number}",
                "y": 30 + len(rows) * row,
                "bars": bars,
                "late": action.is_late,
            }
        )
    height = 30 + len(rows) * row + 10
    return {
        "title": f"Calendrier des fiches-actions, {plan.start_year}-{plan.end_year}",
        "width": WIDTH,
        "height": height,
        "left": left,
        "right": left + area,
        "row_height": row - 4,
        "semesters": semesters,
        "years": [s for s in semesters if s["year_start"]],
        "today": x(today) if start <= today <= end else None,
        "today_label": today.strftime("%d/%m/%Y"),
        "rows": rows,
        "undated": undated,
        "undated_actions": undated_actions,
        "table": table,
    }

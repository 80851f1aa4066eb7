"""Pictures the adapters attach to messages: the progress card as a PNG.

Drawn once here for every adapter, with matplotlib's Agg canvas (no display,
no pyplot state shared between calls). Every mark differs by shape as well as
colour (the Okabe-Ito palette, readable with colour blindness), and the legend
names each one; the message's lines say the same in words.
"""

from __future__ import annotations

from io import BytesIO
from typing import TYPE_CHECKING

from bot.circle import Rsvp
from bot.effects import ProgressCard
from bot.i18n import Text, render
from bot.progress import ATTENDANCE_NAMES, CHECKED_IN, COMMITTED, WEEK

if TYPE_CHECKING:
    from matplotlib.lines import Line2D

BLUE, GREEN, VERMILION, ORANGE = "#0072B2", "#009E73", "#D55E00", "#E69F00"

#: Within a week's cell: the check-in on the left, the meeting in the middle, the commitment on the right.
CHECKIN_X, MEETING_X, COMMITMENT_X = -0.25, 0.0, 0.25

#: Marker style per mark: (matplotlib marker, face colour, edge colour).
CHECKIN_MARK = ("s", BLUE, BLUE)
COMMITMENT_MARK = ("*", ORANGE, "#8A5A00")
MEETING_MARKS = {
    Rsvp.ATTENDED: ("o", GREEN, GREEN),
    Rsvp.GOING: ("o", "white", GREEN),
    Rsvp.NOT_GOING: ("X", VERMILION, VERMILION),
}
MARKER_SIZE = 11
DPI = 100
#: Inches per week column and per member row, within a picture of sensible size.
#: The legend needs the minimum width and the bottom inches.
COLUMN, ROW, MIN_WIDTH, MAX_WIDTH, LEGEND = 0.75, 0.5, 6.5, 18.0, 0.8
#: Names are cut to this many characters; each takes about this many inches.
NAME_CHARS, CHAR_WIDTH, MARGINS = 24, 0.09, 1.0
#: Inches above the grid for the title and the week numbers, and on the other edges.
TOP, EDGE = 0.9, 0.2


def _short(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "\u2026"


def _legend_handle(mark: tuple[str, str, str], label: Text, locale: str) -> Line2D:
    from matplotlib.lines import Line2D

    marker, face, edge = mark
    return Line2D(
        [], [], linestyle="none", marker=marker, markersize=MARKER_SIZE,
        markerfacecolor=face, markeredgecolor=edge, label=render(label, locale),
    )


def render_progress_png(card: ProgressCard, locale: str = "en") -> bytes:
    """Draw ``card``: members down, weeks across, a legend below.

    Args:
        card: the card, from the core.
        locale: the reader's language for the title, labels and legend.

    Returns:
        The picture as PNG bytes.
    """
    # matplotlib and numpy take a third of a second to import: only a session that draws pays for them.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    weeks, rows = len(card.weeks), len(card.rows)
    names = [_short(row.name) for row in card.rows]
    labels = MARGINS + CHAR_WIDTH * max((len(name) for name in names), default=0)
    width = min(MAX_WIDTH, max(MIN_WIDTH, labels + COLUMN * weeks))
    # Three marks share a week's column: they shrink when many weeks must fit the widest picture.
    marker_size = min(MARKER_SIZE, (width - labels) / max(weeks, 1) * 72 / 5)
    height = 2.4 + ROW * max(rows, 1)
    figure = Figure(figsize=(width, height), dpi=DPI)
    # Margins from the sizes worked out above: a layout engine (tight_layout) draws the whole figure
    # once more just to measure it.
    figure.subplots_adjust(
        left=labels / width, right=1 - EDGE / width, top=1 - TOP / height, bottom=(LEGEND + EDGE) / height
    )
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for y, row in enumerate(card.rows):
        if y % 2 == 0:
            axes.axhspan(y - 0.5, y + 0.5, color="#F2F2F2", zorder=0)
        for x, cell in enumerate(row.cells):
            marks = [(CHECKIN_X, CHECKIN_MARK)] if cell.checked_in else []
            if cell.attendance is not None:
                marks.append((MEETING_X, MEETING_MARKS[cell.attendance]))
            if cell.committed:
                marks.append((COMMITMENT_X, COMMITMENT_MARK))
            for dx, (marker, face, edge) in marks:
                axes.plot(
                    x + dx, y, linestyle="none", marker=marker, markersize=marker_size,
                    markerfacecolor=face, markeredgecolor=edge, markeredgewidth=1.5, zorder=2,
                )
    axes.set_xlim(-0.5, weeks - 0.5)
    axes.set_ylim(rows - 0.5, -0.5)  # the first member at the top
    axes.set_xticks(range(weeks), [str(week) for week in card.weeks])
    axes.set_yticks(range(rows), names)
    axes.set_xticks([x + 0.5 for x in range(weeks - 1)], minor=True)
    axes.grid(axis="x", which="minor", color="#BBBBBB", linewidth=0.8)
    axes.tick_params(which="both", length=0, labelsize=11)
    axes.xaxis.tick_top()
    axes.xaxis.set_label_position("top")
    axes.set_xlabel(render(WEEK, locale), fontsize=11)
    for side in axes.spines.values():
        side.set_color("#BBBBBB")
    handles = [
        _legend_handle(CHECKIN_MARK, CHECKED_IN, locale),
        *(_legend_handle(MEETING_MARKS[rsvp], name, locale) for rsvp, name in ATTENDANCE_NAMES.items()),
        _legend_handle(COMMITMENT_MARK, COMMITTED, locale),
    ]
    figure.legend(handles=handles, loc="lower center", ncols=3, frameon=False, fontsize=10)
    figure.suptitle(render(card.title, locale), fontsize=14, fontweight="bold")
    buffer = BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()

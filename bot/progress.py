"""The progress card: each member's check-ins, attendance and commitments, week by week.

The core builds the card as data (:class:`~bot.effects.ProgressCard`) and always
says the same in words in the message's lines; adapters draw the picture.
The card names only the circle's own members and goes only to them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot import commands as c
from bot import messages as m
from bot.circle import Circle, Rsvp
from bot.decision import Context, Out, require_member
from bot.effects import Message, ProgressCard, ProgressCell, ProgressRow
from bot.i18n import Text, _, join

SEEN_BY_MEMBERS = _("Only the members of this circle see this card.")
NONE = _("none")

#: The picture's axis and what its marks mean; adapters draw the legend from these.
WEEK = _("Week")
CHECKED_IN = _("checked in")
COMMITTED = _("made a commitment")
ATTENDANCE_NAMES = {
    Rsvp.ATTENDED: _("at the meeting"),
    Rsvp.GOING: _("said they would come"),
    Rsvp.NOT_GOING: _("could not come"),
}


def progress_card(circle: Circle) -> ProgressCard:
    """The card for every week whose exercise has been posted, one row per member."""
    weeks = tuple(range(1, circle.week + 1))
    rows = tuple(
        ProgressRow(
            member.name,
            tuple(
                ProgressCell(
                    checked_in=circle.checkin(week, member.user) is not None,
                    committed=circle.commitment(week, member.user) is not None,
                    attendance=circle.rsvp(week, member.user),
                )
                for week in weeks
            ),
        )
        for member in circle.members
    )
    return ProgressCard(_("Progress: {circle}", circle=circle.name), weeks, rows)


def _weeks(numbers: Sequence[int]) -> Text:
    """``week 3``, or ``weeks 1 to 4, 6, 7``: a run of three or more weeks is read as a range."""
    runs: list[list[int]] = []
    for number in numbers:
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    parts: list[Text | str] = []
    for run in runs:
        if len(run) >= 3:
            parts.append(_("{first} to {last}", first=run[0], last=run[-1]))
        else:
            parts.extend(str(number) for number in run)
    listed = join(parts)
    return _("week {weeks}", weeks=listed) if len(numbers) == 1 else _("weeks {weeks}", weeks=listed)


def _row_text(card: ProgressCard, row: ProgressRow) -> Text:
    """One member's row in words, with the legend's own labels: ``bob \u2014 checked in: weeks 1, 2; ...``."""
    cells = list(zip(card.weeks, row.cells, strict=True))
    checked = [week for week, cell in cells if cell.checked_in]
    committed = [week for week, cell in cells if cell.committed]
    parts = [
        _("{what}: {weeks}", what=what, weeks=_weeks(weeks) if weeks else NONE)
        for what, weeks in ((CHECKED_IN, checked), (COMMITTED, committed))
    ]
    for rsvp, what in ATTENDANCE_NAMES.items():
        weeks = [week for week, cell in cells if cell.attendance is rsvp]
        if weeks:
            parts.append(_("{what}: {weeks}", what=what, weeks=_weeks(weeks)))
    return _("{name} \u2014 {parts}.", name=row.name, parts=join(parts, "; "))


def card_lines(card: ProgressCard) -> list[Text]:
    """The card in words: the text fallback for screen readers and text-only adapters."""
    return [
        _("The progress card in words, {span}:", span=_weeks(card.weeks)),
        *(_row_text(card, row) for row in card.rows),
        SEEN_BY_MEMBERS,
    ]


def with_progress(message: Message, circle: Circle) -> Message:
    """``message`` with the circle's progress card and its text, once a week has begun."""
    if not circle.week:
        return message
    card = progress_card(circle)
    return replace(message, lines=(*message.lines, *card_lines(card)), card=card)


def _progress(circle: Circle, cmd: c.Progress, ctx: Context, out: Out) -> Circle:
    require_member(circle, ctx)
    if not circle.week:
        out.reply(ctx.actor.user, m.plain(_("Nothing to show yet: the progress card starts with week 1's exercise.")))
        return circle
    title = _("Progress in \u201c{circle}\u201d", circle=circle.name)
    out.reply(ctx.actor.user, with_progress(m.plain(title=title), circle))
    return circle


HANDLERS = {c.Progress: _progress}

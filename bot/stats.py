"""Workspace statistics for admins: totals only, never a figure about a handful of people.

Every figure is computed over a group of people (the members of the circles it
counts). A figure whose group has fewer than :data:`MIN_PEOPLE` distinct people
is suppressed (``None``) and shown as hidden, so nobody can be picked out of it.

Storage counts (a :class:`Tally`, from indexed columns and totals it keeps up
to date: a workspace has tens of thousands of circles); this module says what
each circle adds to the weekly totals (:func:`week_figures`) and what may be shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.circle import Actor, Circle, Kind, Rsvp
from bot.drift import held_weeks
from bot.effects import Message
from bot.errors import CircleError
from bot.i18n import Text, _
from bot.state import STATE_NAMES, State

#: The smallest group of people a figure may describe.
MIN_PEOPLE = 5

#: Present at a week's meeting, as far as anyone told: said yes, or was marked there.
COMING = (Rsvp.GOING, Rsvp.ATTENDED)
GRADUATED = f"{Kind.GRADUATION.value}:0"

T = TypeVar("T")


@dataclass(frozen=True)
class Share:
    """``count`` out of ``total``."""

    count: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.count / self.total)


@dataclass(frozen=True)
class WeekAttendance:
    """Among the members of the circles that have held week ``week``'s meeting (``None``: too few people)."""

    week: int
    checked_in: Share | None
    coming: Share | None


@dataclass(frozen=True)
class WorkspaceStats:
    """A workspace's circles in aggregate; ``None`` marks a figure about fewer than :data:`MIN_PEOPLE` people.

    Attributes:
        circles: how many circles there are.
        by_state: how many are in each state, for the states that have any.
        completion: circles that reached graduation, out of those that started.
        attendance: check-ins and meeting attendance by week number.
    """

    circles: int | None
    by_state: tuple[tuple[State, int | None], ...]
    completion: Share | None
    attendance: tuple[WeekAttendance, ...]


@dataclass(frozen=True)
class WeekFigures:
    """Week ``week``'s meeting, over the members of circles that held it.

    Attributes:
        places: members (a person in two circles counts twice).
        checked_in: of those, how many checked in for the week.
        coming: of those, how many said they would come or were marked there.
    """

    week: int
    places: int
    checked_in: int
    coming: int


@dataclass(frozen=True)
class Counted(Generic[T]):
    """A figure about some circles, and whether at least :data:`MIN_PEOPLE` distinct people are behind it."""

    value: T
    enough_people: bool

    def shown(self) -> T | None:
        return self.value if self.enough_people else None


@dataclass(frozen=True)
class Tally:
    """A workspace's figures as storage counts them, before any is hidden.

    Attributes:
        circles: how many circles.
        by_state: how many circles in each state that has any, in the order of :class:`State`.
        completion: circles that reached graduation, of those that started.
        weeks: the attendance figures of every week some circle has held, by week.
    """

    circles: Counted[int]
    by_state: tuple[tuple[State, Counted[int]], ...]
    completion: Counted[Share]
    weeks: tuple[Counted[WeekFigures], ...]


def started(circle: Circle) -> bool:
    # The timetable is anchored when the circle starts; one closed while forming never was.
    return circle.anchor is not None


def graduated(circle: Circle) -> bool:
    return GRADUATED in circle.done


def same_week_figures(before: Circle, after: Circle) -> bool:
    """Whether ``after`` surely has ``before``'s :func:`week_figures`: all they read is the very same.

    A clock tick keeps members, check-ins and attendance as they were (the same
    tuples), so it is told without computing the figures twice.
    """
    return (
        before.members is after.members
        and before.checkins is after.checkins
        and before.attendance is after.attendance
        and held_weeks(before) == held_weeks(after)
    )


def week_figures(circle: Circle) -> tuple[WeekFigures, ...]:
    """What ``circle`` adds to each held week's figures, among its members now."""
    checked_in = {(x.week, x.user) for x in circle.checkins}
    coming = {(x.week, x.user) for x in circle.attendance if x.rsvp in COMING}
    users = [member.user for member in circle.members]
    return tuple(
        WeekFigures(
            week,
            len(users),
            sum((week, user) in checked_in for user in users),
            sum((week, user) in coming for user in users),
        )
        for week in held_weeks(circle)
    )


def workspace_stats(tally: Tally) -> WorkspaceStats:
    """What may be shown of ``tally``: every figure about too few people is suppressed."""
    return WorkspaceStats(
        circles=tally.circles.shown(),
        by_state=tuple((state, count.shown()) for state, count in tally.by_state),
        completion=tally.completion.shown(),
        attendance=tuple(
            WeekAttendance(
                week.value.week,
                Share(week.value.checked_in, week.value.places) if week.enough_people else None,
                Share(week.value.coming, week.value.places) if week.enough_people else None,
            )
            for week in tally.weeks
        ),
    )


def stats_message(stats: WorkspaceStats) -> Message:
    hidden = _("hidden (fewer than {min} people)", min=MIN_PEOPLE)

    def share(value: Share | None) -> Text:
        if value is None:
            return hidden
        return _("{percent}% ({count} of {total})", percent=value.percent, count=value.count, total=value.total)

    lines: list[Text | str] = [_("Circles: {count}", count=hidden if stats.circles is None else stats.circles)]
    lines.extend(
        _("\u2022 {state}: {count}", state=STATE_NAMES[state], count=hidden if count is None else count)
        for state, count in stats.by_state
    )
    lines.append(_("Reached graduation, of the circles that started: {share}", share=share(stats.completion)))
    if stats.attendance:
        lines.append(_("Attendance by week, among the members of circles that met that week:"))
    for week in stats.attendance:
        if week.checked_in is None:
            lines.append(_("\u2022 week {week}: {hidden}", week=week.week, hidden=hidden))
        else:
            lines.append(
                _(
                    "\u2022 week {week}: {checked_in} checked in; {coming} said they would come or were marked there",
                    week=week.week,
                    checked_in=share(week.checked_in),
                    coming=share(week.coming),
                )
            )
    lines.append(
        _("Totals only: no names or answers, and nothing about fewer than {min} people.", min=MIN_PEOPLE)
    )
    return Message(tuple(lines), title=_("Circle statistics for this workspace"))


def require_admin(actor: Actor) -> None:
    """Only a workspace admin sees the workspace's statistics.

    Raises:
        CircleError: ``actor`` is not a workspace admin.
    """
    if not actor.is_admin:
        raise CircleError(_("Only a workspace admin can see the workspace's statistics."))

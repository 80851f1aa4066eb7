"""Workspace statistics for admins: totals only, never a figure about a handful of people.

Every figure is computed over a group of people (the members of the circles it
counts). A figure whose group has fewer than :data:`MIN_PEOPLE` distinct people
is suppressed (``None``) and shown as hidden, so nobody can be picked out of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from bot.circle import Actor, Circle, Kind, Rsvp, UserRef
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


def _people(circles: Iterable[Circle]) -> set[UserRef]:
    return {member.user for circle in circles for member in circle.members}


def _if_enough(value: T, circles: list[Circle]) -> T | None:
    return value if len(_people(circles)) >= MIN_PEOPLE else None


def _started(circle: Circle) -> bool:
    # The timetable is anchored when the circle starts; one closed while forming never was.
    return circle.anchor is not None


def _week_attendance(circles: list[Circle], week: int) -> WeekAttendance:
    held = [circle for circle in circles if week in held_weeks(circle)]
    places = [(circle, member.user) for circle in held for member in circle.members]
    checked_in = Share(sum(circle.checkin(week, user) is not None for circle, user in places), len(places))
    coming = Share(sum(circle.rsvp(week, user) in COMING for circle, user in places), len(places))
    return WeekAttendance(week, _if_enough(checked_in, held), _if_enough(coming, held))


def workspace_stats(circles: Iterable[Circle]) -> WorkspaceStats:
    """Aggregate ``circles`` (one workspace's), suppressing figures about too few people."""
    circles = list(circles)
    by_state = tuple(
        (state, _if_enough(len(in_state), in_state))
        for state in State
        if (in_state := [circle for circle in circles if circle.state is state])
    )
    started = [circle for circle in circles if _started(circle)]
    completion = Share(sum(GRADUATED in circle.done for circle in started), len(started))
    weeks = sorted({week for circle in circles for week in held_weeks(circle)})
    return WorkspaceStats(
        circles=_if_enough(len(circles), circles),
        by_state=by_state,
        completion=_if_enough(completion, started),
        attendance=tuple(_week_attendance(circles, week) for week in weeks),
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


def admin_stats(circles: Iterable[Circle], actor: Actor) -> Message:
    """The statistics of ``actor``'s workspace, for a workspace admin.

    Raises:
        CircleError: ``actor`` is not a workspace admin.
    """
    if not actor.is_admin:
        raise CircleError(_("Only a workspace admin can see the workspace's statistics."))
    workspace = (actor.user.platform, actor.user.workspace)
    return stats_message(workspace_stats(c for c in circles if (c.platform, c.workspace) == workspace))

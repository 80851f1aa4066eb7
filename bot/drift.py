"""Noticing when someone drifts: who was at each meeting, the moderator's weekly digest,
and one gentle nudge for a member who has missed two meetings in a row.

A member counts as present at a held meeting if they (or the moderator) marked
them attended, or if they checked in for that week.
"""

from __future__ import annotations

from dataclasses import replace

from bot import commands as c
from bot import messages as m
from bot.circle import Attendance, Circle, Kind, Member, Nudge, Role, Rsvp
from bot.decision import Context, Out, away_at, find_member, require_member
from bot.errors import CircleError
from bot.i18n import _, join
from bot.plan import meeting
from bot.timetable import format_when
from bot.turns import tz_of
from kits.schema import Kit

#: After one nudge, a member hears nothing more about missing meetings for this many weeks.
NUDGE_QUIET_WEEKS = 3


#: The start of a held meeting's key in ``Circle.done`` (``checkin:<week>``).
HELD = f"{Kind.CHECKIN.value}:"


def held_weeks(circle: Circle) -> list[int]:
    """Weeks whose meeting has been held, in order."""
    return sorted(int(key[len(HELD):]) for key in circle.done if key.startswith(HELD))


def present(circle: Circle, week: int, member: Member) -> bool:
    return circle.rsvp(week, member.user) is Rsvp.ATTENDED or circle.checkin(week, member.user) is not None


def _attended(circle: Circle, cmd: c.Attended, ctx: Context, out: Out) -> Circle:
    member = require_member(circle, ctx)
    weeks = held_weeks(circle)
    if not weeks:
        raise CircleError(_("No meeting has been held yet."))
    week = weeks[-1]
    if cmd.members and member.role is not Role.MODERATOR and not ctx.actor.is_admin:
        raise CircleError(_("Only the moderator can record attendance for others; use {command} for yourself.", command="/circle attended"))
    marked = [find_member(circle, who) for who in cmd.members] if cmd.members else [member]
    kept = tuple(a for a in circle.attendance if not (a.week == week and any(a.user == x.user for x in marked)))
    circle = replace(circle, attendance=(*kept, *(Attendance(week, x.user, Rsvp.ATTENDED, ctx.now) for x in marked)))
    out.reply(ctx.actor.user, m.plain(_("Noted: {names} at week {week}'s meeting.", names=join([x.name for x in marked]), week=week)))
    return circle


def weekly_care(circle: Circle, kit: Kit, week: int, out: Out) -> Circle:
    """With week ``week``'s exercise: the moderator's digest and any nudges it calls for."""
    held = [w for w in held_weeks(circle) if w < week]
    if not held:
        return circle
    last = held[-1]
    # When the last two meetings met, worked out once for every member (a fan-out ticks every circle at once).
    met = {w: meeting(circle, kit, w) for w in held[-2:]}
    missed_two, not_checked_in, nudged = [], [], []
    next_meeting = meeting(circle, kit, week)
    for member in circle.members:
        if member.role is Role.MODERATOR or away_at(circle, member, next_meeting):
            continue
        # Weeks they were expected at: they were in the circle when it met.
        recent = [w for w, at in met.items() if member.joined_at <= at]
        if len(recent) == 2 and not any(present(circle, w, member) for w in recent):
            missed_two.append(member)
            if not any(n.user == member.user and week - n.week < NUDGE_QUIET_WEEKS for n in circle.nudges):
                nudged.append(member)
        elif member.joined_at <= met[last] and circle.checkin(last, member.user) is None:
            not_checked_in.append(member)
    moderator = circle.moderator
    if moderator and not away_at(circle, moderator, next_meeting) and (missed_two or not_checked_in):
        out.dm(moderator.user, m.digest_dm(circle, last, missed_two, not_checked_in), suffix="digest")
    for member in nudged:
        # A DM: the meeting time in the member's own zone.
        when = format_when(next_meeting, tz_of(circle, member))
        out.dm(member.user, m.nudge_dm(circle, when), suffix=f"nudge/{member.user.key}")
    if not nudged:  # most weeks: the circle stays as it is, uncopied
        return circle
    return replace(circle, nudges=(*circle.nudges, *(Nudge(week, x.user) for x in nudged)))


HANDLERS = {c.Attended: _attended}

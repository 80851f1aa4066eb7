"""Commands that form, run and steer a circle: membership, the timetable, roles and attendance."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from bot import commands as c
from bot import messages as m
from bot import waitlist
from bot.circle import (
    Anchor,
    Attendance,
    Circle,
    Kind,
    Member,
    Occurrence,
    Removal,
    Role,
    Rsvp,
)
from bot.decision import Context, Out, find_member, reader_tz, require_member, require_state, weekly_post_key
from bot.effects import (
    AddToSpace,
    OpenSpace,
    RemoveFromSpace,
)
from bot.errors import CircleError
from bot.i18n import _, hint
from bot.plan import meeting, moved_to_slot, next_meeting, next_week, reanchor, replan
from bot.state import Event, State, transition
from bot.timetable import meeting_on, to_local
from kits.schema import Kit


def _join(circle: Circle, cmd: c.Join, ctx: Context, out: Out) -> Circle:
    user = ctx.actor.user
    if circle.member(user):
        raise CircleError(_("You are already in \u201c{name}\u201d.", name=circle.name))
    if circle.removed(user):
        raise CircleError(
            _(
                "You were removed from \u201c{name}\u201d, so you cannot join it again. See {command} for other circles.",
                name=circle.name,
                command=hint("list"),
            )
        )
    require_state(circle, (State.FORMING, State.ACTIVE), _("join"))
    if circle.seat_offer(user):  # the seat held for them from the waitlist
        circle = waitlist.without(circle, user)
    elif cmd.held:
        raise CircleError(
            _(
                "No seat in \u201c{name}\u201d is held for you now; the offer may have passed to the next person. "
                "See {command} for circles you can join.",
                name=circle.name,
                command=hint("list"),
            )
        )
    elif circle.is_full:  # they asked for this very circle: in line at once (``leave`` undoes it)
        return waitlist.wait(circle, ctx, out)
    circle = circle.with_member(Member(user, ctx.actor.name, Role.MEMBER, ctx.now, ctx.actor.tz))
    out.add(lambda key: AddToSpace(key, circle.id, user))
    out.post(m.plain(_("{name} joined the circle. Welcome!", name=ctx.actor.name)))
    slot = m.slot_for(circle, reader_tz(circle, ctx), next_meeting(circle, ctx.kit, ctx.now))
    out.reply(
        user,
        m.plain(
            _("You joined \u201c{name}\u201d. It meets {slot}.", name=circle.name, slot=slot),
            m.state_line(circle),
            _("What members write stays inside the circle."),
            title=_("Welcome"),
        ),
    )
    return circle


def closed(circle: Circle) -> Circle:
    """``circle`` closed: nothing more is planned, and no merge is pending."""
    return replace(circle, state=transition(circle.state, Event.CLOSE), plan=(), merge_into=None)


def departed(circle: Circle, member: Member, out: Out) -> Circle:
    """``member`` leaves of their own accord: they lose the space, and the last one out closes the circle.

    Raises:
        CircleError: ``member`` moderates and others remain; they hand the role on first.
    """
    if member.role is Role.MODERATOR and len(circle.members) > 1:
        raise CircleError(
            _(
                "You moderate \u201c{name}\u201d: hand the role on first with {command}.",
                name=circle.name,
                command=hint("moderator", "<member>", circle=circle.handle),
            )
        )
    circle = circle.without_member(member.user)
    out.add(lambda key: RemoveFromSpace(key, circle.id, member.user))
    if not circle.members and circle.state is not State.CLOSED:
        return closed(circle)
    return circle


def _leave(circle: Circle, cmd: c.Leave, ctx: Context, out: Out) -> Circle:
    user = ctx.actor.user
    if cmd.waiting or (circle.member(user) is None and (circle.waiting(user) or circle.seat_offer(user))):
        return waitlist.left(circle, user, out)
    member = require_member(circle, ctx)
    circle = departed(circle, member, out)
    out.reply(ctx.actor.user, m.plain(_("You left \u201c{name}\u201d. Take care.", name=circle.name)))
    if circle.members:
        out.post(m.plain(_("{name} has left the circle.", name=member.name)))
    return circle


def _info(circle: Circle, cmd: c.Info, ctx: Context, out: Out) -> Circle:
    viewer_tz = reader_tz(circle, ctx)
    upcoming = next_meeting(circle, ctx.kit, ctx.now)
    if circle.member(ctx.actor.user) or ctx.actor.is_admin:
        out.reply(ctx.actor.user, m.info_message(circle, ctx.kit, viewer_tz, next_week(circle, ctx.kit), upcoming))
    else:
        # People outside the circle see what they need to decide to join, not who is in it.
        out.reply(
            ctx.actor.user,
            m.plain(
                _("Kit: {kit}. Meets {slot}.", kit=ctx.kit.name, slot=m.slot_for(circle, viewer_tz, upcoming)),
                _(
                    "{free} of {capacity} places free; {state}",
                    free=max(circle.open_seats, 0),
                    capacity=circle.capacity,
                    state=m.state_line(circle),
                ),
                title=_("Circle \u201c{name}\u201d (#{id})", name=circle.name, id=circle.handle),
            ),
        )
    return circle


def _next(circle: Circle, cmd: c.Next, ctx: Context, out: Out) -> Circle:
    member = require_member(circle, ctx)
    viewer_tz = reader_tz(circle, ctx)
    lines: list = [m.state_line(circle)]
    if circle.week:
        week = ctx.kit.week(circle.week)
        lines.append(_("This week: {title} \u2014 {goal}", title=week.title, goal=week.goal))
        lines.extend(_("\u2022 {title}", title=e.title) for e in week.exercises)
        done = circle.checkin(circle.week, member.user)
        lines.append(_("You have checked in this week.") if done else _("You have not checked in yet this week."))
    commitment = circle.commitment(circle.week, member.user) or circle.commitment(circle.week - 1, member.user)
    if commitment:
        lines.append(_("Your commitment: \u201c{text}\u201d", text=commitment.text))
    if circle.plan:
        lines.append(_("Next: {item}", item=m.occurrence_text(circle.plan[0], viewer_tz)))
    lines.extend(m.place_lines(circle))
    out.reply(ctx.actor.user, m.plain(*lines, title=_("What's next in \u201c{name}\u201d", name=circle.name)))
    return circle


def _start(circle: Circle, cmd: c.Start, ctx: Context, out: Out) -> Circle:
    state = transition(circle.state, Event.START)
    if len(circle.members) < ctx.kit.size.to_start:
        raise CircleError(
            _(
                "A circle needs at least {min} people, the moderator included, to start; \u201c{name}\u201d has {count}.",
                min=ctx.kit.size.to_start,
                name=circle.name,
                count=len(circle.members),
            )
        )
    circle = reanchor(replace(circle, state=state), ctx.kit, ctx.now)
    first = meeting(circle, ctx.kit, 1)
    out.post(
        m.plain(
            _("The first meeting is {when}.", when=m.format_when(first, circle.tz)),
            _("Week 1's exercise arrives {hours} hours before it.", hours=ctx.kit.timing.exercise_lead_hours),
            title=_("\u201c{name}\u201d has started", name=circle.name),
        )
    )
    return circle


def _pause(circle: Circle, cmd: c.Pause, ctx: Context, out: Out) -> Circle:
    state = transition(circle.state, Event.PAUSE)
    plan: tuple[Occurrence, ...] = ()
    line = _("Nothing will be posted until the moderator resumes it with {command}.", command=hint("resume"))
    if cmd.weeks:
        resume_at = ctx.now + timedelta(weeks=cmd.weeks)
        plan = (Occurrence(Kind.RESUME, circle.revision, resume_at),)
        line = _("It resumes on its own on {when}.", when=m.format_when(resume_at, circle.tz))
    out.post(m.plain(line, title=_("\u201c{name}\u201d is paused", name=circle.name)))
    return replace(circle, state=state, paused_from=circle.state, paused_at=ctx.now, plan=plan)


def resumed(circle: Circle, kit: Kit, now: datetime, out: Out) -> Circle:
    """Resume a paused circle: its remaining weeks move to the next free slot."""
    state = transition(circle.state, Event.RESUME, circle.paused_from)
    circle = replace(circle, state=state, paused_from=None, plan=())
    if next_week(circle, kit) > kit.length and circle.anchor and circle.paused_at:
        # After the last meeting: graduation and tune-ups keep their rhythm, shifted by the pause.
        shift = -(-(now - circle.paused_at).days // 7) or 1
        circle = replan(circle, kit, replace(circle.anchor, on=circle.anchor.on + timedelta(weeks=shift)))
    else:
        circle = reanchor(circle, kit, now)
    circle = replace(circle, paused_at=None)
    upcoming = m.occurrence_text(circle.plan[0], circle.tz) if circle.plan else _("nothing scheduled")
    out.post(m.plain(_("Next: {item}", item=upcoming), title=_("\u201c{name}\u201d is back", name=circle.name)))
    return circle


def _resume(circle: Circle, cmd: c.Resume, ctx: Context, out: Out) -> Circle:
    return resumed(circle, ctx.kit, ctx.now, out)


def _skip(circle: Circle, cmd: c.Skip, ctx: Context, out: Out) -> Circle:
    require_state(circle, (State.ACTIVE,), _("skip a meeting"))
    week = next_week(circle, ctx.kit)
    if week > ctx.kit.length or circle.anchor is None:
        raise CircleError(_("There is no meeting left to skip."))
    moved = meeting_on(ctx.kit, circle.anchor, week) + timedelta(weeks=ctx.kit.cadence.weeks)
    circle = replan(circle, ctx.kit, Anchor(week, moved))
    out.post(
        m.plain(
            _(
                "Week {week} now meets {when}; the weeks after it move back too.",
                week=week,
                when=m.format_when(meeting(circle, ctx.kit, week), circle.tz),
            ),
            title=_("Next meeting skipped"),
        )
    )
    return circle


def _reschedule(circle: Circle, cmd: c.Reschedule, ctx: Context, out: Out) -> Circle:
    require_state(
        circle, (State.FORMING, State.ACTIVE, State.PAUSED, State.GRADUATED, State.FOLLOWING_UP), _("reschedule")
    )
    if cmd.slot == circle.slot:
        raise CircleError(_("The circle already meets {slot}.", slot=m.slot_text(circle)))
    circle = replace(circle, slot=cmd.slot)
    if circle.anchor is not None and next_week(circle, ctx.kit) > ctx.kit.length:
        # After the last meeting the tune-ups keep their week and move to the new weekday.
        anchor = replace(
            circle.anchor, on=circle.anchor.on + timedelta(days=(cmd.slot.weekday - circle.anchor.on.weekday()) % 7)
        )
        circle = replace(circle, anchor=anchor)
        if circle.state is not State.PAUSED:
            circle = replan(circle, ctx.kit, anchor)
    elif circle.state is State.ACTIVE:
        circle = moved_to_slot(circle, ctx.kit, ctx.now)
    lines = [_("The circle now meets {slot}.", slot=m.slot_text(circle))]
    week = next_week(circle, ctx.kit)
    if circle.state is State.ACTIVE and week <= ctx.kit.length:
        when = m.format_when(meeting(circle, ctx.kit, week), circle.tz)
        lines.append(_("The next meeting, week {week}, is {when}.", week=week, when=when))
    out.post(m.plain(*lines, title=_("New meeting time")))
    return circle


def _remove(circle: Circle, cmd: c.Remove, ctx: Context, out: Out) -> Circle:
    member = find_member(circle, cmd.member)
    if member.role is Role.MODERATOR:
        raise CircleError(_("The moderator cannot be removed; hand the role on first."))
    circle = replace(circle.without_member(member.user), removals=(*circle.removals, Removal(member.user, ctx.now)))
    out.add(lambda key: RemoveFromSpace(key, circle.id, member.user))
    # Kindly, and with no reason: the moderator can say more in person if it helps.
    out.dm(
        member.user,
        m.plain(
            _("You are no longer a member of \u201c{name}\u201d. Thank you for the time you gave it.", name=circle.name),
            _("If you would like to go on in another circle, {command} shows the ones you can join.",
              command=hint("list")),
        ),
    )
    # The others are told neither who nor why: a removal is between the moderator and the person.
    out.post(m.plain(_("The circle's membership has changed. Members now: {count}.", count=len(circle.members))))
    return circle


def _use_space(circle: Circle, cmd: c.UseSpace, ctx: Context, out: Out) -> Circle:
    """The members move to the channel the moderator named; the next posts go there."""
    members = tuple(m.user for m in circle.members)
    out.add(lambda key: OpenSpace(key, circle.id, circle.handle, members, channel=cmd.channel))
    out.reply(ctx.actor.user, m.plain(_("From now on the circle's posts go to the channel you named; its members are being added.")))
    return circle


def _place(circle: Circle, cmd: c.Place, ctx: Context, out: Out) -> Circle:
    """Show, set or clear where the circle meets; the circle is told of a change."""
    if cmd.where is None:
        line = (
            _("\u201c{name}\u201d meets at: {place}", name=circle.name, place=circle.place)
            if circle.place
            else _("\u201c{name}\u201d has no meeting place yet. Set one with {command}.", name=circle.name,
                   command=hint("place", "<link or room>", circle=circle.handle))
        )
        out.reply(ctx.actor.user, m.plain(line))
        return circle
    if (cmd.where or None) == circle.place:
        raise CircleError(_("Nothing to change: that is already the meeting place.") if cmd.where
                          else _("There is no meeting place to clear."))
    circle = replace(circle, place=cmd.where or None)
    if circle.place:
        out.post(m.plain(_("The circle meets at: {place}", place=circle.place), title=_("Meeting place")))
    else:
        out.post(m.plain(_("The moderator removed the meeting place."), title=_("Meeting place")))
    return circle


def _close(circle: Circle, cmd: c.Close, ctx: Context, out: Out) -> Circle:
    member = circle.member(ctx.actor.user)
    by_moderator = member is not None and member.role is Role.MODERATOR
    out.post(
        m.plain(
            _("The moderator has closed the circle. Thank you all.")
            if by_moderator
            else _("A workspace admin has closed the circle. Thank you all."),
            title=_("\u201c{name}\u201d is closed", name=circle.name),
        )
    )
    # Each member hears it in person too, with the way on.
    thanks = m.plain(_("\u201c{name}\u201d has closed. Thank you for the time you gave it; {command} shows circles "
                       "you can join.", name=circle.name, command=hint("list")))
    for x in circle.members:
        if x.user != ctx.actor.user:
            out.dm(x.user, thanks, suffix=f"closed/{x.user.key}")
    return closed(circle)


def _attend(circle: Circle, cmd: c.Attend, ctx: Context, out: Out) -> Circle:
    member = require_member(circle, ctx)
    require_state(circle, (State.ACTIVE,), _("answer for a meeting"))
    week = next_week(circle, ctx.kit)
    if week > ctx.kit.length:
        raise CircleError(_("There is no meeting left to answer for."))
    if cmd.week and cmd.week < week:
        raise CircleError(_("Week {week}'s meeting has already happened.", week=cmd.week))
    week = cmd.week or week
    rsvp = Rsvp.GOING if cmd.going else Rsvp.NOT_GOING
    if circle.rsvp(week, member.user) is rsvp:
        out.reply(ctx.actor.user, m.plain(_("Already noted, thank you.")))
        return circle
    entry = Attendance(week, member.user, rsvp, ctx.now)
    kept = tuple(a for a in circle.attendance if (a.week, a.user) != (week, member.user))
    circle = replace(circle, attendance=(*kept, entry))
    when = m.format_when(meeting(circle, ctx.kit, week), reader_tz(circle, ctx))
    if cmd.going:
        out.reply(ctx.actor.user, m.plain(_("See you at week {week}'s meeting, {when}.", week=week, when=when)))
    else:
        out.post(m.plain(_("{name} can't make it to week {week}'s meeting.", name=member.name, week=week)))
        out.reply(ctx.actor.user, m.plain(_("Thanks for letting the circle know. The check-in stays open for you.")))
    if week <= circle.week:  # the week's post is out: show the new count on it
        post = m.exercise_post(circle, ctx.kit, week, meeting(circle, ctx.kit, week))
        out.update(weekly_post_key(circle.id, week), post)
    return circle


def _away(circle: Circle, cmd: c.Away, ctx: Context, out: Out) -> Circle:
    member = require_member(circle, ctx)
    today = to_local(ctx.now, reader_tz(circle, ctx)).date()
    if cmd.until is not None and cmd.until < today:
        raise CircleError(
            _("That date has passed; give a date from today on, e.g. {example}.", example=today.isoformat())
        )
    circle = circle.with_member(replace(member, away_until=cmd.until))
    if cmd.until is None:
        out.reply(ctx.actor.user, m.plain(_("Welcome back. Reminders and DMs are on again.")))
    else:
        out.reply(
            ctx.actor.user,
            m.plain(
                _(
                    "Noted: no DMs from this circle until {date} (inclusive). Posts in the circle go on.",
                    date=cmd.until.isoformat(),
                )
            ),
        )
    return circle


HANDLERS = {
    c.Join: _join,
    c.Leave: _leave,
    c.Info: _info,
    c.Next: _next,
    c.Start: _start,
    c.Pause: _pause,
    c.Resume: _resume,
    c.Skip: _skip,
    c.Reschedule: _reschedule,
    c.Remove: _remove,
    c.UseSpace: _use_space,
    c.Place: _place,
    c.Close: _close,
    c.Attend: _attend,
    c.Away: _away,
}

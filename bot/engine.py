"""The circle engine: commands and clock ticks in, a new circle and effects out.

:func:`handle` runs one person's command against one circle, :func:`tick` moves
a circle along its timetable, and :func:`create_circle` forms a new one. All
three are pure: they take the current time as an argument and return a
:class:`Decision`. A command that cannot be carried out raises
:class:`~bot.errors.CircleError` and the caller keeps the circle as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from bot import calendar, care, checkins, drift, faq, moderators, privacy, progress, running, safety, sharing, waitlist
from bot import commands as c
from bot import messages as m
from bot.circle import (
    Actor,
    Circle,
    Held,
    Kind,
    Occurrence,
    UserRef,
)
from bot.decision import Context, Decision, Out, away_at, quiet_hours, require_allowed
from bot.effects import (
    DELIVERY_TYPES,
    RefreshHome,
    WakeAt,
)
from bot.forming import create_circle, list_message
from bot.people import tell_of_closed_dms
from bot.plan import meeting, tune_up_meeting
from bot.running import resumed
from bot.state import Event, transition
from kits.schema import Kit

__all__ = ["Decision", "create_circle", "forget", "handle", "list_message", "merge_answered", "tick"]

HANDLERS: dict[type, Callable[[Circle, c.CircleCommand, Context, Out], Circle]] = {
    **running.HANDLERS,
    **checkins.HANDLERS,
    **drift.HANDLERS,
    **progress.HANDLERS,
    **sharing.HANDLERS,
    **care.HANDLERS,
    **moderators.HANDLERS,
    **faq.HANDLERS,
    **calendar.HANDLERS,
    **safety.HANDLERS,
}


def _finish(before: Circle, after: Circle, out: Out, now: datetime, skipped: tuple[str, ...] = ()) -> Decision:
    effects = [quiet_hours(after, effect, now) for effect in out.effects]
    # Delivery keys carry the revision, so any decision that queues one takes a new revision.
    if after == before and not any(isinstance(e, DELIVERY_TYPES) for e in effects):
        return Decision(before, tuple(effects), skipped)
    if after.plan != before.plan or after.next_wake != before.next_wake:
        effects.append(WakeAt(after.id, after.next_wake))
    return Decision(replace(after, revision=before.revision + 1), tuple(effects), skipped)


def handle(circle: Circle, command: c.CircleCommand, actor: Actor, now: datetime, kit: Kit) -> Decision:
    """Run ``command`` from ``actor`` against ``circle``.

    Raises:
        CircleError: not allowed (permissions, state, bad values); nothing changed.
    """
    require_allowed(circle, command, actor)
    out = Out(circle.id, f"r{circle.revision + 1}")
    after = waitlist.settled(HANDLERS[type(command)](circle, command, Context(actor, now, kit), out), kit, now, out)
    if after != circle:
        # What the person sees of their circles changed: their home view (Slack's App Home) follows.
        out.add(lambda key: RefreshHome(key, circle.id, actor.user))
    tell_of_closed_dms(after, actor, out)
    safety.grew_small(circle, after, kit, out)
    after = calendar.sequenced(circle, care.helpers_changed(circle, after, kit, now), kit)
    return _finish(circle, after, out, now)


def forget(circle: Circle, user: UserRef, anonymous: UserRef, now: datetime, kit: Kit | None) -> Decision:
    """Erase ``user`` from ``circle``, leaving ``anonymous`` in their records (see :mod:`bot.privacy`).

    ``kit`` is the circle's kit, to plan care reminders again without them; ``None``
    when it is not installed (they are planned again when they fall due).

    Raises:
        CircleError: ``user`` moderates the circle and others remain; nothing changed.
    """
    out = Out(circle.id, f"r{circle.revision + 1}")
    after = privacy.forgotten(circle, user, anonymous, now, out)
    if kit is not None:
        safety.grew_small(circle, after, kit, out)
        after = care.helpers_changed(circle, waitlist.settled(after, kit, now, out), kit, now)
    return _finish(circle, after, out, now)


def merge_answered(small: Circle, into: Circle, accepted: bool, now: datetime) -> Decision:
    """The small circle's side of its merge into ``into``, once that circle's moderator answered (bot/safety.py)."""
    out = Out(small.id, f"r{small.revision + 1}")
    return _finish(small, safety.merge_answered(small, into, accepted, out), out, now)


# ---------------------------------------------------------------- the clock


def _fire(circle: Circle, kit: Kit, occurrence: Occurrence, out: Out) -> Circle:
    """Carry out one timetable step; its deliveries are keyed by the step."""
    kind, number = occurrence.kind, occurrence.number
    reachable = [member for member in circle.members if not away_at(circle, member, occurrence.at)]
    if kind is Kind.EXERCISE:
        circle = replace(circle, week=number)
        out.post(m.exercise_post(circle, kit, number, meeting(circle, kit, number)), suffix="post")
        moderator = circle.moderator
        if moderator and moderator in reachable:
            out.dm(moderator.user, m.moderator_notes(kit, number), suffix="moderator")
        circle = drift.weekly_care(circle, kit, number, out)
    elif kind is Kind.REMINDER:
        out.post(m.reminder_post(circle, kit, number, meeting(circle, kit, number)))
    elif kind is Kind.CHECKIN:
        # The meeting was held: calendars keep it where it was, whatever moves later.
        circle = replace(circle, held=(*circle.held, Held(number, meeting(circle, kit, number))))
        out.post(m.checkin_post(circle, kit, number))
        for member in reachable:
            commitment = circle.commitment(number - 1, member.user)
            if commitment:
                out.dm(member.user, m.continuity_dm(circle, commitment), suffix=member.user.key)
    elif kind is Kind.GRADUATION:
        circle = replace(circle, state=transition(circle.state, Event.GRADUATE))
        tune_ups = [tune_up_meeting(circle, kit, n) for n in range(1, len(kit.tune_ups.weeks_after) + 1)]
        out.post(progress.with_progress(m.graduation_post(circle, kit, tune_ups), circle))
    elif kind is Kind.TUNE_UP:
        circle = replace(circle, state=transition(circle.state, Event.TUNE_UP))
        last = number == len(kit.tune_ups.weeks_after)
        out.post(m.tune_up_post(circle, kit, number, tune_up_meeting(circle, kit, number), last))
        if last:
            circle = replace(circle, state=transition(circle.state, Event.CLOSE))
    elif kind is Kind.RESUME:
        circle = resumed(circle, kit, occurrence.at, out)
    return circle


def tick(circle: Circle, kit: Kit, now: datetime, grace: timedelta) -> Decision:
    """Carry out every occurrence and care reminder due at ``now``, oldest first, and the waitlist's turns.

    An occurrence more than ``grace`` late (the process was down) still moves
    the circle along — its week, graduation — but sends nothing: its key is
    returned in ``skipped`` instead, so members never get a burst of stale posts.
    Care reminders (:func:`bot.care.remind`) follow the same rule, whatever
    the circle's state.
    """
    before, effects, skipped = circle, [], []
    while circle.plan and circle.plan[0].at <= now:
        occurrence = circle.plan[0]
        circle = replace(circle, plan=circle.plan[1:], done=circle.done | {occurrence.key})
        out = Out(circle.id, occurrence.key)
        circle = _fire(circle, kit, occurrence, out)
        if now - occurrence.at > grace:
            skipped.append(f"{circle.id}/{occurrence.key}")
        else:
            effects.extend(out.effects)
    circle, reminders, late = care.remind(circle, kit, now, grace)
    effects.extend(reminders)
    skipped.extend(late)
    # Seats whose day ran out go to the next in line; week 2's exercise closes the line.
    seats = Out(circle.id, f"r{before.revision + 1}")
    circle = waitlist.settled(waitlist.lapsed(circle, now, seats), kit, now, seats)
    effects.extend(seats.effects)
    out = Out(circle.id, "tick", effects)
    return _finish(before, calendar.sequenced(before, circle, kit), out, now, tuple(skipped))

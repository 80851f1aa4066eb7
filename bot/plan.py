"""A running circle's timetable: which week comes next, and laying the rest of the run out."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from bot.circle import (
    Anchor,
    Circle,
    Kind,
)
from bot.state import State
from bot.timetable import first_meeting_on, lay_out, meeting_at, meeting_on
from kits.schema import Kit


def meeting(circle: Circle, kit: Kit, week: int) -> datetime:
    assert circle.anchor is not None
    return meeting_at(circle.slot, circle.tz, meeting_on(kit, circle.anchor, week))


def tune_up_meeting(circle: Circle, kit: Kit, number: int) -> datetime:
    """Tune-up ``number`` meets at the usual slot, ``weeks_after`` weeks after the last meeting."""
    assert circle.anchor is not None
    on = meeting_on(kit, circle.anchor, kit.length) + timedelta(weeks=kit.tune_ups.weeks_after[number - 1])
    return meeting_at(circle.slot, circle.tz, on)


def slot_meeting(circle: Circle, not_before: datetime) -> datetime:
    """The first meeting at the circle's weekly slot that starts at or after ``not_before``, whatever its plan."""
    return meeting_at(circle.slot, circle.tz, first_meeting_on(circle.slot, circle.tz, not_before))


def next_meeting(circle: Circle, kit: Kit, now: datetime) -> datetime | None:
    """The next meeting: the slot's next date while the circle forms, then the planned week or tune-up."""
    if circle.state is State.FORMING:
        return slot_meeting(circle, now)
    week = next_week(circle, kit)
    if circle.state is State.ACTIVE and circle.anchor is not None and week <= kit.length:
        return meeting(circle, kit, week)
    tune_up = next((o for o in circle.plan if o.kind is Kind.TUNE_UP), None)
    return tune_up_meeting(circle, kit, tune_up.number) if tune_up else None


def next_week(circle: Circle, kit: Kit) -> int:
    """The first week whose meeting has not been held (``length + 1`` after the last)."""
    return next((w for w in range(1, kit.length + 1) if f"{Kind.CHECKIN.value}:{w}" not in circle.done), kit.length + 1)


def replan(circle: Circle, kit: Kit, anchor: Anchor) -> Circle:
    return replace(circle, anchor=anchor, plan=lay_out(kit, circle.slot, circle.tz, anchor, circle.done))


def reanchor(circle: Circle, kit: Kit, now: datetime) -> Circle:
    """Lay the rest of the run out from the next free slot.

    A week whose exercise is still to come starts no sooner than the exercise
    lead time from now, so its exercise is never sent late.
    """
    week = next_week(circle, kit)
    if week > kit.length:
        return circle
    return replan(circle, kit, Anchor(week, first_meeting_on(circle.slot, circle.tz, _not_before(circle, kit, week, now))))


def _not_before(circle: Circle, kit: Kit, week: int, now: datetime) -> datetime:
    """The earliest week ``week`` can meet: its exercise, unless already out, must not be late."""
    if f"{Kind.EXERCISE.value}:{week}" in circle.done:
        return now
    return now + timedelta(hours=kit.timing.exercise_lead_hours)


def moved_to_slot(circle: Circle, kit: Kit, now: datetime) -> Circle:
    """Lay the rest of the run out on the circle's new slot.

    The next meeting moves to the new weekday of its own week (Monday to Sunday),
    so a week that was skipped stays skipped; if that day is too soon, to the next
    free slot after it.
    """
    week = next_week(circle, kit)
    if week > kit.length or circle.anchor is None:
        return reanchor(circle, kit, now)
    planned = meeting_on(kit, circle.anchor, week)
    on = planned + timedelta(days=circle.slot.weekday - planned.weekday())
    not_before = _not_before(circle, kit, week, now)
    if meeting_at(circle.slot, circle.tz, on) < not_before:
        on = first_meeting_on(circle.slot, circle.tz, not_before)
    return replan(circle, kit, Anchor(week, on))

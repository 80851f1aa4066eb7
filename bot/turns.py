"""Care reminders after a life event: when each is due, and whose turn it is.

A life event's cadence is a list of *steps*: day N after support opened, for
each of the kit's ``support.reminder_days`` (a whole number of years lands on
the anniversary itself), and the day before each date the member shared. Each
step goes to one helper at :data:`REMINDER_TIME` on the helper's own calendar.

Helpers take turns, starting after the one reminded last. A helper is free on
a day when they are still in the circle, still allowed to know, not away, and
had no reminder about this person in the :data:`GAP_DAYS` days before. A step
with nobody free waits a day at a time to the end of its window rather than
piling onto one person; after that it lapses.

Everything here is a pure function of the circle, the event, the kit and a
moment; :func:`plan` is what handlers and the clock store in
``LifeEvent.planned``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.circle import CareReminder, Circle, Consent, LifeEvent, Member, SharedDate
from bot.timetable import to_local, to_utc
from kits.schema import Kit

#: A decent local hour for a reminder, in the helper's zone.
REMINDER_TIME = time(10, 0)
#: No helper hears about the same person twice within this many days.
GAP_DAYS = 7
#: A cadence step may wait this many days for a free helper (a shared date's only until the date).
WAIT_DAYS = 6
DAYS_IN_YEAR = 365


@dataclass(frozen=True)
class Step:
    """One reminder of the cadence and the local days it may go out on (inclusive).

    Attributes:
        days: for a step of the kit's cadence, the days since support opened.
        shared: for the day before a shared date, that date.
    """

    name: str
    first: date
    last: date
    days: int = 0
    shared: SharedDate | None = None


def tz_of(circle: Circle, member: Member) -> str:
    return member.tz or circle.tz


def days_after(opened: date, days: int) -> date:
    """The day ``days`` after ``opened``; whole years land on the anniversary, leap year or not."""
    years, rest = divmod(days, DAYS_IN_YEAR)
    if rest:
        return opened + timedelta(days=days)
    if (opened.month, opened.day) == (2, 29):
        return date(opened.year + years, 2, 28)
    return opened.replace(year=opened.year + years)


def opened_on(circle: Circle, event: LifeEvent) -> date:
    """The day support opened, on the calendar of the member cared for."""
    member = circle.member(event.user)
    return to_local(event.opened_at, tz_of(circle, member) if member else circle.tz).date()


def steps(circle: Circle, event: LifeEvent, kit: Kit) -> list[Step]:
    """Every step of the event's cadence, the kit's days first, then the shared dates."""
    opened = opened_on(circle, event)
    found = []
    for days in kit.support.reminder_days:
        first = days_after(opened, days)
        found.append(Step(f"day{days}", first, first + timedelta(days=WAIT_DAYS), days=days))
    found.extend(Step(f"date:{d.on.isoformat()}", d.on - timedelta(days=1), d.on, shared=d) for d in event.dates)
    return found


def turns(circle: Circle, event: LifeEvent) -> list[Member]:
    """The helpers who may be reminded, in turn order: starting after the one reminded last."""
    helpers = [
        m for user in event.helpers if user != event.user and event.may_know(user) and (m := circle.member(user))
    ]
    last = event.reminders[-1].helper if event.reminders else None
    start = next((index + 1 for index, m in enumerate(helpers) if m.user == last), 0)
    return helpers[start:] + helpers[:start]


def _free(circle: Circle, event: LifeEvent, helper: Member, day: date) -> bool:
    if helper.away_on(day):
        return False
    tz = tz_of(circle, helper)
    return all(
        abs((day - to_local(r.at, tz).date()).days) >= GAP_DAYS
        for r in event.reminders
        if r.sent and r.helper == helper.user
    )


def _first_turn(
    circle: Circle, event: LifeEvent, step: Step, helpers: list[Member], after: datetime
) -> CareReminder | None:
    """The first free helper's reminder for ``step`` at or after ``after``, day by day through its window."""
    day = step.first
    while day <= step.last:
        for helper in helpers:
            at = to_utc(datetime.combine(day, REMINDER_TIME), tz_of(circle, helper))
            if at >= after and _free(circle, event, helper, day):
                return CareReminder(step.name, helper.user, at)
        day += timedelta(days=1)
    return None


def plan(circle: Circle, event: LifeEvent, kit: Kit, after: datetime) -> CareReminder | None:
    """The next reminder at or after ``after``; ``None`` when paused, ended, or nobody can be reminded."""
    if event.consent is not Consent.GIVEN or event.not_now or circle.member(event.user) is None:
        return None
    helpers = turns(circle, event)
    done = {r.step for r in event.reminders}
    candidates = [
        reminder
        for step in steps(circle, event, kit)
        if step.name not in done and (reminder := _first_turn(circle, event, step, helpers, after))
    ]
    return min(candidates, key=lambda r: r.at, default=None)

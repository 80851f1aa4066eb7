"""When things happen: pure functions of a circle's slot, zone, kit and anchor.

All meeting arithmetic is done in the circle's local wall time and converted to
UTC last, so a 17:00 Europe/London meeting stays at 17:00 local across the
clock changes. Times leave this module as aware UTC datetimes.
"""

from __future__ import annotations

import difflib
import re
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from bot.circle import Anchor, Kind, Occurrence, Slot
from bot.errors import CircleError
from bot.i18n import Day, When, _, join
from kits.schema import Kit

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@lru_cache(maxsize=1)
def _zone_names() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def parse_zone(name: str) -> str:
    """Check an IANA time zone name.

    Raises:
        CircleError: unknown zone; the message suggests the closest names.
    """
    if name in _zone_names():
        return name
    matches = difflib.get_close_matches(name, _zone_names(), n=5, cutoff=0.5)
    by_case = [z for z in _zone_names() if z.lower() == name.lower()]
    suggestions = by_case or matches or ["Europe/London", "America/New_York", "Asia/Tokyo", "UTC"]
    raise CircleError(
        _(
            "Unknown time zone \u201c{zone}\u201d. Use an IANA name such as: {choices}.",
            zone=name,
            choices=join(suggestions),
        )
    )


def parse_weekday(day: str) -> int:
    """A weekday as typed (``tue``, ``Tuesday``) as its number, 0 = Monday.

    Raises:
        CircleError: an unknown weekday, naming valid choices.
    """
    key = day.strip().lower()
    full_names = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    key = WEEKDAYS[full_names.index(key)] if key in full_names else key
    if key not in WEEKDAYS:
        raise CircleError(
            _("Unknown weekday \u201c{day}\u201d. Use one of: {choices}.", day=day, choices=join(WEEKDAYS))
        )
    return WEEKDAYS.index(key)


def parse_slot(day: str, clock: str) -> Slot:
    """Parse a weekly meeting slot such as ``tue 17:00``.

    Raises:
        CircleError: an unknown weekday or a malformed time, naming valid choices.
    """
    weekday = parse_weekday(day)
    # At most two digits each, so no number is too big for time() (``99999999999999999999:00``).
    match = re.fullmatch(r"([0-9]{1,2}):([0-9]{2})", clock.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise CircleError(
            _("Unknown time \u201c{time}\u201d. Use 24-hour HH:MM, e.g. 17:00 or 08:30.", time=clock)
        )
    return Slot(weekday, time(int(match[1]), int(match[2])))


def to_utc(local: datetime, tz: str) -> datetime:
    """A naive local wall time in ``tz`` as an aware UTC datetime."""
    return local.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)


def to_local(moment: datetime, tz: str) -> datetime:
    return moment.astimezone(ZoneInfo(tz))


def meeting_at(slot: Slot, tz: str, on: date) -> datetime:
    """The meeting on local date ``on``, in UTC."""
    return to_utc(datetime.combine(on, slot.at), tz)


def first_meeting_on(slot: Slot, tz: str, not_before: datetime) -> date:
    """The first slot date whose meeting starts at or after ``not_before``."""
    local = to_local(not_before, tz).date()
    on = local + timedelta(days=(slot.weekday - local.weekday()) % 7)
    while meeting_at(slot, tz, on) < not_before:
        on += timedelta(days=7)
    return on


def meeting_on(kit: Kit, anchor: Anchor, week: int) -> date:
    """The local date of week ``week``'s meeting, laid out from ``anchor``."""
    return anchor.on + timedelta(weeks=(week - anchor.week) * kit.cadence.weeks)


def lay_out(kit: Kit, slot: Slot, tz: str, anchor: Anchor, done: frozenset[str]) -> tuple[Occurrence, ...]:
    """Every occurrence from the anchor's week to the last tune-up, minus those done.

    Per week: the exercise ``exercise_lead_hours`` before the meeting, a reminder
    ``reminder_lead_minutes`` before it, and the check-in prompt when the meeting
    ends. After the last week: graduation, then one tune-up per
    ``tune_ups.weeks_after``, each prompt sent with the exercise lead before a
    meeting at the usual slot.
    """
    timing = kit.timing
    steps: list[Occurrence] = []

    def add(kind: Kind, number: int, on: date, offset: timedelta) -> None:
        occurrence = Occurrence(kind, number, to_utc(datetime.combine(on, slot.at) + offset, tz))
        if occurrence.key not in done:
            steps.append(occurrence)

    for week in range(max(anchor.week, 1), kit.length + 1):
        on = meeting_on(kit, anchor, week)
        add(Kind.EXERCISE, week, on, -timedelta(hours=timing.exercise_lead_hours))
        add(Kind.REMINDER, week, on, -timedelta(minutes=timing.reminder_lead_minutes))
        add(Kind.CHECKIN, week, on, timedelta(minutes=timing.meeting_minutes))
    last = meeting_on(kit, anchor, kit.length)
    add(Kind.GRADUATION, 0, last, timedelta(hours=timing.graduation_delay_hours))
    for number, weeks_after in enumerate(kit.tune_ups.weeks_after, start=1):
        add(Kind.TUNE_UP, number, last + timedelta(weeks=weeks_after), -timedelta(hours=timing.exercise_lead_hours))
    return tuple(sorted(steps, key=lambda o: o.at))


#: No DM arrives between these local times; one due then waits for the morning.
QUIET_FROM, QUIET_UNTIL = time(21, 0), time(8, 0)


def after_quiet_hours(moment: datetime, tz: str) -> datetime:
    """``moment``, or the end of the reader's quiet hours if it falls inside them."""
    local = to_local(moment, tz)
    if QUIET_UNTIL <= local.time() < QUIET_FROM:
        return moment
    day = local.date() if local.time() < QUIET_UNTIL else local.date() + timedelta(days=1)
    return to_utc(datetime.combine(day, QUIET_UNTIL), tz)


def format_day(day: date) -> Day:
    """A calendar day, written in each reader's language when rendered, e.g. ``Thu 4 Mar 2027``."""
    return Day(day)


def format_when(moment: datetime, tz: str) -> When:
    """A moment as local time in ``tz``, written in each reader's language, e.g. ``Tue 3 Dec 2026 17:00 (Europe/London)``."""
    return When(moment, tz)

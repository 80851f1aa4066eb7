"""A circle's meetings as an iCalendar file for one member, in their zone and language.

Pure: the circle, its kit, the reader's zone and language and the time now in, the
file's text out, built with the ``icalendar`` library.

* Each meeting keeps one UID for the whole run (``<circle id>-week-3@circlebot``,
  ``<circle id>-tune-up-1@circlebot``), so when the circle is rescheduled or skips a
  week a calendar app moves the meeting rather than adding another.
* ``SEQUENCE`` is the circle's :attr:`~bot.circle.Circle.calendar_sequence`, which
  :func:`sequenced` bumps whenever a meeting moves, is cancelled or comes back, or
  the place changes: apps take the newer version of each event.
* A meeting that will not happen because the circle is paused or closed stays in
  the file at its last date as ``STATUS:CANCELLED``. Apple Calendar, Outlook and
  Google Calendar all read that on a subscription or a re-import (they show the
  meeting as cancelled or drop it); an event that just disappeared would stay in a
  calendar the file was imported into.
* Times carry the reader's zone (``TZID``) with its ``VTIMEZONE``, so every app
  shows them as the bot does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vDuration

from bot import commands as c
from bot.circle import Circle, Kind
from bot.decision import Context, Out, reader_tz
from bot.effects import SendFile
from bot.errors import CircleError
from bot.i18n import _, hint, render
from bot.place import is_link
from bot.plan import meeting, tune_up_meeting
from bot.state import State
from kits.schema import Kit

PRODUCT = "-//Circlebot//Circlebot//EN"
#: How often a subscribed calendar app should fetch the file again.
REFRESH = timedelta(hours=1)
#: States in which meetings still to come will not happen.
STOPPED = (State.PAUSED, State.CLOSED)


@dataclass(frozen=True)
class Meeting:
    """One meeting of the run, as a calendar shows it.

    Attributes:
        uid: the same for this meeting however often it moves.
        week: the week it belongs to; ``None`` for a tune-up.
        number: the week, or the tune-up's ordinal.
        start: when it starts (UTC).
        end: when it ends (UTC).
        cancelled: it will not happen (the circle is paused or closed).
    """

    uid: str
    week: int | None
    number: int
    start: datetime
    end: datetime
    cancelled: bool


def meetings(circle: Circle, kit: Kit) -> tuple[Meeting, ...]:
    """Every meeting of the circle's run, held or to come, in time order; none before it starts."""
    if circle.anchor is None:
        return ()
    length = timedelta(minutes=kit.timing.meeting_minutes)
    held = {h.week: h.at for h in circle.held}
    stopped = circle.state in STOPPED
    found = []
    for week in range(1, kit.length + 1):
        done = f"{Kind.CHECKIN.value}:{week}" in circle.done
        start = held.get(week) or meeting(circle, kit, week)
        found.append(Meeting(f"{circle.id}-week-{week}@circlebot", week, week, start, start + length, stopped and not done))
    for number in range(1, len(kit.tune_ups.weeks_after) + 1):
        done = f"{Kind.TUNE_UP.value}:{number}" in circle.done
        start = tune_up_meeting(circle, kit, number)
        found.append(
            Meeting(f"{circle.id}-tune-up-{number}@circlebot", None, number, start, start + length, stopped and not done)
        )
    return tuple(sorted(found, key=lambda m: m.start))


def sequenced(before: Circle, after: Circle, kit: Kit) -> Circle:
    """``after``, its calendar sequence bumped if its calendar differs from ``before``'s."""
    unchanged = (before.anchor, before.slot, before.tz, before.state, before.place) == (
        after.anchor, after.slot, after.tz, after.state, after.place
    )
    if unchanged or (meetings(before, kit), before.place) == (meetings(after, kit), after.place):
        return after
    return replace(after, calendar_sequence=after.calendar_sequence + 1)


def calendar_ics(circle: Circle, kit: Kit, tz: str, locale: str, now: datetime) -> str:
    """The circle's calendar for a reader in ``tz`` who reads ``locale``; ``kit`` in that language."""
    zone = ZoneInfo(tz)
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", circle.name)
    calendar.add("x-wr-timezone", tz)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    found = meetings(circle, kit)
    for item in found:
        calendar.add_component(_event(circle, kit, item, zone, locale, now))
    if found:
        calendar.add_missing_timezones(
            first_date=found[0].start.date() - timedelta(days=366), last_date=found[-1].end.date() + timedelta(days=366)
        )
    return calendar.to_ical().decode()


def _event(circle: Circle, kit: Kit, item: Meeting, zone: ZoneInfo, locale: str, now: datetime) -> Event:
    if item.week is None:
        summary = _("{circle}: tune-up {n}", circle=circle.name, n=item.number)
        about = kit.tune_ups.prompts[0]
    else:
        summary = _("{circle}: week {week} of {total} \u2014 {title}", circle=circle.name, week=item.week,
                    total=kit.length, title=kit.week(item.week).title)
        about = kit.week(item.week).goal
    event = Event()
    event.add("uid", item.uid)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", item.start.astimezone(zone))
    event.add("dtend", item.end.astimezone(zone))
    event.add("sequence", circle.calendar_sequence)
    event.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
    event.add("summary", render(summary, locale))
    event.add("description", about)
    if circle.place:
        event.add("location", circle.place)
        if is_link(circle.place):
            event.add("url", circle.place)
    return event


def _calendar(circle: Circle, cmd: c.Calendar, ctx: Context, out: Out) -> Circle:
    """Send the member the circle's calendar, with their private subscription address when the bot has one."""
    if cmd.reset and cmd.feed is None:
        raise CircleError(_("This bot has no public address for calendars, so there is no subscription to reset."))
    tz, locale = reader_tz(circle, ctx), ctx.actor.locale or circle.locale or "en"
    if cmd.feed is None:
        note = _(
            "The meetings of \u201c{name}\u201d, in your time zone ({tz}). Open the file to add them to your calendar; "
            "after the circle's meetings change, ask again with {command}.",
            name=circle.name, tz=tz, command=hint("calendar", circle=circle.handle),
        )
    else:
        note = _(
            "The meetings of \u201c{name}\u201d, in your time zone ({tz}). To keep them current as the circle "
            "changes, subscribe to your private address in your calendar app (keep it to yourself; {command} "
            "replaces it): {url}",
            name=circle.name, tz=tz, url=cmd.feed, command=hint("calendar", "reset", circle=circle.handle),
        )
    ics = calendar_ics(circle, ctx.kit, tz, locale, ctx.now)
    out.effects.append(SendFile(ctx.actor.user, f"{circle.handle}.ics", ics, note))
    return circle


HANDLERS = {c.Calendar: _calendar}

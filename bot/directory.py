"""The directory: open circles found by kit, time-zone band, language and weekday, a page at a time.

Storage keeps a few columns per circle so the search runs on an index
(:func:`meeting_columns`); they are fixed when the circle is saved, and a zone's
clock change can move them by an hour, so the search asks storage for a little
more and every circle shown is checked here against its real next meeting.
"""

from __future__ import annotations

from datetime import datetime

from bot.circle import Circle
from bot.timetable import first_meeting_on, meeting_at, to_local

MINUTES_A_DAY = 24 * 60
MINUTES_A_WEEK = 7 * MINUTES_A_DAY


def offset_minutes(moment: datetime, tz: str) -> int:
    """``tz``'s offset from UTC at ``moment``, in minutes (east positive)."""
    offset = to_local(moment, tz).utcoffset()
    assert offset is not None
    return int(offset.total_seconds()) // 60


def week_minute(moment: datetime) -> int:
    """The minute of the week of an aware UTC ``moment``: 0 is Monday 00:00 UTC, 10079 Sunday 23:59."""
    return moment.weekday() * MINUTES_A_DAY + moment.hour * 60 + moment.minute


def meeting_columns(circle: Circle) -> tuple[int, int]:
    """The circle's zone's UTC offset (minutes) at a meeting, and that meeting's UTC minute of the week.

    The meeting is the slot's first at or after the circle's next wake (its run's next step),
    else after it was formed: told from the circle alone, so every save of it gives the same.
    """
    reference = circle.next_wake or circle.created_at
    meeting = meeting_at(circle.slot, circle.tz, first_meeting_on(circle.slot, circle.tz, reference))
    return offset_minutes(meeting, circle.tz), week_minute(meeting)

"""The directory: open circles found by kit, time-zone band, language and weekday, a page at a time.

Storage keeps a few columns per circle so the search runs on an index
(:func:`meeting_columns`). They are fixed when the circle is saved, and a
clock change since can move them by an hour, so the search (:func:`search`)
asks storage with that much to spare, and every circle found is checked here
against its real next meeting (:func:`matches`) before anyone sees it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from bot import commands as c
from bot.circle import Circle
from bot.errors import CircleError
from bot.i18n import Text, Weekday, _, hint, join
from bot.people import LANGUAGES, spoken
from bot.plan import next_meeting, slot_meeting
from bot.timetable import WEEKDAYS, to_local
from kits.schema import Kit

MINUTES_A_DAY = 24 * 60
MINUTES_A_WEEK = 7 * MINUTES_A_DAY
#: How many open circles ``list`` shows at once.
LIST_PAGE = 20
#: ``near``: circles whose clock is within this many minutes of the reader's (either side).
NEAR = 3 * 60
#: How far a circle's stored offset and meeting minute may be from its next meeting's
#: (a clock change since it was saved).
SPARE = 60


@dataclass(frozen=True)
class Band:
    """A part of the world, as the UTC offsets (minutes, east positive) from ``low`` up to, not including, ``high``."""

    name: Text
    low: int
    high: int


#: The time-zone bands ``list band`` filters by; every zone (UTC−12 to UTC+14) is in one of them.
BANDS = {
    "americas": Band(_("the Americas"), -12 * 60, -2 * 60),
    "europe": Band(_("Europe and Africa"), -2 * 60, 4 * 60),
    "asia": Band(_("Asia and the Pacific"), 4 * 60, 14 * 60 + 1),
}
#: Other words people use for a band.
BAND_WORDS = {"america": "americas", "africa": "europe", "emea": "europe", "pacific": "asia", "apac": "asia"}


def parse_band(word: str) -> str:
    """A band as typed (``europe``, ``apac``, ``near``) as a key of :data:`BANDS`, or ``near``.

    Raises:
        CircleError: no such band, naming the valid ones.
    """
    key = word.strip().lower()
    key = BAND_WORDS.get(key, key)
    if key not in (*BANDS, "near"):
        raise CircleError(_("Unknown time-zone band \u201c{band}\u201d. Use one of: {choices}.", band=word,
                            choices=join([*BANDS, "near"])))
    return key


def parse_language(code: str) -> str:
    """A language filter as typed (``es``, ``es-ES``) as one of :data:`~bot.people.LANGUAGES`.

    Raises:
        CircleError: not a language circles here speak, naming those that are.
    """
    language = spoken(code)
    if language is None:
        raise CircleError(_("Unknown language \u201c{code}\u201d. Use one of: {choices}.", code=code,
                            choices=join(list(LANGUAGES))))
    return language


def filtered(command: c.ListCircles) -> bool:
    return any(value is not None for value in (command.kit, command.band, command.language, command.day))


def filter_words(command: c.ListCircles) -> tuple[str, ...]:
    """The filters as typed, canonical: ``kit career band europe``; the next page's hint repeats them."""
    given = (("kit", command.kit), ("band", command.band), ("language", command.language),
             ("day", None if command.day is None else WEEKDAYS[command.day]))
    return tuple(word for key, value in given if value is not None for word in (key, value))


def filter_texts(command: c.ListCircles, kits: Mapping[str, Kit]) -> list[Text]:
    """The filters as a person reads them: ``on the Starter kit, in Europe and Africa``."""
    texts = []
    if command.kit is not None:
        texts.append(_("on the {kit} kit", kit=kits[command.kit].name if command.kit in kits else command.kit))
    if command.band == "near":
        texts.append(_("within {hours} hours of your time zone", hours=NEAR // 60))
    elif command.band is not None:
        texts.append(_("in {band}", band=BANDS[command.band].name))
    if command.language is not None:
        texts.append(_("in {language}", language=LANGUAGES[command.language]))
    if command.day is not None:
        texts.append(_("meeting on {day}s", day=Weekday(command.day)))
    return texts


def offset_minutes(moment: datetime, tz: str) -> int:
    """``tz``'s offset from UTC at ``moment``, in minutes (east positive)."""
    offset = to_local(moment, tz).utcoffset()
    assert offset is not None
    return int(offset.total_seconds()) // 60


def week_minute(moment: datetime) -> int:
    """The minute of the week of an aware ``moment`` in its own zone: 0 is Monday 00:00, 10079 Sunday 23:59."""
    return moment.weekday() * MINUTES_A_DAY + moment.hour * 60 + moment.minute


def meeting_columns(circle: Circle) -> tuple[int, int]:
    """The circle's zone's UTC offset (minutes) at a meeting, and that meeting's UTC minute of the week.

    The meeting is the slot's first at or after the circle's next wake (its run's next step),
    else after it was formed: told from the circle alone, so every save of it gives the same.
    """
    meeting = slot_meeting(circle, circle.next_wake or circle.created_at)
    return offset_minutes(meeting, circle.tz), week_minute(meeting)


Ranges = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Search:
    """What storage looks for: a superset of what ``list``'s filters let through, on the columns it keeps.

    Attributes:
        kit: the kit, or ``None``: any.
        locales: the circle languages that match (``None`` in it: a circle in the bot's default language); ``()``: any.
        offsets: the UTC offsets (minutes) that match, as ranges from low up to, not including, high; ``()``: any.
        minutes: the meeting's minutes of the week that match, as such ranges within the week; ``()``: any.
        local: ``minutes`` are of the circle's own zone, not of UTC (the reader has no zone).
        after: only handles after this one.
    """

    kit: str | None = None
    locales: tuple[str | None, ...] = ()
    offsets: Ranges = ()
    minutes: Ranges = ()
    local: bool = False
    after: str | None = None


def within_week(low: int, high: int) -> Ranges:
    """Minutes from ``low`` up to ``high`` (either may be outside the week) as ranges within it, wrapping round."""
    if high - low >= MINUTES_A_WEEK:
        return ((0, MINUTES_A_WEEK),)
    low, high = low % MINUTES_A_WEEK, high % MINUTES_A_WEEK
    return ((low, high),) if low < high else ((low, MINUTES_A_WEEK), (0, high))


def search(command: c.ListCircles, viewer_tz: str | None, now: datetime, kits: Mapping[str, Kit],
           default_locale: str) -> Search:
    """What to ask storage for ``command``, read by someone in ``viewer_tz`` (``None``: unknown) at ``now``.

    Raises:
        CircleError: a kit not installed here, or ``near`` for someone whose zone is unknown.
    """
    if command.kit is not None and command.kit not in kits:
        raise CircleError(_("Unknown kit \u201c{kit}\u201d. Choose one of: {choices}.", kit=command.kit,
                            choices=join(sorted(kits))))
    locales: tuple[str | None, ...] = ()
    if command.language is not None:
        locales = (command.language, None) if command.language == default_locale else (command.language,)
    offsets: Ranges = ()
    if command.band == "near":
        if viewer_tz is None:
            raise CircleError(_("To find circles near you I need your time zone: {command}.",
                                command=hint("me", "timezone", "<Area/City>")))
        mine = offset_minutes(now, viewer_tz)
        # A day away is the same hour of the clock: Auckland's evening is Hawaii's.
        offsets = tuple((mine + day - NEAR - SPARE, mine + day + NEAR + SPARE + 1)
                        for day in (-MINUTES_A_DAY, 0, MINUTES_A_DAY))
    elif command.band is not None:
        band = BANDS[command.band]
        offsets = ((band.low - SPARE, band.high + SPARE),)
    minutes: Ranges = ()
    if command.day is not None:
        start = command.day * MINUTES_A_DAY - (offset_minutes(now, viewer_tz) if viewer_tz else 0)
        minutes = within_week(start - SPARE, start + MINUTES_A_DAY + SPARE)
    return Search(command.kit, locales, offsets, minutes, local=viewer_tz is None, after=command.after)


def upcoming(circle: Circle, kit: Kit | None, now: datetime) -> datetime:
    """The circle's next meeting; for one with none planned (or no kit here), the slot's next."""
    planned = next_meeting(circle, kit, now) if kit else None
    return planned or slot_meeting(circle, now)


def matches(circle: Circle, meeting: datetime, command: c.ListCircles, viewer_tz: str | None, now: datetime,
            default_locale: str) -> bool:
    """Whether ``circle``, meeting next at ``meeting``, passes every filter of ``command`` (exactly)."""
    offset = offset_minutes(meeting, circle.tz)
    if command.band == "near":
        assert viewer_tz is not None  # search() refused it
        apart = abs(offset - offset_minutes(now, viewer_tz)) % MINUTES_A_DAY
        near = min(apart, MINUTES_A_DAY - apart) <= NEAR
    else:
        near = command.band is None or BANDS[command.band].low <= offset < BANDS[command.band].high
    return (
        near
        and command.kit in (None, circle.kit_id)
        and command.language in (None, circle.locale or default_locale)
        and command.day in (None, to_local(meeting, viewer_tz or circle.tz).weekday())
    )


@dataclass(frozen=True)
class Entry:
    """An open circle as the directory shows it, with its next meeting."""

    circle: Circle
    meeting: datetime


def entries(circles: Iterable[Circle], command: c.ListCircles, viewer_tz: str | None, now: datetime,
            kits: Mapping[str, Kit], default_locale: str) -> list[Entry]:
    """The circles storage found that pass every filter, in order, each with its next meeting."""
    found = (Entry(circle, upcoming(circle, kits.get(circle.kit_id), now)) for circle in circles)
    return [e for e in found if matches(e.circle, e.meeting, command, viewer_tz, now, default_locale)]

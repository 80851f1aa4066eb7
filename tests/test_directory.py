"""The directory's rules (bot/directory.py) with fixed datetimes: filters, the reader's zone, weekdays across the date line."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time

import pytest

from bot import commands as c
from bot.circle import Circle, Slot
from bot.directory import (
    MINUTES_A_WEEK,
    Search,
    entries,
    matches,
    meeting_columns,
    search,
    upcoming,
    within_week,
)
from bot.errors import CircleError, UsageError
from bot.forming import list_message
from bot.grammar import parse
from bot.i18n import render
from kits import builtin_kits

KITS = builtin_kits()
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)  # a Thursday
SUMMER = datetime(2027, 7, 1, 12, 0, tzinfo=UTC)


def circle(handle: str, tz: str, weekday: int, at: time, **changes) -> Circle:
    made = Circle(id=handle, handle=handle, platform="slack", workspace="T1", name=handle.title(), kit_id="starter",
                  tz=tz, slot=Slot(weekday, at), created_at=NOW, revision=1)
    return replace(made, **changes)


def shown(circles, text: str, viewer_tz: str | None, now: datetime = NOW, default: str = "en") -> list[str]:
    return [e.circle.handle for e in entries(circles, parse(text), viewer_tz, now, KITS, default)]


def words(text) -> str:
    return render(text)


# ---------------------------------------------------------------- the grammar


@pytest.mark.parametrize("text, expected", [
    ("list", c.ListCircles()),
    ("list kit Career band EUROPE language es-ES day Tuesday after #Crew-2",
     c.ListCircles(kit="career", band="europe", language="es", day=1, after="crew-2")),
    ("list day sun near", c.ListCircles(band="near", day=6)),
    ("list zone apac lang de weekday mon", c.ListCircles(band="asia", language="de", day=0)),
    ("list region africa", c.ListCircles(band="europe")),
])
def test_list_takes_its_filters_in_any_order_and_by_the_words_people_use(text, expected):
    assert parse(text) == expected


@pytest.mark.parametrize("text, says", [
    ("list band mars", "Unknown time-zone band \u201cmars\u201d. Use one of: americas, europe, asia, near."),
    ("list day someday", "Unknown weekday \u201csomeday\u201d. Use one of: mon, tue, wed, thu, fri, sat, sun."),
    ("list language fr", "Unknown language \u201cfr\u201d. Use one of: en, es, de."),
])
def test_a_bad_filter_value_names_the_valid_ones(text, says):
    with pytest.raises(CircleError) as caught:
        parse(text)
    assert render(caught.value.text) == says and not isinstance(caught.value, UsageError)


@pytest.mark.parametrize("text", ["list kit", "list colour blue", "list #crew", "list europe"])
def test_a_filter_without_its_value_or_an_unknown_one_gets_the_usage_line(text):
    with pytest.raises(UsageError) as caught:
        parse(text)
    assert "[band americas|europe|asia|near]" in render(caught.value.text)


def test_a_kit_not_installed_is_refused_naming_the_installed_ones():
    with pytest.raises(CircleError) as caught:
        search(parse("list kit yoga"), None, NOW, KITS, "en")
    assert render(caught.value.text) == "Unknown kit \u201cyoga\u201d. Choose one of: after-loss, career, starter."


def test_near_needs_the_readers_zone():
    with pytest.raises(CircleError) as caught:
        search(parse("list near"), None, NOW, KITS, "en")
    assert "/circle me timezone <Area/City>" in render(caught.value.text)


# ---------------------------------------------------------------- what storage is asked, and the exact check


def test_the_columns_are_the_meeting_after_the_next_step_in_utc():
    # Tue 17:00 in Auckland (UTC+13 in December) is Tue 04:00 UTC.
    assert meeting_columns(circle("a", "Pacific/Auckland", 1, time(17))) == (13 * 60, 1 * 1440 + 4 * 60)
    # Mon 08:00 in Auckland is Sun 19:00 UTC: the UTC week wraps round.
    assert meeting_columns(circle("b", "Pacific/Auckland", 0, time(8))) == (13 * 60, 6 * 1440 + 19 * 60)


def test_a_weekday_in_the_readers_zone_is_a_utc_range_of_the_week_that_may_wrap_round():
    assert within_week(-100, 200) == ((MINUTES_A_WEEK - 100, MINUTES_A_WEEK), (0, 200))
    assert within_week(10000, 10200) == ((10000, MINUTES_A_WEEK), (0, 120))
    assert within_week(-60, MINUTES_A_WEEK + 60) == ((0, MINUTES_A_WEEK),)
    # Monday in Kiritimati (UTC+14) begins on Sunday 10:00 UTC; an hour to spare either side.
    asked = search(parse("list day mon"), "Pacific/Kiritimati", NOW, KITS, "en")
    assert asked.minutes == ((6 * 1440 + 10 * 60 - 60, MINUTES_A_WEEK), (0, 10 * 60 + 60))
    assert not asked.local
    # Without a zone the day is each circle's own.
    assert search(parse("list day mon"), None, NOW, KITS, "en") == Search(minutes=((MINUTES_A_WEEK - 60, MINUTES_A_WEEK), (0, 1500)), local=True)


def test_bands_and_languages_as_storage_reads_them():
    assert search(parse("list band europe"), None, NOW, KITS, "en").offsets == ((-180, 300),)
    assert search(parse("list language en"), None, NOW, KITS, "en").locales == ("en", None)  # a circle of no language speaks the bot's
    assert search(parse("list language en"), None, NOW, KITS, "de").locales == ("en",)
    # Near Tokyo (UTC+9): within three hours, an hour to spare, a day either side too (the same hour of the clock).
    assert search(parse("list near"), "Asia/Tokyo", NOW, KITS, "en").offsets == (
        (540 - 1440 - 240, 540 - 1440 + 241), (540 - 240, 540 + 241), (540 + 1440 - 240, 540 + 1440 + 241))


def test_the_weekday_is_the_readers_across_the_date_line():
    auckland_monday = circle("kiwis", "Pacific/Auckland", 0, time(8))  # Sun 19:00 UTC
    honolulu_sunday = circle("alohas", "Pacific/Honolulu", 6, time(20))  # Mon 06:00 UTC
    both = [auckland_monday, honolulu_sunday]
    assert shown(both, "list day sun", "America/Los_Angeles") == ["kiwis", "alohas"]  # Sun 11:00 and Sun 22:00 there
    assert shown(both, "list day mon", "America/Los_Angeles") == []
    assert shown(both, "list day sun", "Pacific/Kiritimati") == []  # Mon 09:00 and Mon 20:00 in Kiritimati
    assert shown(both, "list day mon", "Pacific/Kiritimati") == ["kiwis", "alohas"]
    # Without the reader's zone, each circle's own day.
    assert shown(both, "list day mon", None) == ["kiwis"]
    assert shown(both, "list day sun", None) == ["alohas"]


def test_near_is_the_same_hours_of_the_clock_whichever_side_of_the_date_line():
    circles = [circle("kiwis", "Pacific/Auckland", 0, time(8)), circle("alohas", "Pacific/Honolulu", 6, time(20)),
               circle("tokyo", "Asia/Tokyo", 2, time(19)), circle("london", "Europe/London", 2, time(19))]
    assert shown(circles, "list near", "Pacific/Honolulu") == ["kiwis", "alohas"]  # +13 is -11 a day on: an hour away
    assert shown(circles, "list near", "Asia/Seoul") == ["tokyo"]
    assert shown(circles, "list band asia", None) == ["kiwis", "tokyo"]
    assert shown(circles, "list band americas", None) == ["alohas"]
    assert shown(circles, "list band europe", None) == ["london"]


def test_a_clock_change_since_the_circle_was_saved_is_told_by_its_real_next_meeting():
    # Formed in December: stored as Tue 00:30 UTC; in July London's Tuesday 00:30 is Monday 23:30 UTC.
    london = circle("late", "Europe/London", 1, time(0, 30))
    assert meeting_columns(london)[1] == 1 * 1440 + 30
    in_utc = search(parse("list day mon"), "UTC", SUMMER, KITS, "en")
    assert any(low <= 1 * 1440 + 30 < high for low, high in in_utc.minutes)  # storage finds it, an hour to spare ...
    assert shown([london], "list day mon", "UTC", SUMMER) == ["late"]  # ... and it is shown on Monday
    assert shown([london], "list day tue", "UTC", SUMMER) == []


def test_kit_and_language_filters_and_a_circle_of_no_language():
    circles = [circle("en", "UTC", 0, time(9), locale="en"), circle("es", "UTC", 0, time(9), locale="es", kit_id="career"),
               circle("none", "UTC", 0, time(9))]
    assert shown(circles, "list language en", None) == ["en", "none"]
    assert shown(circles, "list language es", None, default="es") == ["es", "none"]
    assert shown(circles, "list kit career", None) == ["es"]
    assert matches(circles[1], upcoming(circles[1], KITS["career"], NOW), parse("list kit career language es day mon"),
                   None, NOW, "en")


# ---------------------------------------------------------------- the message


def lines_of(command: str, found, viewer_tz, *, mine=(), more=None, next_after=None) -> list[str]:
    command = parse(command)
    message = list_message(command, mine, entries(found, command, viewer_tz, NOW, KITS, "en"), more, next_after, KITS,
                           viewer_tz, NOW, "en")
    return [render(line) for line in message.lines]


def test_each_open_circle_shows_its_kit_language_places_and_next_meeting_in_the_readers_zone():
    crew = circle("crew", "Europe/London", 1, time(17), locale="es")
    [line] = [line for line in lines_of("list", [crew], "Asia/Tokyo") if line.startswith("#")]
    assert line == ("#crew \u2014 \u201cCrew\u201d, Starter Circle, Spanish, 5 of 5 places free, "
                    "next meeting Wed 9 Dec 2026 02:00 (Asia/Tokyo)")
    [line] = [line for line in lines_of("list", [crew], None) if line.startswith("#")]
    assert line.endswith("next meeting Tue 8 Dec 2026 17:00 (Europe/London)")  # no zone of their own: the circle's


def test_an_empty_page_says_which_filters_matched_nothing_and_how_to_widen():
    lines = lines_of("list kit career band asia language de day fri", [], "UTC")
    assert "No open circle here is on the Career Circle kit, in Asia and the Pacific, in German, meeting on Fridays." in lines
    assert "Leave a filter out to see more, or see every open circle with /circle list." in lines
    assert "No more open circles; see the first page with /circle list." in lines_of("list after zed", [], "UTC")


def test_the_next_page_repeats_the_filters_and_only_the_first_shows_ones_own_circles():
    mine = circle("mine", "UTC", 0, time(9))
    first = lines_of("list day mon kit starter", [circle("a", "UTC", 0, time(9))], "UTC", mine=[mine], next_after="a")
    assert "Next page: /circle list kit starter day mon after a" in first
    assert any(line.startswith("#mine") for line in first)
    later = lines_of("list day mon kit starter after a", [circle("b", "UTC", 0, time(9))], "UTC")
    assert not any(line.startswith("#mine") or line == "Your circles:" for line in later)

"""Calendars: every meeting of a circle as iCalendar, parsed back with the library and compared with the timetable.

The core builds the file (bot/calendar.py); the command service gives each member a private
address for it, and ``/calendar/<token>.ics`` serves it (circlebot/endpoints.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer
from aiohttp import web
from icalendar import Calendar
from requesting import run
from sqlmodel import select

from bot import commands as c
from bot import engine
from bot.calendar import calendar_ics, meetings
from bot.circle import Actor, Slot, UserRef
from bot.effects import SendFile
from bot.forming import circle_id
from bot.i18n import render
from bot.plan import meeting, tune_up_meeting
from circlebot.endpoints import Endpoints
from circlebot.wiring import wire
from kits import builtin_kits
from storage.database import make_engine, upgrade
from storage.models import CalendarFeedRow

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def events(ics: str) -> dict[str, dict]:
    """Every event of a calendar file by UID: start, end, sequence, status, summary, location, and the start's zone."""
    found = {}
    for event in Calendar.from_ical(ics).walk("VEVENT"):
        start = event.decoded("dtstart")
        found[str(event["uid"])] = {
            "start": start, "end": event.decoded("dtend"), "sequence": int(event["sequence"]),
            "status": str(event["status"]), "summary": str(event["summary"]), "zone": event["dtstart"].params["TZID"],
            "location": str(event.get("location", "")) or None,
        }
    return found


def timetable(circle, kit) -> dict[str, datetime]:
    """What the timetable says: each week's meeting (where it was held, for a held one) and each tune-up's,
    by the UID the calendar gives it."""
    held = {h.week: h.at for h in circle.held}
    expected = {f"{circle.id}-week-{w}@circlebot": held.get(w, meeting(circle, kit, w)) for w in range(1, kit.length + 1)}
    for n in range(1, len(kit.tune_ups.weeks_after) + 1):
        expected[f"{circle.id}-tune-up-{n}@circlebot"] = tune_up_meeting(circle, kit, n)
    return expected


def assert_matches_timetable(ics: str, circle, kit, zone: str, *, cancelled: frozenset[str] = frozenset()) -> dict:
    found = events(ics)
    expected = timetable(circle, kit)
    assert set(found) == set(expected)
    minutes = timedelta(minutes=kit.timing.meeting_minutes)
    for uid, at in expected.items():
        event = found[uid]
        assert event["start"] == at and event["end"] == at + minutes, uid
        assert event["zone"] == zone and event["start"].tzinfo == ZoneInfo(zone), uid
        assert event["status"] == ("CANCELLED" if uid in cancelled else "CONFIRMED"), uid
        assert event["sequence"] == circle.calendar_sequence
    return found


def test_a_calendar_holds_every_meeting_in_the_readers_zone_and_language(started_circle, kits, t0):
    circle, kit = started_circle("starter"), kits["starter"]
    ics = calendar_ics(circle, kit, "America/New_York", "en", t0)
    found = assert_matches_timetable(ics, circle, kit, "America/New_York")
    assert "BEGIN:VTIMEZONE" in ics and "TZID:America/New_York" in ics
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in ics and "X-PUBLISHED-TTL:PT1H" in ics  # subscribers refresh hourly
    assert found[f"{circle.id}-week-2@circlebot"]["summary"] == f"Tuesday crew: week 2 of 4 \u2014 {kit.week(2).title}"
    spanish = events(calendar_ics(circle, kit.translated("es"), "Europe/Madrid", "es", t0))
    assert spanish[f"{circle.id}-week-2@circlebot"]["summary"] == (
        f"Tuesday crew: semana 2 de 4 \u2014 {kit.translated('es').week(2).title}")
    assert spanish[f"{circle.id}-week-2@circlebot"]["start"].tzinfo == ZoneInfo("Europe/Madrid")


def test_a_forming_circle_has_no_meetings_yet(new_circle, kits, t0):
    ics = calendar_ics(new_circle("starter"), kits["starter"], "UTC", "en", t0)
    assert events(ics) == {}


def test_reschedule_skip_pause_resume_and_close_keep_each_meetings_uid_and_bump_the_sequence(
    started_circle, kits, moderator, run_until, t0
):
    kit, circle, zone = kits["starter"], started_circle("starter"), "Asia/Tokyo"
    before = assert_matches_timetable(calendar_ics(circle, kit, zone, "en", t0), circle, kit, zone)
    # Week 1 is held where it was planned; calendars keep it there whatever moves later.
    held = run_until(circle, kit, meeting(circle, kit, 1) + timedelta(hours=2)).circle
    week_1 = meeting(circle, kit, 1)
    now = week_1 + timedelta(hours=3)
    sequences = [held.calendar_sequence]
    for command in (c.Reschedule(None, Slot(2, held.slot.at.replace(hour=18))), c.Skip(None), c.Pause(None),
                    c.Resume(None)):
        changed = engine.handle(held, command, moderator, now, kit).circle
        ics = calendar_ics(changed, kit, zone, "en", now)
        cancelled = frozenset(
            f"{changed.id}-week-{w}@circlebot" for w in range(2, kit.length + 1)
        ) | frozenset(f"{changed.id}-tune-up-{n}@circlebot" for n in (1, 2)) if isinstance(command, c.Pause) else frozenset()
        found = events(ics)
        assert set(found) == set(before)  # the same meetings, never a second copy
        assert found[f"{changed.id}-week-1@circlebot"]["start"] == week_1
        later = {uid: when for uid, when in timetable(changed, kit).items() if not uid.endswith("-week-1@circlebot")}
        assert {uid: found[uid]["start"] for uid in later} == later
        assert {uid for uid, e in found.items() if e["status"] == "CANCELLED"} == cancelled
        assert all(e["sequence"] == changed.calendar_sequence for e in found.values())
        sequences.append(changed.calendar_sequence)
        held, now = changed, now + timedelta(hours=1)
    assert sequences == sorted(set(sequences)), "each change bumps the sequence"
    closed = engine.handle(held, c.Close(None), moderator, now, kit).circle
    found = events(calendar_ics(closed, kit, zone, "en", now))
    assert {uid for uid, e in found.items() if e["status"] == "CANCELLED"} == set(found) - {
        f"{closed.id}-week-1@circlebot"}
    assert closed.calendar_sequence == held.calendar_sequence + 1


def test_a_tick_or_a_check_in_leaves_the_sequence_alone(started_circle, kits, members, run_until):
    kit = kits["starter"]
    circle = started_circle("starter")
    assert circle.calendar_sequence == 1  # starting laid the meetings out
    ran = run_until(circle, kit, meeting(circle, kit, 2) + timedelta(hours=2)).circle
    assert ran.calendar_sequence == 1 and [h.week for h in ran.held] == [1, 2]
    answered = engine.handle(ran, c.CheckInCommand(None, ("a", "b", "c")), members[0], ran.plan[0].at, kit).circle
    assert answered.calendar_sequence == 1


def test_the_place_is_the_location_and_a_link_its_url(started_circle, kits, moderator, t0):
    kit = kits["starter"]
    circle = started_circle("starter")
    placed = engine.handle(circle, c.Place(None, "https://meet.example.com/crew"), moderator, t0, kit).circle
    assert placed.calendar_sequence == circle.calendar_sequence + 1
    ics = calendar_ics(placed, kit, "UTC", "en", t0)
    event = Calendar.from_ical(ics).walk("VEVENT")[0]
    assert str(event["location"]) == str(event["url"]) == "https://meet.example.com/crew"
    room = engine.handle(placed, c.Place(None, "Room 4.12, second floor"), moderator, t0, kit).circle
    event = Calendar.from_ical(calendar_ics(room, kit, "UTC", "en", t0)).walk("VEVENT")[0]
    assert str(event["location"]) == "Room 4.12, second floor" and "url" not in event


def test_place_is_shown_set_and_cleared_by_the_moderator_and_reaches_posts(
    started_circle, kits, moderator, members, run_until, t0, rendered
):
    kit = kits["starter"]
    circle = started_circle("starter")
    shown = engine.handle(circle, c.Place(None), moderator, t0, kit)
    assert "has no meeting place yet" in rendered(shown.effects[0].message) and shown.circle == circle
    with pytest.raises(Exception, match="moderator"):
        engine.handle(circle, c.Place(None, "Room 1"), members[0], t0, kit)
    placed = engine.handle(circle, c.Place(None, "https://meet.example.com/crew"), moderator, t0, kit)
    assert [rendered(e.message) for e in placed.effects if hasattr(e, "message")] == [
        "Meeting place\nThe circle meets at: https://meet.example.com/crew"]
    ran = run_until(placed.circle, kit, meeting(circle, kit, 1))
    posted = [rendered(p.message) for p in ran.posts]
    assert all("Where: https://meet.example.com/crew" in text for text in posted[:2])  # the week's post, the reminder
    info = engine.handle(ran.circle, c.Info(None), members[0], t0, kit).effects[0]
    assert "Where: https://meet.example.com/crew" in rendered(info.message)
    cleared = engine.handle(ran.circle, c.Place(None, ""), moderator, t0, kit)
    assert cleared.circle.place is None
    with pytest.raises(Exception, match="no meeting place to clear"):
        engine.handle(cleared.circle, c.Place(None, ""), moderator, t0, kit)


def test_meetings_come_in_time_order_with_their_week(started_circle, kits):
    kit = kits["career"]
    circle = started_circle("career")
    found = meetings(circle, kit)
    assert [m.start for m in found] == sorted(m.start for m in found)
    assert [m.week for m in found] == [*range(1, 13), None, None]


# ------------------------------------------------------------------ the service: files and private addresses


@pytest.fixture
def service(tmp_path):
    database = make_engine(f"sqlite:///{tmp_path / 'calendar.db'}")
    upgrade(database)
    return wire(database, builtin_kits(), timedelta(hours=6), public_url="https://circles.example.com/")


def person(name: str, tz: str, locale: str | None = None) -> Actor:
    return Actor(UserRef("slack", "T1", name), name.title(), tz, locale=locale)


ALICE, BOB, CARLA = person("alice", "Europe/London"), person("bob", "America/New_York", "es"), person("carla", "Europe/Berlin", "de")


def formed(service):
    run(service.commands, ALICE, '/circle new "Crew" starter Europe/London tue 17:00', T0)
    for someone in (BOB, CARLA):
        run(service.commands, someone, "/circle join crew", T0)
    run(service.commands, ALICE, "/circle start", T0)
    return circle_id("slack", "T1", "crew")


def feeds(service) -> int:
    """How many private calendar addresses are stored."""
    with service.store.transaction() as tx:
        return len(tx.session.exec(select(CalendarFeedRow.token)).all())


def calendar_of(service, actor, *words: str) -> SendFile:
    (file,) = [r for r in run(service.commands, actor, " ".join(["/circle calendar", *words]), T0)
               if isinstance(r, SendFile)]
    return file


def token_in(file: SendFile) -> str:
    url = render(file.note).rsplit(" ", 1)[-1]
    assert url.startswith("https://circles.example.com/calendar/") and url.endswith(".ics")
    return url.removeprefix("https://circles.example.com/calendar/").removesuffix(".ics")


def test_each_member_gets_a_file_in_their_zone_and_a_private_address_that_stays_until_reset(service):
    crew = formed(service)
    with service.store.transaction() as tx:
        circle = tx.load(crew)
    kit = builtin_kits()["starter"]
    files = {actor.name: calendar_of(service, actor) for actor in (ALICE, BOB, CARLA)}
    for actor, file in zip((ALICE, BOB, CARLA), files.values()):
        assert file.filename == "crew.ics" and file.to == actor.user
        assert_matches_timetable(file.content, circle, kit, actor.tz)
    assert "semana 1 de 4" in files["Bob"].content and "Woche 1 von 4" in files["Carla"].content
    tokens = {name: token_in(file) for name, file in files.items()}
    assert len(set(tokens.values())) == 3 and all(len(t) >= 40 for t in tokens.values())
    assert token_in(calendar_of(service, BOB)) == tokens["Bob"]  # asked again: the same address
    assert service.commands.calendar_feed(tokens["Bob"], T0) == files["Bob"].content  # the address serves the same
    new = token_in(calendar_of(service, BOB, "reset"))
    assert new != tokens["Bob"] and service.commands.calendar_feed(tokens["Bob"], T0) is None
    assert service.commands.calendar_feed(new, T0) is not None


def test_the_address_follows_a_reschedule_and_stops_when_the_member_leaves_or_is_forgotten(service):
    crew = formed(service)
    token = token_in(calendar_of(service, CARLA))
    first = events(service.commands.calendar_feed(token, T0))
    run(service.commands, ALICE, "/circle reschedule thu 18:30", T0)
    with service.store.transaction() as tx:
        circle = tx.load(crew)
    after = service.commands.calendar_feed(token, T0)
    found = assert_matches_timetable(after, circle, builtin_kits()["starter"], "Europe/Berlin")
    assert set(found) == set(first) and circle.calendar_sequence == 2  # laid out at the start, moved once
    assert all(e["start"].weekday() == 3 and e["start"].astimezone(ZoneInfo("Europe/London")).hour == 18
               for e in found.values())
    run(service.commands, CARLA, "/circle leave", T0)
    assert service.commands.calendar_feed(token, T0) is None
    bob = token_in(calendar_of(service, BOB))
    run(service.commands, BOB, "/circle forget-me confirm", T0)
    assert service.commands.calendar_feed(bob, T0) is None
    with service.store.transaction() as tx:
        assert tx.session.get(CalendarFeedRow, bob) is None


def test_without_a_public_url_the_file_comes_alone_and_reset_says_why(service):
    service.commands.public_url = None
    formed(service)
    file = calendar_of(service, BOB)
    assert "/calendar/" not in render(file.note) and "/circle calendar #crew" in render(file.note)
    (refusal,) = run(service.commands, BOB, "/circle calendar reset", T0)
    assert "no public address for calendars" in render(refusal.message)
    assert feeds(service) == 0


def test_an_outsider_gets_no_calendar_and_no_address(service):
    formed(service)
    outsider = person("olga", "UTC")
    (refusal,) = run(service.commands, outsider, "/circle calendar #crew", T0)
    assert "not a member" in render(refusal.message)
    assert feeds(service) == 0


async def test_the_calendar_address_is_served_and_an_unknown_token_is_404_and_changes_nothing(service):
    formed(service)
    token = token_in(calendar_of(service, BOB))
    endpoints = Endpoints(service.engine, service.outbox, calendar=lambda t: service.commands.calendar_feed(t, T0))
    app = web.Application()
    app.add_routes(endpoints.routes())
    async with TestClient(TestServer(app)) as client:
        response = await client.get(f"/calendar/{token}.ics")
        assert response.status == 200 and response.content_type == "text/calendar"
        assert events(await response.text()) == events(service.commands.calendar_feed(token, T0))
        before = feeds(service)
        for wrong in (f"/calendar/{token[:-1]}x.ics", f"/calendar/{token}", "/calendar/short.ics",
                      f"/calendar/{token}.ics.bak", "/calendar/" + "a" * 2000 + ".ics", "/calendar/..%2F..%2Fetc.ics"):
            assert (await client.get(wrong)).status == 404, wrong
        assert feeds(service) == before


def test_the_public_url_setting_is_checked():
    from circlebot.config import Settings
    from circlebot.config_check import problems

    def said(url: str) -> list[str]:
        return [p for p in problems(Settings(public_url=url, slack_bot_token="xoxb-1", slack_signing_secret="s"))
                if "CIRCLEBOT_PUBLIC_URL" in p]

    assert said("https://circles.example.com") == [] and said("http://localhost:3000/bot/") == []
    assert said("circles.example.com") and said("ftp://circles.example.com") and said("https://x.example.com/?a=1")


def test_the_kits_times_stay_put_across_the_clock_change(service):
    """A Tuesday 17:00 London meeting reads 12:00 in New York, except in the weeks the two zones change apart."""
    run(service.commands, ALICE, '/circle new "Spring" career Europe/London tue 17:00', datetime(2027, 2, 15, tzinfo=UTC))
    for someone in (BOB, CARLA):
        run(service.commands, someone, "/circle join spring", datetime(2027, 2, 15, tzinfo=UTC))
    run(service.commands, ALICE, "/circle start", datetime(2027, 2, 15, tzinfo=UTC))
    found = events(calendar_of_at(service, BOB, datetime(2027, 2, 15, tzinfo=UTC)).content)
    london = [e["start"].astimezone(ZoneInfo("Europe/London")) for e in found.values()]
    assert {(t.hour, t.minute) for t in london} == {(17, 0)}
    new_york = sorted(e["start"] for e in found.values())
    assert {t.hour for t in new_york} == {12, 13}  # 13:00 between the US change (14 Mar) and the UK's (28 Mar)


def calendar_of_at(service, actor, now: datetime) -> SendFile:
    (file,) = [r for r in run(service.commands, actor, "/circle calendar #spring", now) if isinstance(r, SendFile)]
    return file


def test_every_fortnightly_meeting_and_tune_up_is_in_the_calendar(started_circle, kits):
    kit = kits["after-loss"]
    circle = started_circle("after-loss")
    found = meetings(circle, kit)
    assert len(found) == kit.length + len(kit.tune_ups.weeks_after)
    assert {m.uid: m.start for m in found} == timetable(circle, kit)

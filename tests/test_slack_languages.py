"""One circle in Slack read in English, Spanish and German, each member in their own zone, with calendars that follow it.

The real bolt app over HTTP against the fake Slack (every call checked against Slack's spec):
each member's language and zone come from ``users.info`` (``include_locale``), one of them
changes theirs with ``/circle me language``, and the calendar files Slack receives
(``files.getUploadURLExternal`` + ``files.completeUploadExternal``) are parsed back and
compared with the circle's timetable, before and after a reschedule.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.fakes.slack_api import FakeSlack
from tests.fakes.specs import spec_path
from tests.slack_world import SlackWorld, text_of
from tests.test_calendar import assert_matches_timetable
from bot.forming import circle_id
from kits import builtin_kits

START = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)  # a Monday
ALICE, BETO, CARLA, DIRK = "U0ALICE", "U0BETO", "U0CARLA", "U0DIRK"
ZONES = {ALICE: "Europe/London", BETO: "America/New_York", CARLA: "Europe/Berlin", DIRK: "Asia/Tokyo"}
LINK = "https://meet.example.com/crew"
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def fake():
    fake = FakeSlack(spec_path("slack/web_api_openapi_v2.json")).start()
    fake.add_user(ALICE, "alice", ZONES[ALICE], "en-GB")
    fake.add_user(BETO, "beto", ZONES[BETO], "es-ES")
    fake.add_user(CARLA, "carla", ZONES[CARLA], "de-DE")
    fake.add_user(DIRK, "dirk", ZONES[DIRK], "en-US")  # he reads German by his own choice
    yield fake
    fake.stop()
    assert fake.violations == [], "calls outside the spec, the allow-list or Block Kit's limits"


@pytest.fixture
async def world(fake, tmp_path):
    world = await SlackWorld.start(fake, f"sqlite:///{tmp_path}/slack.db", START)
    yield world
    await world.close()


def said(world: SlackWorld, sent) -> str:
    return world.answers(sent)


def dms(fake: FakeSlack, user: str) -> str:
    channel = fake.im_of(user)
    return "\n".join(text_of(m) for m in channel.messages) if channel else ""


def latest_file(fake: FakeSlack, user: str) -> str:
    shared = [f for f in fake.files.values() if f["shared_in"] == fake.im_of(user).id]
    assert shared and shared[-1]["name"] == "crew.ics"
    return shared[-1]["content"].decode()


async def test_one_circle_reads_in_three_languages_and_its_calendars_follow_a_reschedule(world, fake):
    formed = await world.command(ALICE, 'new "Crew" starter Europe/London tue 17:00')
    assert "Circle formed" in said(world, formed)
    for user in (BETO, CARLA, DIRK):
        await world.command(user, "join crew")
    chosen = await world.command(DIRK, "me language de")
    assert "Sprache: Deutsch" in said(world, chosen)  # answered in his new language
    channel = fake.channel_named("crew")
    await world.command(ALICE, f"place {LINK}", channel=channel.id)
    await world.command(ALICE, "start", channel=channel.id)

    # Week 1: the circle's post is in the circle's language (its creator's), with the place.
    await world.advance(timedelta(days=7))
    (week1,) = world.posts(channel, "Week 1 of 4")
    assert f"Where: {LINK}" in text_of(week1) and "(Europe/London)" in text_of(week1)

    # The same week, as each member reads it: their language, their zone.
    nexts = {}
    for user in ZONES:
        nexts[user] = said(world, await world.command(user, "next #crew"))
    assert "What's next in" in nexts[ALICE] and "(Europe/London)" in nexts[ALICE]
    assert "Qué viene ahora en" in nexts[BETO] and "Esta semana:" in nexts[BETO] and "(America/New_York)" in nexts[BETO]
    assert "Was als Nächstes kommt in" in nexts[CARLA] and "(Europe/Berlin)" in nexts[CARLA]
    assert "Was als Nächstes kommt in" in nexts[DIRK] and "(Asia/Tokyo)" in nexts[DIRK]
    assert all(f"{LINK}" in text for text in nexts.values())

    # Each one commits; the week-2 check-in DMs bring it back, each in the member's own language.
    for user in ZONES:
        await world.command(user, "commit #crew call my sister", channel=channel.id)
    await world.advance(timedelta(days=10))  # past week 2's meeting, and every reader's quiet hours
    assert "Last time you committed to" in dms(fake, ALICE)
    assert "La última vez te comprometiste a" in dms(fake, BETO)
    assert "Letztes Mal hast du dir vorgenommen" in dms(fake, CARLA)
    assert "Letztes Mal hast du dir vorgenommen" in dms(fake, DIRK)

    # Calendars: a file in each member's DM, in their zone, matching the timetable; again after a reschedule.
    kit = builtin_kits()["starter"]
    crew = circle_id("slack", fake.team, "crew")
    before = {}
    for user in ZONES:
        await world.command(user, "calendar #crew")
        with world.wiring.store.transaction() as tx:
            circle = tx.load(crew)
        before[user] = assert_matches_timetable(latest_file(fake, user), circle, kit, ZONES[user])
    assert all(e["location"] == LINK for e in before[BETO].values())
    assert "semana 3 de 4" in latest_file(fake, BETO) and "Woche 3 von 4" in latest_file(fake, DIRK)
    await world.command(ALICE, "reschedule thu 18:30", channel=channel.id)
    for user in ZONES:
        await world.command(user, "calendar #crew")
        with world.wiring.store.transaction() as tx:
            circle = tx.load(crew)
        after = assert_matches_timetable(latest_file(fake, user), circle, kit, ZONES[user])
        assert set(after) == set(before[user])  # the same meetings moved, none added
        moved = {uid for uid in after if after[uid]["start"] != before[user][uid]["start"]}
        assert moved == set(after) - {f"{crew}-week-1@circlebot", f"{crew}-week-2@circlebot"}  # held ones stay
        assert all(after[uid]["start"].astimezone(LONDON).weekday() == 3 for uid in moved)
        assert all(e["sequence"] > s["sequence"] for e, s in zip(after.values(), before[user].values()))
    assert not any(f["shared_in"] == channel.id for f in fake.files.values())  # nobody's calendar in the circle

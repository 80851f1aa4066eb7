"""A circle runs its whole course in Slack: real bolt app over HTTP, signed requests, the fake Slack, a simulated clock."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from adapters.slack.translate import REPORT_SHORTCUT
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import signature_headers
from tests.fakes.specs import spec_path
from tests.slack_world import SlackWorld, spec_checked_slack, text_of, world_on
from tests.test_calendar import assert_matches_timetable
from bot.forming import circle_id
from kits import builtin_kits

START = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)  # a Monday
ALICE, BOB, CAROL, DANA = "U0ALICE", "U0BOB", "U0CAROL", "U0DANA"
BETO, CARLA, DIRK = "U0BETO", "U0CARLA", "U0DIRK"
ZONES = {ALICE: "Europe/London", BETO: "America/New_York", CARLA: "Europe/Berlin", DIRK: "Asia/Tokyo"}
LOCALES = {BETO: "es-ES", CARLA: "de-DE", DIRK: "en-US"}  # Dirk reads German by his own choice
LINK = "https://meet.example.com/crew"
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def fake():
    with spec_checked_slack() as fake:
        fake.add_user(ALICE, "alice", "Europe/London", "en-GB")
        fake.add_user(BOB, "bob", "America/New_York", "en-US")
        fake.add_user(CAROL, "carol", "Asia/Tokyo", "en-US")
        fake.add_user(DANA, "dana", "Europe/London", "en-GB", admin=True)  # a workspace admin
        yield fake


@pytest.fixture
async def world(fake, tmp_path):
    async with world_on(fake, tmp_path, START) as world:
        yield world


async def form_circle(world: SlackWorld) -> str:
    """Alice forms "Crew", Bob and Carol join; returns the circle's channel id."""
    formed = await world.command(ALICE, 'new "Crew" starter Europe/London tue 17:00')
    assert "Circle formed" in world.answers(formed)
    for user in (BOB, CAROL):
        await world.command(user, "join crew")
    return world.fake.channel_named("crew").id


async def test_a_whole_circle_runs_in_slack(world, fake):
    channel_id = await form_circle(world)
    channel = fake.channels[channel_id]
    # A private channel, and every member, the moderator included, in it before the first post.
    assert channel.is_private and channel.members == {"UBOT", ALICE, BOB, CAROL}
    assert any("bob joined" in text_of(m).lower() for m in world.posts(channel))

    # Typed in the circle's channel, a command acts on that circle.
    started = await world.command(ALICE, "start", channel=channel_id)
    assert "has started" in world.answers(started) + "".join(text_of(m) for m in world.posts(channel))

    await world.advance(timedelta(days=7))
    (week1,) = world.posts(channel, "Week 1 of 4")
    assert "\u25b0" in text_of(week1) and "1/4" in text_of(week1)  # the progress bar
    labels = [e["text"]["text"] for b in week1["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert labels[:3] == ["Check in", "I'll be there", "Can't make it"]

    # RSVPs update the week's post in place.
    await world.press(BOB, week1, "I'll be there", channel=channel_id)
    await world.press(CAROL, week1, "Can't make it", channel=channel_id)
    updated = next(m for m in channel.messages if m["ts"] == week1["ts"])
    assert updated.get("edited") and "1 coming, 1 can't make it" in text_of(updated)
    assert len(fake.called("chat.update")) >= 2

    # Check in through the modal: one input per question; the answers go to the week's thread.
    pressed = await world.press(BOB, week1, "Check in", channel=channel_id)
    (opened,) = [c for c in fake.called("views.open") if c.params["trigger_id"] == pressed.trigger_id]
    view_id = next(v for v, view in fake.views.items() if view["private_metadata"] == opened.params["view"]["private_metadata"])
    inputs = [b for b in fake.views[view_id]["blocks"] if b["type"] == "input"]
    answers = [f"answer {n}" for n in range(len(inputs) - 1)] + ["Call my sister"]
    await world.submit(BOB, view_id, answers)
    replies = world.thread(channel, week1)
    assert any("Call my sister" in text_of(m) for m in replies)
    assert not any("Call my sister" in text_of(m) for m in world.posts(channel))  # a new message, not an edit

    # The rest of the run, everyone checking in by typing, to graduation.
    for week in range(2, 5):
        await world.advance(timedelta(days=7))
        assert world.posts(channel, f"Week {week} of 4"), f"week {week}'s post"
        for user in (ALICE, BOB, CAROL):
            await world.command(user, f"checkin went fine | small step | step {week}", channel=channel_id)
    await world.advance(timedelta(days=7))
    assert len(world.posts(channel, "Graduation")) == 1
    # Its progress card goes up as a picture in the post's thread (files.getUploadURLExternal and complete).
    (card,) = [f for f in fake.files.values() if f["name"] == "progress.png"]
    assert card["content"].startswith(b"\x89PNG") and card["shared_in"] == channel_id

    # DMs went to each member's own DM channel; the commitment came back to Bob.
    bob_dm = fake.im_of(BOB)
    assert bob_dm is not None and any("Call my sister" in text_of(m) for m in bob_dm.messages)


async def test_a_retried_command_has_one_effect(world, fake):
    await world.command(ALICE, 'new "Crew" starter Europe/London tue 17:00')
    first = await world.command(BOB, "join crew")
    again = await world.command(BOB, "join crew", retry_num=1, trigger_id=first.trigger_id,
                                response_url=first.response_url)
    assert again.status == 200
    channel = fake.channel_named("crew")
    joined = [m for m in world.posts(channel) if "bob joined" in text_of(m).lower()]
    assert len(joined) == 1
    assert len(fake.called("conversations.invite")) == 2  # alice at creation, bob once


async def test_mentions_name_members(world, fake):
    channel_id = await form_circle(world)
    removed = await world.command(ALICE, "remove <@U0CAROL|carol>", channel=channel_id)
    assert removed.status == 200 and "Sorry" not in world.answers(removed)
    assert CAROL not in fake.channels[channel_id].members
    assert [c.params["user"] for c in fake.called("conversations.kick")] == [CAROL]


async def test_bad_or_stale_signatures_are_refused_and_change_nothing(world, fake):
    body = b"command=%2Fcircle&text=new+%22Crew%22+starter+UTC+tue+17%3A00&team_id=T0001&user_id=U0ALICE&trigger_id=t1"
    forged = await world.slack.post(body, "application/x-www-form-urlencoded", signature_headers("not-the-secret", body))
    stale = await world.slack.post(body, "application/x-www-form-urlencoded",
                                   signature_headers(world.slack.secret, body, timestamp=int(time.time()) - 6 * 60))
    unsigned = await world.slack.post(body, "application/x-www-form-urlencoded", {})
    assert (forged.status, stale.status, unsigned.status) == (401, 401, 401)
    await world.settle()
    assert fake.called("conversations.create") == [] and fake.called("users.info") == []


async def test_app_home_shows_the_persons_circles_once_per_event(world, fake):
    await form_circle(world)
    await world.settle()
    refreshed = len(fake.called("views.publish"))  # joining refreshed Bob's home already (RefreshHome)
    assert refreshed >= 1
    event = {"type": "app_home_opened", "user": BOB, "channel": "D0BOB", "tab": "home", "event_ts": "1.0"}
    await world.slack.event(event, event_id="Ev1")
    await world.slack.event(event, event_id="Ev1", retry_num=1)
    await world.settle()
    assert len(fake.called("views.publish")) == refreshed + 1
    assert "Crew" in text_of(fake.homes[BOB])


async def test_replies_are_ephemeral_and_in_the_persons_language_and_zone(world, fake):
    await form_circle(world)
    info = await world.command(BOB, "info #crew")
    assert info.body == ""  # acknowledged at once; the answer follows through response_url
    (answer,) = fake.responses_to(info.response_url)
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert "(America/New_York)" in json.dumps(answer)  # the next meeting in Bob's own zone


async def test_a_rate_limited_post_is_retried_after_retry_after(world, fake):
    await world.command(ALICE, 'new "Crew" starter Europe/London tue 17:00')
    fake.rate_limit("chat.postMessage", retry_after=30)
    await world.command(BOB, "join crew")
    channel = fake.channel_named("crew")
    assert not [m for m in world.posts(channel) if "bob joined" in text_of(m).lower()]
    await world.advance(timedelta(seconds=31))
    assert len([m for m in world.posts(channel) if "bob joined" in text_of(m).lower()]) == 1


async def test_export_goes_up_as_a_file_in_the_persons_dm(world, fake):
    await form_circle(world)
    await world.command(BOB, "export")
    (file,) = fake.files.values()
    assert file["name"].endswith(".json") and file["shared_in"] == fake.im_of(BOB).id
    assert b"crew" in file["content"].lower()


async def test_checkin_typed_without_answers_opens_the_form(world, fake):
    channel_id = await form_circle(world)
    await world.command(ALICE, "start", channel=channel_id)
    await world.advance(timedelta(days=7))
    typed = await world.command(CAROL, "checkin", channel=channel_id)
    (opened,) = fake.called("views.open")
    assert opened.params["trigger_id"] == typed.trigger_id
    view_id = next(iter(fake.views))
    inputs = [b for b in fake.views[view_id]["blocks"] if b["type"] == "input"]
    done = await world.submit(CAROL, view_id, ["fine"] * (len(inputs) - 1) + ["Walk daily"])
    assert done.json()["response_action"] == "update"  # the form turns into "Sending…", then the answer
    assert "Sending" not in text_of(fake.views[view_id])
    week1 = world.posts(fake.channels[channel_id], "Week 1 of 4")[0]
    assert any("Walk daily" in text_of(m) for m in world.thread(fake.channels[channel_id], week1))


async def test_home_tab_shows_circles_and_checks_in(world, fake):
    channel_id = await form_circle(world)
    await world.command(ALICE, "start", channel=channel_id)
    await world.advance(timedelta(days=7))
    await world.slack.event({"type": "app_home_opened", "user": BOB, "tab": "home", "event_ts": "1.0"}, event_id="Ev2")
    await world.settle()
    home = fake.homes[BOB]
    assert "#crew" in text_of(home) and "(America/New_York)" in text_of(home)  # the next step in Bob's zone
    await world.press(BOB, home, "Check in")
    (form,) = [v for v in fake.views.values() if v.get("callback_id") == "circlebot_form"]
    assert form["private_metadata"].startswith("cb1|")


async def test_refresh_home_delivery_publishes_the_tab(world, fake):
    from adapters.contract import Outgoing
    from bot.circle import UserRef
    from bot.effects import RefreshHome

    await form_circle(world)
    effect = RefreshHome("crew/home/1", "crew", UserRef("slack", fake.team, BOB))
    outgoing = Outgoing(effect, False, world.clock.now(), "slack", None, None, "en", "UTC")
    assert await world.bot.sender.deliver(outgoing) is None
    assert "Crew" in text_of(fake.homes[BOB])


async def test_the_manifest_asks_for_the_scopes_the_calls_need_and_no_more(world, fake):
    """Every Web API call the bot made in a busy session is allowed by a manifest scope, and every scope is used."""
    import yaml

    from adapters.contract import Outgoing, Receipt
    from adapters.slack.app import MANIFEST
    from bot.circle import UserRef
    from bot.effects import DirectMessage, Message, OpenSpace, PostInThread, PostToCircle
    from tests.fakes.slack_checks import NEWER_METHODS

    channel_id = await form_circle(world)
    await world.command(ALICE, "start", channel=channel_id)
    await world.advance(timedelta(days=7))
    week1 = world.posts(fake.channels[channel_id], "Week 1 of 4")[0]
    await world.press(BOB, week1, "I'll be there", channel=channel_id)
    await world.command(BOB, "checkin", channel=channel_id)
    (view_id, form), = fake.views.items()
    await world.submit(BOB, view_id, ["fine"] * sum(b["type"] == "input" for b in form["blocks"]))
    await world.command(CAROL, "export")
    await world.command(ALICE, f"remove {CAROL}", channel=channel_id)
    await world.slack.event({"type": "app_home_opened", "user": BOB, "tab": "home", "event_ts": "1.0"}, event_id="Ev3")
    await world.settle()
    # What only a resend after a crash does: look in history, in a thread, for a channel already made.
    now, bob = world.clock.now(), UserRef("slack", fake.team, BOB)
    with world.wiring.store.transaction() as tx:
        crew = tx.circle_of_space("slack", channel_id)
    message = Message(("again",))
    for effect, earlier in [
        (PostToCircle("k1", crew, message), None),
        (PostInThread("k2", crew, "p", message), Receipt(channel_id, week1["ts"])),
        (DirectMessage("k3", crew, bob, message), None),
        (OpenSpace("k4", crew, "crew", (bob,)), None),
    ]:
        await world.bot.sender.deliver(Outgoing(effect, True, now, "slack", Receipt(channel_id), earlier, "en", "UTC"))

    spec = json.loads(spec_path("slack/web_api_openapi_v2.json").read_text())["paths"]
    scopes = set(yaml.safe_load(MANIFEST.read_text())["oauth_config"]["scopes"]["bot"])
    used: set[str] = {"commands"}  # the slash command itself
    for method in sorted({call.method for call in fake.calls}):
        if method in NEWER_METHODS:
            needed = {"files:write"}
        else:
            (operation,) = spec[f"/{method}"].values()
            needed = {s.removesuffix(":bot") for s in operation["security"][0]["slackAuth"]} - {"none", "chat:write:user"}
        if needed:
            assert needed & scopes, f"{method} needs one of {sorted(needed)}"
            used |= needed & scopes
    assert scopes == used, f"asked for but never used: {sorted(scopes - used)}"


async def test_stories_go_to_the_community_channel_only_when_one_is_set(world, fake):
    from adapters.contract import DeliveryFailed, Outgoing
    from bot.effects import Message, PostToCommunity

    await form_circle(world)
    with world.wiring.store.transaction() as tx:
        crew = tx.circle_of_space("slack", fake.channel_named("crew").id)
    story = Outgoing(PostToCommunity("crew/story/1", crew, Message(("A story",))), False, world.clock.now(), "slack",
                     None, None, "en", "UTC")
    with pytest.raises(DeliveryFailed) as unset:
        await world.bot.sender.deliver(story)
    assert unset.value.permanent
    community = fake.add_channel("stories")
    world.bot.sender.community_channel = community.id
    receipt = await world.bot.sender.deliver(story)
    assert receipt.channel == community.id and text_of(community.messages[0]) == "A story"


async def test_a_retried_button_press_has_one_effect(world, fake):
    channel_id = await form_circle(world)
    await world.command(ALICE, "start", channel=channel_id)
    await world.advance(timedelta(days=7))
    week1 = world.posts(fake.channels[channel_id], "Week 1 of 4")[0]
    first = await world.press(CAROL, week1, "Can't make it", channel=channel_id)
    updates = len(fake.called("chat.update"))
    posts = len(fake.channels[channel_id].messages)
    await world.press(CAROL, week1, "Can't make it", channel=channel_id, retry_num=1, trigger_id=first.trigger_id)
    assert len(fake.called("chat.update")) == updates and len(fake.channels[channel_id].messages) == posts


def dms(fake: FakeSlack, user: str) -> str:
    channel = fake.im_of(user)
    return "\n".join(text_of(m) for m in channel.messages) if channel else ""


def latest_file(fake: FakeSlack, user: str) -> str:
    shared = [f for f in fake.files.values() if f["shared_in"] == fake.im_of(user).id]
    assert shared and shared[-1]["name"] == "crew.ics"
    return shared[-1]["content"].decode()


async def test_one_circle_reads_in_three_languages_and_its_calendars_follow_a_reschedule(world, fake):
    """One circle read in English, Spanish and German, each member in their own zone, with calendars that follow it.

    Languages and zones come from ``users.info`` (``include_locale``); Dirk chooses his own with ``/circle me``.
    The calendar files Slack receives (``files.getUploadURLExternal`` + ``files.completeUploadExternal``) are
    parsed back and compared with the timetable, before and after a reschedule.
    """
    for user, name in ((BETO, "beto"), (CARLA, "carla"), (DIRK, "dirk")):
        fake.add_user(user, name, ZONES[user], LOCALES[user])
    formed = await world.command(ALICE, 'new "Crew" starter Europe/London tue 17:00')
    assert "Circle formed" in world.answers(formed)
    for user in (BETO, CARLA, DIRK):
        await world.command(user, "join crew")
    chosen = await world.command(DIRK, "me language de")
    assert "Sprache: Deutsch" in world.answers(chosen)  # answered in his new language
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
        nexts[user] = world.answers(await world.command(user, "next #crew"))
    assert "What's next in" in nexts[ALICE] and "(Europe/London)" in nexts[ALICE]
    assert "Qué viene ahora en" in nexts[BETO] and "Esta semana:" in nexts[BETO] and "(America/New_York)" in nexts[BETO]
    assert "Was als Nächstes kommt in" in nexts[CARLA] and "(Europe/Berlin)" in nexts[CARLA]
    assert "Was als Nächstes kommt in" in nexts[DIRK] and "(Asia/Tokyo)" in nexts[DIRK]
    assert all(f"{LINK}" in text for text in nexts.values())
    await world.slack.event({"type": "app_home_opened", "user": BETO, "tab": "home", "event_ts": "1.0"}, event_id="EvB")
    await world.settle()
    assert f"Dónde: {LINK}" in text_of(fake.homes[BETO])  # his App Home, in Spanish, with the place

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


async def test_a_removal_names_nobody_in_the_circle_and_is_kind_to_the_person(world, fake):
    channel_id = await form_circle(world)
    await world.command(ALICE, "remove <@U0BOB|bob>", channel=channel_id)
    last = text_of(fake.channels[channel_id].messages[-1])
    assert "membership has changed" in last and "bob" not in last.lower()
    assert BOB not in fake.channels[channel_id].members
    assert "Thank you for the time you gave it" in dms(fake, BOB) and "/circle list" in dms(fake, BOB)
    refused = await world.command(BOB, "join crew")
    assert "cannot join it again" in world.answers(refused)


async def test_a_message_reported_with_the_shortcut_reaches_the_moderator_and_admins_only(world, fake):
    channel_id = await form_circle(world)
    await world.command(DANA, "list")  # an admin the bot has seen
    channel = fake.channels[channel_id]
    said = {"type": "message", "user": BOB, "text": "nobody cares what you think", "ts": "1801000000.000100"}
    channel.messages.append(said)
    posts = len(channel.messages)
    sent = await world.shortcut(CAROL, said, channel_id, REPORT_SHORTCUT)
    assert "bob is not told" in world.answers(sent)
    for told in (ALICE, DANA):
        report = dms(fake, told)
        assert "carol reported bob" in report and "nobody cares what you think" in report
        assert f"https://fake.slack.com/archives/{channel_id}/p1801000000000100" in report
    assert "reported" not in dms(fake, BOB) and len(channel.messages) == posts  # not told, nothing posted
    # The same message reported again: no second report.
    before = dms(fake, ALICE)
    await world.shortcut(CAROL, said, channel_id, REPORT_SHORTCUT)
    assert dms(fake, ALICE) == before


async def test_joining_a_full_circle_waits_in_line_and_a_freed_seat_is_taken_with_the_button(world, fake):
    """Dan finds "Crew" full and is put in line; Carol leaves; Dan's private offer's button gives him her seat, nobody else."""
    dan, eve = "U0DAN", "U0EVE"
    fake.add_user(dan, "dan", "America/New_York", "en-US")
    fake.add_user(eve, "eve", "Europe/London", "en-GB")
    await world.command(ALICE, 'new "Crew" starter Europe/London tue 17:00 3')
    for user in (BOB, CAROL):
        await world.command(user, "join crew")
    full = world.answers(await world.command(dan, "join crew"))
    assert "is full (3 people), so you are now number 1 in line" in full and "/circle leave #crew" in full
    channel = fake.channel_named("crew")
    await world.command(CAROL, "leave", channel=channel.id)
    assert fake.im_of(dan) is None  # 04:00 in New York: the offer waits for his morning, and so does its day
    await world.advance(timedelta(hours=5))
    (offer,) = [m for m in fake.im_of(dan).messages if "Take the seat" in text_of(m)]
    assert "It is held for you until Tue 2 Feb 2027 08:00 (America/New_York)." in text_of(offer)
    # Someone else pressing Dan's button is refused kindly and takes nothing.
    refused = world.answers(await world.press(eve, offer, "Take the seat", channel=fake.im_of(dan).id))
    assert "No seat in \u201cCrew\u201d is held for you now" in refused
    assert eve not in channel.members
    await world.press(dan, offer, "Take the seat", channel=fake.im_of(dan).id)
    assert dan in channel.members
    assert any("dan joined the circle" in text_of(m) for m in world.posts(channel))

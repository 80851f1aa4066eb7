"""The real Slack HTTP endpoint (bolt over aiohttp) refuses what is not a fresh request signed by Slack for this app.

A signed request replayed as it was has no second effect; replayed more than five
minutes after its timestamp (or stamped more than five minutes ahead), with its body
changed after signing, or with a malformed signature, it is refused with 401 before
anything runs. A button or a command from another workspace, a member's moderator
command, a non-member's press, oversized and control-character input: each is answered
politely and changes no stored row. (``tests/test_slack_e2e.py`` covers a wrong secret,
a six-minute-old stamp and no signature at all.)
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode

import pytest
from dbfixtures import stored_rows

from bot.actions import Action, Verb, encode_action
from bot.forming import circle_id
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import Sent, SignedRequests, signature_headers
from tests.fakes.specs import spec_path
from tests.slack_world import SECRET, SlackWorld, text_of

START = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)  # a Monday
ALICE, BOB, CAROL, DAN = "U0ALICE", "U0BOB", "U0CAROL", "U0DAN"
OTHER_TEAM, EVE = "T0OTHER", "U0EVE"
FORM = "application/x-www-form-urlencoded"
FIVE_MINUTES = 5 * 60


class Recorded(SignedRequests):
    """Signed requests that keep the last one as sent (body and headers), to replay it."""

    last: tuple[bytes, str, dict] | None = None

    async def post(self, body: bytes, content_type: str, headers: dict) -> Sent:
        self.last = (body, content_type, headers)
        return await super().post(body, content_type, headers)


@pytest.fixture
def fake():
    fake = FakeSlack(spec_path("slack/web_api_openapi_v2.json")).start()
    for user, name in ((ALICE, "alice"), (BOB, "bob"), (CAROL, "carol"), (DAN, "dan")):
        fake.add_user(user, name)
    fake.add_user(EVE, "eve", team=OTHER_TEAM, admin=True)
    yield fake
    fake.stop()
    assert fake.violations == []


@pytest.fixture
async def world(fake, tmp_path):
    world = await SlackWorld.start(fake, f"sqlite:///{tmp_path}/slack.db", START)
    world.slack = Recorded(world.slack.url, SECRET, fake)
    await world.command(ALICE, 'new "Crew" starter UTC tue 17:00')
    for user in (BOB, CAROL):
        await world.command(user, "join crew")
    await world.command(ALICE, "start #crew")
    await world.advance(timedelta(days=7))  # week 1's post is out, with its buttons
    yield world
    await world.close()


def week_1(world: SlackWorld) -> tuple[str, dict]:
    channel = world.fake.channel_named("crew")
    return channel.id, world.posts(channel, "Week 1 of 4")[0]


def resigned(body: bytes, stamp: int) -> dict:
    return signature_headers(SECRET, body, timestamp=stamp)


async def test_a_replayed_request_has_no_second_effect_and_a_late_or_altered_one_is_refused(world, fake):
    await world.command(DAN, "join crew")
    body, content_type, headers = world.slack.last
    before, calls = stored_rows(world.wiring.engine), len(fake.calls)

    replayed = await world.slack.post(body, content_type, headers)  # as it was, within the five minutes
    await world.settle()
    assert replayed.status == 200 and stored_rows(world.wiring.engine) == before

    now = int(time.time())
    fields = parse_qs(body.decode())
    altered = urlencode({**{k: v[0] for k, v in fields.items()}, "user_id": CAROL}).encode()
    refusals = [
        (body, resigned(body, now - FIVE_MINUTES - 1)),  # replayed five minutes and a second later
        (body, resigned(body, now + FIVE_MINUTES + 60)),  # stamped ahead
        (altered, headers),  # the body changed after signing (another person)
        (body, {**headers, "X-Slack-Signature": headers["X-Slack-Signature"].replace("v0=", "v1=")}),
        (body, {**headers, "X-Slack-Signature": "v0=" + "0" * 64}),
        (body, {"X-Slack-Signature": headers["X-Slack-Signature"]}),  # no timestamp
        (body, {**headers, "X-Slack-Request-Timestamp": "yesterday"}),
    ]
    for sent_body, sent_headers in refusals:
        answer = await world.slack.post(sent_body, content_type, sent_headers)
        assert answer.status == 401, sent_headers
    await world.settle()
    assert stored_rows(world.wiring.engine) == before and len(fake.calls) == calls


async def test_another_workspaces_buttons_and_commands_reach_nothing(world, fake):
    channel, post = week_1(world)
    elsewhere = Recorded(world.slack.url, SECRET, fake, team=OTHER_TEAM)
    before, posts = stored_rows(world.wiring.engine), len(fake.channels[channel].messages)
    try:
        # The week's real buttons, pressed from another workspace, and forged ones naming the circle's id.
        for label in ("Check in", "I'll be there", "Can't make it"):
            sent = await elsewhere.press(EVE, post, label, channel=channel)
            await world.settle()
            assert "Sorry" in world.answers(sent), label
        crew = circle_id("slack", fake.team, "crew")
        forged = {"ts": post["ts"], "blocks": [{"type": "actions", "block_id": "b", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": verb.name}, "action_id": f"a{n}",
             "value": encode_action(Action(verb, crew, 1, "1" if verb is Verb.STORY_APPROVE else ""))}
            for n, verb in enumerate((Verb.JOIN, Verb.STORY_APPROVE, Verb.STRUGGLING))]}]}
        for verb in (Verb.JOIN, Verb.STORY_APPROVE, Verb.STRUGGLING):
            sent = await elsewhere.press(EVE, forged, verb.name, channel=channel)
            await world.settle()
            assert "Sorry" in world.answers(sent), verb
        for line in ("info #crew", "leave", "close #crew"):
            typed = await elsewhere.command(EVE, line, channel)  # typed in the circle's own channel id
            await world.settle()
            assert "Week 1" not in world.answers(typed) and "Sorry" in world.answers(typed), line
    finally:
        await elsewhere.close()
    assert stored_rows(world.wiring.engine) == before and len(fake.channels[channel].messages) == posts


async def test_a_members_moderator_commands_and_a_non_members_press_are_refused(world, fake):
    channel, post = week_1(world)
    before = stored_rows(world.wiring.engine)
    for line in ("pause", "close", "remove carol", "reschedule wed 18:00", "space C0ELSEWHERE"):
        sent = await world.command(BOB, f"{line} #crew" if " " not in line else line.replace(" ", " #crew ", 1))
        assert "Only the moderator" in world.answers(sent), line
    for label in ("Check in", "I'll be there"):
        sent = await world.press(DAN, post, label, channel=channel)
        assert "You are not a member" in world.answers(sent), label
    assert stored_rows(world.wiring.engine) == before


@pytest.mark.parametrize("text", ["join " + "crew" * 5000, 'new "' + "N" * 3000 + '" starter UTC tue 17:00'])
async def test_oversized_input_is_refused_cleanly(world, fake, text):
    before = stored_rows(world.wiring.engine)
    sent = await world.command(DAN, text)
    assert sent.status == 200 and "Sorry" in world.answers(sent)
    assert stored_rows(world.wiring.engine) == before


async def test_control_characters_never_reach_storage_or_a_post(world, fake):
    """They are taken out of what people type before anything reads it (``bot.text.clean``)."""
    channel, _post = week_1(world)
    for who, text in ((DAN, "join cr\x00ew"), (BOB, "checkin #crew \x1b[31mred\x1b[0m | \x07bell | fine\x00")):
        sent = await world.command(who, text)
        assert sent.status == 200 and "Sorry" not in world.answers(sent), text
    stored = "\n".join(repr(row) for rows in stored_rows(world.wiring.engine).values() for row in rows)
    posted = "\n".join(text_of(m) for m in fake.channels[channel].messages)
    assert "[31mred" in stored and "bell" in posted  # what they wrote is there, without what is not text
    for control in ("\x00", "\x1b", "\x07"):
        assert control not in posted and repr(control)[1:-1] not in stored
        assert json.dumps(control)[1:-1] not in stored, control


async def test_an_oversized_or_malformed_interaction_payload_changes_nothing(world, fake):
    channel, post = week_1(world)
    before = stored_rows(world.wiring.engine)
    payload = {"type": "block_actions", "user": {"id": BOB, "team_id": fake.team}, "team": {"id": fake.team},
               "api_app_id": "AFAKE", "trigger_id": fake.new_trigger(), "container": {"channel_id": channel},
               "actions": [{"type": "button", "action_id": "x", "value": "cb1|ry|" + "a" * 100_000 + "|1|"}]}
    for body in (urlencode({"payload": json.dumps(payload)}).encode(), b"payload=%7Bnot+json",
                 urlencode({"payload": json.dumps({**payload, "actions": [{**payload["actions"][0], "value": "\x00" * 50}]})}).encode(),
                 urlencode({"payload": json.dumps(payload).replace("a" * 100_000, "crew\\ud800")}).encode()):
        sent = await world.slack.post(body, FORM, signature_headers(SECRET, body))
        await world.settle()
        assert sent.status < 500 and "Traceback" not in world.answers(sent)
    assert stored_rows(world.wiring.engine) == before
    assert text_of(world.posts(fake.channels[channel], "Week 1 of 4")[0]) == text_of(post)

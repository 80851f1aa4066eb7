"""A whole circle runs in Slack with known secrets and distinctive answers; no log line holds any of them.

Logging is set up as ``circlebot run`` sets it up (JSON lines), at DEBUG, and
with no secret to redact: the lines must be clean by themselves. The redaction
is tested on its own below.
"""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from circlebot.config import Settings
from circlebot.logs import JsonLines, Readable, about, configure_logging, secrets_of
from storage.database import make_engine
from tests.fakes.slack_api import FakeSlack
from tests.fakes.specs import spec_path
from tests.slack_world import SECRET, TOKEN, SlackWorld

START = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"
ANSWERS = ["Zanzibar-feeling-5521", "Quokka-small-step-7781", "Marzipan-struggle-3390", "Call-my-aunt-Ophelia-1127"]
TYPED = ["Tangerine-mood-6604", "Wombat-step-2219", "Halibut-commit-8835"]


@pytest.fixture
def captured():
    """Every log line of the test, as ``circlebot run`` writes them (conftest puts logging back afterwards)."""
    stream = io.StringIO()
    configure_logging("DEBUG", "json", secrets=(), stream=stream)
    return stream


@pytest.fixture
def fake():
    fake = FakeSlack(spec_path("slack/web_api_openapi_v2.json")).start()
    for user, name in ((ALICE, "alice"), (BOB, "bob"), (CAROL, "carol")):
        fake.add_user(user, name, "Europe/London", "en-GB")
    yield fake
    fake.stop()


async def test_no_log_line_holds_a_token_a_secret_or_an_answer(captured, fake, tmp_path):
    world = await SlackWorld.start(fake, f"sqlite:///{tmp_path}/leaks.db", START)
    try:
        await world.command(ALICE, 'new "Crew" starter Europe/London tue 17:00')
        for user in (BOB, CAROL):
            await world.command(user, "join crew")
        channel = fake.channel_named("crew")
        await world.command(ALICE, "start", channel=channel.id)
        fake.rate_limit("chat.postMessage", retry_after=5)  # failures log too: a 429, then an error
        await world.advance(timedelta(days=7))
        fake.fail("chat.postMessage", "internal_error")
        await world.advance(timedelta(minutes=5))
        (week1,) = world.posts(channel, "Week 1 of 4")

        pressed = await world.press(BOB, week1, "Check in", channel=channel.id)
        (opened,) = [c for c in fake.called("views.open") if c.params["trigger_id"] == pressed.trigger_id]
        view_id = next(v for v, view in fake.views.items()
                       if view["private_metadata"] == opened.params["view"]["private_metadata"])
        inputs = [b for b in fake.views[view_id]["blocks"] if b["type"] == "input"]
        await world.submit(BOB, view_id, ANSWERS[: len(inputs) - 1] + [ANSWERS[-1]])
        await world.command(CAROL, "checkin " + " | ".join(TYPED), channel=channel.id)
        for _week in range(2, 6):
            await world.advance(timedelta(days=7))
        assert world.posts(channel, "Graduation")
        seen = json.dumps(fake.channels[channel.id].messages)
        assert ANSWERS[-1] in seen and TYPED[0] in seen  # the answers did go where members read them
    finally:
        await world.close()

    lines = captured.getvalue().splitlines()
    events = [json.loads(line) for line in lines]  # every line is one JSON event
    assert any(e.get("key") and e.get("circle") and e["level"] == "warning" for e in events), "a failed delivery's line"
    for needle in [TOKEN, SECRET, *ANSWERS, *TYPED]:
        leaking = [line for line in lines if needle in line]
        assert not leaking, f"{needle!r} is in the log: {leaking[:3]}"


def record(message: str, **extra) -> logging.LogRecord:
    made = logging.LogRecord("circlebot.test", logging.WARNING, __file__, 1, message, (), None)
    made.__dict__.update(extra)
    return made


def test_known_secrets_are_masked_in_either_format():
    settings = Settings(_env_file=None, SLACK_BOT_TOKEN="xoxb-1111-2222-abcd", DISCORD_TOKEN="discord.token.value",
                        DATABASE_URL="postgresql://circlebot:pg-password-99@db/circlebot")
    secrets = secrets_of(settings)
    assert set(secrets) == {"xoxb-1111-2222-abcd", "discord.token.value", "pg-password-99"}
    line = record('refused "xoxb-1111-2222-abcd" at postgresql://circlebot:pg-password-99@db',
                  **about("c1", "c1/k/2")["extra"])
    as_json = json.loads(JsonLines(secrets).format(line))
    assert as_json["message"] == 'refused "****" at postgresql://circlebot:****@db'
    assert (as_json["circle"], as_json["key"], as_json["level"]) == ("c1", "c1/k/2", "warning")
    text = Readable(secrets).format(line)
    assert "xoxb" not in text and "pg-password" not in text and text.endswith("[circle=c1 key=c1/k/2]")


def test_a_failed_statement_does_not_show_what_it_carried():
    """A traceback in the log (a failed run) holds the database error: never the answers it was saving."""
    engine = make_engine("sqlite://")
    with pytest.raises(DBAPIError) as failed, engine.connect() as connection:
        connection.execute(text("INSERT INTO nowhere VALUES (:answer)"), {"answer": ANSWERS[0]})
    assert "nowhere" in str(failed.value) and ANSWERS[0] not in str(failed.value)

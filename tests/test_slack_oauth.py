"""Distribution: a workspace installs through OAuth v2, its token is kept encrypted, and uninstalling stops it."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import aiohttp
import pytest

from storage.outbox import PARKED, Outbox
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import SignedRequests
from tests.fakes.specs import spec_path
from tests.slack_world import CLIENT_ID, SECRET, SlackWorld

TEAM = "T0NEW"
ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"


@pytest.fixture
def fake():
    fake = FakeSlack(spec_path("slack/web_api_openapi_v2.json")).start()
    fake.add_user(ALICE, "alice", "Europe/London", team=TEAM)
    fake.add_user(BOB, "bob", "Europe/London", team=TEAM)
    fake.add_user(CAROL, "carol", "Europe/London", team=TEAM)
    yield fake
    fake.stop()
    assert fake.violations == []


@pytest.fixture
async def world(fake, tmp_path):
    world = await SlackWorld.start(fake, f"sqlite:///{tmp_path}/oauth.db", datetime(2027, 2, 1, 9, tzinfo=UTC), oauth=True)
    yield world
    await world.close()


async def install(world: SlackWorld, fake: FakeSlack) -> None:
    """What a person does: open /slack/install, approve in Slack, come back to /slack/oauth_redirect."""
    base = f"http://127.0.0.1:{world.settings.port}"
    async with aiohttp.ClientSession() as browser:
        async with browser.get(f"{base}/slack/install") as page:
            assert page.status == 200
            link = re.search(r'href="(https://slack.com/oauth/v2/authorize\?[^"]+)"', await page.text())[1]
            # The state cookie is Secure (behind HTTPS in production); this browser talks plain HTTP to 127.0.0.1.
            cookie = page.cookies["slack-app-oauth-state"]
        query = parse_qs(urlparse(link.replace("&amp;", "&")).query)
        assert query["client_id"] == [CLIENT_ID]
        assert set(query["scope"][0].split(",")) >= {"commands", "chat:write", "groups:write"}
        code = fake.install(TEAM)
        back = {"code": code, "state": query["state"][0]}
        headers = {"Cookie": f"{cookie.key}={cookie.value}"}
        async with browser.get(f"{base}/slack/oauth_redirect", params=back, headers=headers) as done:
            assert done.status == 200, await done.text()


async def test_a_workspace_installs_uses_and_uninstalls(world, fake, tmp_path):
    await install(world, fake)
    # The bot token is stored, but not readable from the database alone.
    (stored,) = sqlite3.connect(tmp_path / "oauth.db").execute("SELECT bot_token FROM slack_bots").fetchall()
    assert stored[0] and not stored[0].startswith("xoxb-")

    world.slack = SignedRequests(world.slack.url, SECRET, fake, team=TEAM)
    formed = await world.command(ALICE, 'new "Crew" starter Europe/London tue 17:00')
    assert "Circle formed" in world.answers(formed)
    channel = fake.channel_named("crew")
    assert channel.team == TEAM and ALICE in channel.members

    await world.command(BOB, "join crew")
    await world.command(CAROL, "join crew")
    started = await world.command(ALICE, "start #crew")
    assert "Sorry" not in world.answers(started)
    posted = len(channel.messages)

    await world.slack.event({"type": "app_uninstalled"}, event_id="EvGone")
    await world.settle()
    assert sqlite3.connect(tmp_path / "oauth.db").execute("SELECT count(*) FROM slack_bots").fetchone() == (0,)
    refused = await world.command(BOB, "info crew")  # bolt finds no installation: nothing runs
    assert "Kit:" not in world.answers(refused)
    # The week's post comes due, but nothing goes to a workspace that removed the app: it is parked.
    await world.advance(timedelta(days=7))
    assert len(channel.messages) == posted
    assert Outbox(world.wiring.engine).counts().get(PARKED, 0) >= 1


async def test_requests_from_a_workspace_that_never_installed_are_refused(world, fake):
    world.slack = SignedRequests(world.slack.url, SECRET, fake, team="T0STRANGER")
    sent = await world.command(ALICE, "list")
    assert "Circle" not in sent.body
    assert fake.called("users.info") == [] and fake.channels == {}

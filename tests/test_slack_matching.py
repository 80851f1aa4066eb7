"""Matching strangers and handing the moderator role on, in Slack: the real bolt app, signed requests, the fake Slack."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.slack_world import spec_checked_slack, text_of, world_on
from test_slack_e2e import START

PEOPLE = {  # Slack tells each person's zone; the hours are typed in it
    "U0ALICE": ("alice", "Europe/London", "tue 17-20 moderate yes"),
    "U0BOB": ("bob", "Europe/Berlin", "tue 18-19"),
    "U0CAROL": ("carol", "America/New_York", "tue 12-14"),
    "U0DAN": ("dan", "Asia/Kolkata", "tue 22:30-23:30"),
}


@pytest.fixture
def fake():
    with spec_checked_slack() as fake:
        for user, (name, tz, _) in PEOPLE.items():
            fake.add_user(user, name, tz, "en-GB")
        fake.add_user("U0ROOT", "root", "UTC", admin=True)
        fake.add_user("U0EVE", "eve", "UTC")
        yield fake


@pytest.fixture
async def world(fake, tmp_path):
    async with world_on(fake, tmp_path, START) as world:
        yield world


async def test_sign_ups_are_matched_into_a_private_channel_and_the_role_is_handed_on_with_a_button(world, fake):
    for user, (_, _, hours) in PEOPLE.items():
        signed = await world.command(user, f"signup starter {hours}")
        assert "You are in the pool" in world.answers(signed)
    refused = await world.command("U0EVE", "match")
    assert "Only a workspace admin can match the pool." in world.answers(refused)
    matched = await world.command("U0ROOT", "match")
    assert "1 new circles for 4 people" in world.answers(matched)
    await world.advance(timedelta(hours=5))  # 14:00 UTC: past New York's quiet hours, before Kolkata's
    channel = fake.channel_named("starter-circle-alice")
    assert channel.is_private and channel.members == {"UBOT", *PEOPLE}
    for user in PEOPLE:
        told = [m for m in fake.im_of(user).messages if "You have a circle" in text_of(m)]
        assert len(told) == 1 and "would rather meet strangers" in text_of(told[0])
    assert fake.im_of("U0EVE") is None  # she never signed up: not a word
    # Alice offers the role to Bob; it moves only when he presses the button in his DM.
    await world.command("U0ALICE", "moderator <@U0BOB|bob>", channel=channel.id)
    (offer,) = [m for m in fake.im_of("U0BOB").messages if "Moderate" in text_of(m)]
    await world.press("U0BOB", offer, "Yes, I'll moderate")
    assert any("bob is now the moderator. Thank you, alice!" in text_of(m) for m in world.posts(channel))
    assert any("Moderator guide 1/8" in text_of(m) for m in fake.im_of("U0BOB").messages)

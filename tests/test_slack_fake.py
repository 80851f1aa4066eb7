"""The fake Slack itself: it answers like Slack and catches calls outside the spec or Block Kit's limits."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import signature_headers
from tests.fakes.specs import spec_path


@pytest.fixture
def fake():
    fake = FakeSlack(spec_path("slack/web_api_openapi_v2.json")).start()
    fake.add_user("U1", "ann", "Europe/Berlin", "de-DE")
    fake.add_user("U2", "bob")
    yield fake
    fake.stop()


@pytest.fixture
def client(fake):
    # No retry handlers: the tests see each answer as it is.
    return AsyncWebClient(token="xoxb-fake-token", base_url=fake.api_url, retry_handlers=[])


async def test_channels_members_and_the_errors_a_resend_meets(fake, client):
    created = await client.conversations_create(name="crew", is_private=True)
    channel = created["channel"]["id"]
    with pytest.raises(SlackApiError) as taken:
        await client.conversations_create(name="crew", is_private=True)
    assert taken.value.response["error"] == "name_taken"
    await client.conversations_invite(channel=channel, users=["U1", "U2"])
    with pytest.raises(SlackApiError) as already:
        await client.conversations_invite(channel=channel, users=["U1"])
    assert already.value.response["error"] == "already_in_channel"
    await client.conversations_kick(channel=channel, user="U2")
    assert fake.channels[channel].members == {"UBOT", "U1"}
    with pytest.raises(SlackApiError) as bad_name:
        await client.conversations_create(name="Crew Room", is_private=True)
    assert bad_name.value.response["error"] == "invalid_name_specials"
    assert fake.violations == []


async def test_history_returns_metadata_only_when_asked_and_only_after_oldest(fake, client):
    channel = (await client.conversations_create(name="crew", is_private=True))["channel"]["id"]
    first = await client.chat_postMessage(channel=channel, text="one",
                                          metadata={"event_type": "circlebot_outbox", "event_payload": {"key": "k1"}})
    await client.chat_postMessage(channel=channel, text="reply", thread_ts=first["ts"])
    second = await client.chat_postMessage(channel=channel, text="two")
    plain = await client.conversations_history(channel=channel)
    assert [m["text"] for m in plain["messages"]] == ["two", "one"]  # newest first, no thread replies
    assert "metadata" not in plain["messages"][1]
    full = await client.conversations_history(channel=channel, include_all_metadata=True, oldest="0")
    assert full["messages"][1]["metadata"]["event_payload"] == {"key": "k1"}
    later = await client.conversations_history(channel=channel, oldest=first["ts"])
    assert [m["ts"] for m in later["messages"]] == [second["ts"]]
    replies = await client.conversations_replies(channel=channel, ts=first["ts"])
    assert [m["text"] for m in replies["messages"]] == ["reply", "one"]


async def test_rate_limit_on_demand_carries_retry_after(fake, client):
    fake.rate_limit("chat.postMessage", retry_after=7)
    channel = (await client.conversations_open(users="U1"))["channel"]["id"]
    with pytest.raises(SlackApiError) as limited:
        await client.chat_postMessage(channel=channel, text="hi")
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "7"
    assert (await client.chat_postMessage(channel=channel, text="hi"))["ok"]


async def test_calls_outside_the_spec_are_violations(fake, client):
    with pytest.raises(SlackApiError):
        await client.api_call("chat.postMessage", json={"channel": "C1", "text": "x", "client_msg_id": "abc"})
    with pytest.raises(SlackApiError):
        await client.api_call("chat.frobnicate", json={})
    with pytest.raises(SlackApiError):
        await client.api_call("chat.update", json={"channel": "C1", "text": "x"})
    assert fake.violations == [
        "chat.postMessage: unknown parameter 'client_msg_id'",
        "chat.frobnicate: no such method in the spec or the allow-list",
        "chat.update: required parameter 'ts' missing",
    ]


async def test_block_kit_limits_are_checked(fake, client):
    channel = (await client.conversations_open(users="U1"))["channel"]["id"]
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x"}}
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel=channel, text="x", blocks=[section] * 51)
    long_button = {"type": "actions", "block_id": "a", "elements": [
        {"type": "button", "action_id": "b" * 256, "text": {"type": "plain_text", "text": "y" * 76}, "value": "v"}]}
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel=channel, text="x", blocks=[long_button, {**long_button}])
    with pytest.raises(SlackApiError):
        await client.views_open(trigger_id=fake.new_trigger(), view={
            "type": "modal", "title": {"type": "plain_text", "text": "A title far longer than twenty-four"},
            "blocks": [section]})
    assert fake.violations == [
        "chat.postMessage: ['51 blocks, more than 50']",
        "chat.postMessage: [\"block_id 'a' used 2 times\", 'action_id of 256 characters, more than 255', "
        "'button text of 76 characters, more than 75', 'action_id of 256 characters, more than 255', "
        "'button text of 76 characters, more than 75']",
        "views.open: [\"modal title 'A title far longer than twenty-four' longer than 24\"]",
    ]


async def test_trigger_ids_work_once(fake, client):
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Check in"}, "blocks": []}
    trigger = fake.new_trigger()
    opened = await client.views_open(trigger_id=trigger, view=view)
    assert fake.views[opened["view"]["id"]]["title"]["text"] == "Check in"
    with pytest.raises(SlackApiError) as again:
        await client.views_open(trigger_id=trigger, view=view)
    assert again.value.response["error"] == "invalid_trigger_id"


async def test_users_info_has_zone_and_locale(fake, client):
    user = (await client.users_info(user="U1", include_locale=True))["user"]
    assert (user["tz"], user["locale"]) == ("Europe/Berlin", "de-DE")
    with pytest.raises(SlackApiError) as unknown:
        await client.users_info(user="U9")
    assert unknown.value.response["error"] == "user_not_found"
    bad = AsyncWebClient(token="xoxb-stolen", base_url=fake.api_url, retry_handlers=[])
    with pytest.raises(SlackApiError) as refused:
        await bad.auth_test()
    assert refused.value.response["error"] == "invalid_auth"


async def test_files_go_up_in_three_steps(fake, client):
    channel = (await client.conversations_open(users="U1"))["channel"]["id"]
    await client.files_upload_v2(channel=channel, content="{}", filename="export.json", initial_comment="Yours")
    (file,) = fake.files.values()
    assert (file["name"], file["content"], file["shared_in"]) == ("export.json", b"{}", channel)
    assert [c.method for c in fake.calls] == [
        "conversations.open", "files.getUploadURLExternal", "files.completeUploadExternal"]
    assert fake.violations == []


def test_signatures_are_the_ones_slack_sdk_verifies():
    body = b"command=%2Fcircle&text=info"
    headers = signature_headers("s3cret", body)
    verifier = SignatureVerifier("s3cret")
    assert verifier.is_valid(body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])
    assert not SignatureVerifier("other").is_valid(body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])

"""Slack payloads in, core requests out: slash commands, button presses, modal submissions.

Pure functions over the shapes Slack sends (form fields of a slash command, the
JSON ``payload`` of an interaction). The request id is what Slack repeats when
it retries (``X-Slack-Retry-Num``): the ``trigger_id`` of a command or
interaction, the ``event_id`` of an event. Mentions arrive escaped
(``<@U123|bob>``) and become the plain user id the core matches members by.
"""

from __future__ import annotations

import re

from adapters.slack.render import answers_of
from bot.circle import Actor, UserRef
from bot.inputs import Pressed, ReportedMessage, Request, Submitted, Typed

PLATFORM = "slack"
#: The message shortcut that reports a message (``manifest.yml``, ``shortcuts``).
REPORT_SHORTCUT = "circle_report"
USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
CHANNEL_MENTION = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>")
#: Slack wraps a typed link: ``<https://zoom.us/j/1|zoom.us/j/1>``.
LINK = re.compile(r"<([a-z][a-z0-9+.-]*:[^<>|\s]+)(?:\|[^<>]*)?>", re.IGNORECASE)


def command_text(text: str) -> str:
    """Mentions and links as the core reads them: ``<@U123|bob>`` is ``U123``, ``<#C1|crew>`` is
    ``#crew``, ``<https://x.example/1|x.example/1>`` is ``https://x.example/1``."""
    text = USER_MENTION.sub(lambda m: m[1], text)
    text = LINK.sub(lambda m: m[1], text)
    return CHANNEL_MENTION.sub(lambda m: f"#{m[2] or m[1]}", text)


def slack_locale(locale: str | None) -> str | None:
    """Slack says ``de-DE``; gettext looks for ``de_DE`` (and then ``de``)."""
    return locale.replace("-", "_") if locale else None


def actor_of(team: str, user_id: str, fallback_name: str, profile: dict | None) -> Actor:
    """The person, from ``users.info`` when Slack answered it (their zone, language, admin flag)."""
    profile = profile or {}
    details = profile.get("profile") or {}
    name = details.get("display_name") or details.get("real_name") or profile.get("name") or fallback_name
    return Actor(
        UserRef(PLATFORM, team, user_id),
        name,
        profile.get("tz"),
        bool(profile.get("is_admin") or profile.get("is_owner")),
        slack_locale(profile.get("locale")),
    )


def team_of(body: dict) -> str:
    """The workspace a payload comes from, whichever shape it has."""
    return body.get("team_id") or (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id", "")


def from_command(body: dict, actor: Actor) -> Request:
    """``/circle <text>`` as typed, in the channel it was typed in."""
    text = command_text(body.get("text", "")).strip()
    return Request(actor, Typed(text), body["trigger_id"], body.get("channel_id"))


def from_action(body: dict, actor: Actor) -> Request | None:
    """The button pressed, or None for an interaction that is not one of ours."""
    actions = body.get("actions") or []
    if not actions:
        return None
    encoded = actions[0].get("value") or actions[0].get("action_id", "")
    channel = (body.get("container") or {}).get("channel_id") or (body.get("channel") or {}).get("id")
    key = body.get("trigger_id") or actions[0].get("action_ts", "")
    return Request(actor, Pressed(encoded), key, channel)


def from_submission(body: dict, actor: Actor) -> Request:
    """A submitted form: its action (from ``private_metadata``) and the answers, one per field."""
    view = body["view"]
    key = body.get("trigger_id") or f"{view['id']}:{view.get('hash', '')}"
    return Request(actor, Submitted(view.get("private_metadata", ""), answers_of(view)), key)


def from_message_shortcut(body: dict) -> ReportedMessage:
    """The message reported with the message shortcut: its author, its words, and its address in the workspace."""
    message, channel = body.get("message") or {}, (body.get("channel") or {}).get("id", "")
    ts = message.get("ts") or body.get("message_ts", "")
    domain = (body.get("team") or {}).get("domain")
    link = f"https://{domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}" if domain else f"{channel} {ts}"
    return ReportedMessage(message.get("user", ""), command_text(message.get("text", "")), link)


def from_shortcut(body: dict, actor: Actor) -> Request:
    return Request(actor, from_message_shortcut(body), body["trigger_id"], (body.get("channel") or {}).get("id"))

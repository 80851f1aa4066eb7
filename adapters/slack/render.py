"""Core messages and forms as Block Kit: messages, modals, the App Home tab.

Everything here is pure (dicts in, dicts out) and keeps to Block Kit's limits:
50 blocks a message, 100 a modal or Home tab, 3,000 characters a section, 150
a header, 75 a button, 24 a modal's title, submit and close. A button carries
its encoded action in both ``action_id`` and ``value``; a form carries its
action in ``private_metadata``.
"""

from __future__ import annotations

import re
import unicodedata

from adapters.common import message_lines, progress_bar, split_text, week_of
from bot.actions import encode_action
from bot.effects import Message, OpenForm
from bot.i18n import Hint, _, typed_hint
from bot.i18n import render as render_text

MESSAGE_BLOCKS, SURFACE_BLOCKS = 50, 100
SECTION_TEXT, HEADER_TEXT, BUTTON_TEXT, MODAL_TEXT, LABEL_TEXT = 3000, 150, 75, 24, 2000
BUTTONS_PER_BLOCK = 25
#: The modal every form opens as; its submission is routed by this id.
FORM_CALLBACK = "circlebot_form"
#: Message metadata naming the outbox key, so a resend can find an earlier post.
OUTBOX_EVENT = "circlebot_outbox"
ANSWER = "answer"


def slack_hint(hint: Hint) -> str:
    """A command to type, as Slack shows code: `/circle checkin #crew`."""
    return f"`{typed_hint(hint)}`"


def render(text, locale: str) -> str:
    """A core text in ``locale``, with commands spelled for Slack."""
    return render_text(text, locale, slack_hint)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def plain(text: str, limit: int) -> dict:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def escape(text: str) -> str:
    """Slack's three control characters, so what people wrote shows as they wrote it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def message_blocks(message: Message, locale: str, prefix: str = "", limit: int = MESSAGE_BLOCKS) -> list[dict]:
    """The message as blocks: title, the week's progress bar, its text, its buttons.

    Args:
        prefix: put before every ``block_id``, so several messages can share one surface.
        limit: the surface's block limit; text that would not fit is cut, with an ellipsis.
    """
    blocks: list[dict] = []
    if message.title:
        blocks.append({"type": "header", "block_id": f"{prefix}title",
                       "text": plain(render(message.title, locale), HEADER_TEXT)})
    if position := week_of(message):
        blocks.append({"type": "context", "block_id": f"{prefix}progress",
                       "elements": [{"type": "mrkdwn", "text": progress_bar(*position)}]})
    body = "\n".join(escape(render(line, locale)) for line in message.lines)
    buttons = [message.buttons[i: i + BUTTONS_PER_BLOCK] for i in range(0, len(message.buttons), BUTTONS_PER_BLOCK)]
    room = limit - len(blocks) - len(buttons)
    pieces = [p for p in split_text(body, SECTION_TEXT) if p.strip()]
    if len(pieces) > room:
        pieces = pieces[: room - 1] + [clip(pieces[room - 1], SECTION_TEXT - 1) + "\u2026"]
    blocks += [{"type": "section", "block_id": f"{prefix}text-{n}", "text": {"type": "mrkdwn", "text": piece}}
               for n, piece in enumerate(pieces)]
    for n, group in enumerate(buttons):
        blocks.append({"type": "actions", "block_id": f"{prefix}actions-{n}", "elements": [
            {"type": "button", "action_id": encode_action(b.action), "value": encode_action(b.action),
             "text": plain(render(b.label, locale), BUTTON_TEXT)} for b in group]})
    return blocks


def message_text(message: Message, locale: str) -> str:
    """The notification text that goes with the blocks (and all a screen reader or an old client shows)."""
    return clip(escape("\n".join(message_lines(message, locale, slack_hint))), SECTION_TEXT)


def message_payload(message: Message, locale: str) -> dict:
    """``text`` and ``blocks`` for chat.postMessage, chat.update, chat.postEphemeral or a response_url."""
    return {"text": message_text(message, locale), "blocks": message_blocks(message, locale)}


def form_view(form: OpenForm, locale: str) -> dict:
    """A modal with one input per field; submitting it sends the answers, in order, with the form's action."""
    blocks = []
    if form.intro:
        blocks.append({"type": "section", "block_id": "intro",
                       "text": {"type": "mrkdwn", "text": clip(escape(render(form.intro, locale)), SECTION_TEXT)}})
    for n, field in enumerate(form.fields):
        blocks.append({
            "type": "input", "block_id": f"field-{n}", "optional": not field.required,
            "label": plain(render(field.label, locale), LABEL_TEXT),
            "element": {"type": "plain_text_input", "action_id": ANSWER, "multiline": field.multiline},
        })
    return {
        "type": "modal", "callback_id": FORM_CALLBACK, "private_metadata": encode_action(form.action),
        "title": plain(render(form.title, locale), MODAL_TEXT), "submit": plain(render(_("Send"), locale), MODAL_TEXT),
        "close": plain(render(_("Cancel"), locale), MODAL_TEXT), "blocks": blocks[:SURFACE_BLOCKS],
    }


def answers_of(view: dict) -> tuple[str, ...]:
    """A submitted form's answers in field order (an optional field left empty is ``""``)."""
    values = view.get("state", {}).get("values", {})
    fields = sorted((b for b in values if re.fullmatch(r"field-\d+", b)), key=lambda b: int(b.split("-")[1]))
    return tuple((values[b].get(ANSWER, {}).get("value") or "").strip() for b in fields)


def message_view(messages: list[Message], locale: str, title: str) -> dict:
    """A modal that only shows messages (a reply to a button pressed where there is no channel)."""
    return {"type": "modal", "title": plain(title, MODAL_TEXT), "close": plain(render(_("Close"), locale), MODAL_TEXT),
            "blocks": _surface_blocks(messages, locale)}


def home_view(messages: list[Message], locale: str) -> dict:
    """The App Home tab: one message after another, within the tab's 100 blocks."""
    return {"type": "home", "blocks": _surface_blocks(messages, locale)}


def _surface_blocks(messages: list[Message], locale: str) -> list[dict]:
    blocks: list[dict] = []
    for n, message in enumerate(messages):
        room = SURFACE_BLOCKS - len(blocks) - (1 if blocks else 0)
        if room <= 1:
            break
        if blocks:
            blocks.append({"type": "divider", "block_id": f"m{n}-divider"})
        blocks += message_blocks(message, locale, prefix=f"m{n}-", limit=room)
    return blocks


def outbox_metadata(key: str) -> dict:
    return {"event_type": OUTBOX_EVENT, "event_payload": {"key": key}}


def outbox_key(message: dict) -> str | None:
    """The outbox key a message from history carries, if the bot posted it."""
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != OUTBOX_EVENT:
        return None
    return (metadata.get("event_payload") or {}).get("key")


def channel_name(name: str, attempt: int = 0) -> str:
    """A valid Slack channel name from a circle's name: lowercase letters, digits, ``-`` and ``_``, 80 at most.

    ``attempt`` > 0 adds a suffix, for when the name is taken by a channel that is not the circle's.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()  # Équipe: equipe
    base = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9_-]", "-", ascii_name)).strip("-") or "circle"
    suffix = f"-{attempt + 1}" if attempt else ""
    return base[: 80 - len(suffix)] + suffix

"""The core's messages and forms as Discord JSON, within Discord's limits.

A message becomes one or more message payloads: its text as ``content``
(2,000 characters at most; longer text continues in further messages, the
buttons on the last), a progress bar beside a week's post, buttons in action
rows carrying the core's encoded actions as ``custom_id``, and the progress card
as an attached picture shown in an embed. A form becomes modal pages of at
most five inputs, each label within 45 characters (a longer question is
shortened there and shown whole as the placeholder).
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.common import message_text, progress_bar, split_text, week_of
from adapters.pictures import render_progress_png
from bot.actions import encode_action
from bot.effects import FormField, Message, OpenForm
from bot.i18n import render

CONTENT = 2000  # characters of a message's content
BUTTONS_PER_ROW, ROWS = 5, 5
BUTTON_LABEL = 80
MODAL_INPUTS = 5
LABEL = 45
PLACEHOLDER = 100
MODAL_TITLE = 45
VALUE = 4000  # characters of a text input's value
EPHEMERAL = 64
PICTURE = "progress.png"
#: Buttons and links only; no @everyone or role pings from anything a member wrote.
NO_PINGS = {"parse": []}
#: Styles of Discord's buttons; each row of ours gets the primary style for its first button.
PRIMARY, SECONDARY = 1, 2
SHORT, PARAGRAPH = 1, 2


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Post:
    """One message to send: its JSON payload and, if any, the file it attaches."""

    payload: dict
    attachment: Attachment | None = None


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def components(message: Message, locale: str) -> list[dict]:
    """The message's buttons in action rows (5 a row, 5 rows)."""
    buttons = [
        {"type": 2, "style": PRIMARY if i == 0 else SECONDARY, "label": _shorten(render(b.label, locale), BUTTON_LABEL),
         "custom_id": encode_action(b.action)}
        for i, b in enumerate(message.buttons[: BUTTONS_PER_ROW * ROWS])
    ]
    return [{"type": 1, "components": buttons[i: i + BUTTONS_PER_ROW]} for i in range(0, len(buttons), BUTTONS_PER_ROW)]


def posts(message: Message, locale: str, *, ephemeral: bool = False) -> list[Post]:
    """The payloads that show ``message``: its text in as many messages as it takes, buttons and picture on the last."""
    lines = message_text(message, locale)
    week = week_of(message)
    if week:
        lines += "\n" + progress_bar(*week)
    if message.title:
        title = render(message.title, locale)
        lines = f"**{title}**" + lines[len(title):]
    pieces = split_text(lines, CONTENT)
    result = [_payload(piece, ephemeral) for piece in pieces]
    last = result[-1]
    rows = components(message, locale)
    if rows:
        last["components"] = rows
    picture = None
    if message.card is not None:
        picture = Attachment(PICTURE, render_progress_png(message.card, locale), "image/png")
        last["embeds"] = [{"title": _shorten(render(message.card.title, locale), 256),
                           "image": {"url": f"attachment://{PICTURE}"}}]
    return [Post(p) for p in result[:-1]] + [Post(last, picture)]


def _payload(content: str, ephemeral: bool) -> dict:
    payload: dict = {"content": content, "allowed_mentions": NO_PINGS}
    if ephemeral:
        payload["flags"] = EPHEMERAL
    return payload


def _text_input(index: int, field: FormField, locale: str) -> dict:
    question = render(field.label, locale)
    text_input = {
        "type": 4,
        "custom_id": f"a{index}",
        "style": PARAGRAPH if field.multiline else SHORT,
        "label": _shorten(question, LABEL),
        "required": field.required,
        "max_length": VALUE,
    }
    if len(question) > LABEL:
        text_input["placeholder"] = _shorten(question, PLACEHOLDER)
    return {"type": 1, "components": [text_input]}


def modal_pages(form: OpenForm) -> int:
    return max(1, -(-len(form.fields) // MODAL_INPUTS))


def modal(form: OpenForm, locale: str, custom_id: str, page: int = 0) -> dict:
    """Page ``page`` of the form as a modal: at most five inputs, numbered by their place in the whole form."""
    fields = form.fields[page * MODAL_INPUTS: (page + 1) * MODAL_INPUTS]
    title = render(form.title, locale)
    pages = modal_pages(form)
    if pages > 1:
        suffix = f" ({page + 1}/{pages})"
        title = _shorten(title, MODAL_TITLE - len(suffix)) + suffix
    return {
        "custom_id": custom_id,
        "title": _shorten(title, MODAL_TITLE),
        "components": [_text_input(page * MODAL_INPUTS + i, f, locale) for i, f in enumerate(fields)],
    }


def next_page(custom_id: str, page: int, pages: int) -> dict:
    """An ephemeral answer to one page of a longer form: a button that opens page ``page`` (from 0)."""
    button = {"type": 2, "style": PRIMARY, "label": f"{page + 1}/{pages} \u2192", "custom_id": custom_id}
    return {"content": "\u2026", "flags": EPHEMERAL, "components": [{"type": 1, "components": [button]}]}


def form_button(form: OpenForm, locale: str, custom_id: str) -> dict:
    """An ephemeral message with a button that opens ``form`` (when it could not open as the first answer)."""
    title = render(form.title, locale)
    text = render(form.intro, locale) if form.intro else title
    button = {"type": 2, "style": PRIMARY, "label": _shorten(title, BUTTON_LABEL), "custom_id": custom_id}
    return {"content": _shorten(text, CONTENT), "flags": EPHEMERAL, "components": [{"type": 1, "components": [button]}]}

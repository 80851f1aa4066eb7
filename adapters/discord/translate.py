"""Discord interaction payloads in, the core's inputs out.

A ``/circle`` invocation becomes the grammar line the core parses (the same
line a console user types), a button press the action its ``custom_id``
carries, a modal submission that action with the answers in field order.
Everything here reads the raw payload (``INTERACTION_CREATE``'s ``d``), so it
is tested on payload shapes without a client.
"""

from __future__ import annotations

import shlex

from adapters.discord.commands import MESSAGE_COMMAND, NAME, Kind, Shape, options_of
from bot.actions import Verb, decode_action
from bot.errors import CircleError
from bot.inputs import Input, Pressed, ReportedMessage, Submitted, Typed
from bot.people import LANGUAGES

PLATFORM = "discord"

# Interaction types (Discord's numbers).
COMMAND, COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5


def leaf(data: dict) -> tuple[str, list[dict]]:
    """The subcommand invoked (through its group, if any) and its options."""
    options = data.get("options") or []
    while options and options[0].get("type") in (Kind.SUBCOMMAND, Kind.GROUP):
        node = options[0]
        if node["type"] == Kind.SUBCOMMAND:
            return node["name"], node.get("options") or []
        options = node.get("options") or []
    raise ValueError(f"/{data.get('name')} without a subcommand")


def grammar_line(data: dict) -> str:
    """``/circle new name:"Tuesday crew" ...`` -> ``new 'Tuesday crew' career Europe/London tue 17:00``."""
    if data.get("name") != NAME:
        raise ValueError(f"not /{NAME}: {data.get('name')}")
    name, given = leaf(data)
    values = {o["name"]: o.get("value") for o in given}
    circle, words = "", [name]
    for option in options_of(name):
        value = values.get(option.name)
        if value is None or value == "" or value is False:
            continue
        match option.shape:
            case Shape.CIRCLE:
                circle = "#" + str(value).strip().lstrip("#")
            case Shape.PROSE:
                words.append(str(value))
            case Shape.MENTION:
                words.append(f"<@{value}>")
            case Shape.FLAG:
                words.append(option.name)
            case Shape.WEEKS:
                words.append(f"for {int(value)}w")
            case Shape.NAMED:
                words += [option.name, shlex.quote(str(value))]
            case Shape.WORD:
                words.append(shlex.quote(str(value)) if option.kind == Kind.STRING else str(value))
    if circle:
        words.insert(1, circle)
    return " ".join(words)


def command_input(data: dict, guild: str | None) -> Typed | ReportedMessage:
    """An application command: ``/circle ...`` as its grammar line, or the message its context menu reports."""
    if data.get("type") != MESSAGE_COMMAND:
        return Typed(grammar_line(data))
    target = str(data["target_id"])
    message = data["resolved"]["messages"][target]
    link = f"https://discord.com/channels/{guild or '@me'}/{message['channel_id']}/{target}"
    return ReportedMessage(str(message["author"]["id"]), message.get("content") or "", link)


def focused(data: dict) -> tuple[str, str, str]:
    """An autocomplete request: (subcommand, the option being typed, what is typed so far)."""
    name, given = leaf(data)
    option = next(o for o in given if o.get("focused"))
    return name, option["name"], str(option.get("value") or "")


def answers(data: dict) -> tuple[str, ...]:
    """A modal submission's values, in the order of its inputs (``a0``, ``a1``, ...)."""
    values: dict[str, str] = {}
    for row in data.get("components") or []:
        inner = row.get("components") or ([row["component"]] if "component" in row else [])
        for component in inner:
            values[component["custom_id"]] = component.get("value") or ""
    return tuple(values[key] for key in sorted(values, key=_field_index))


def _field_index(custom_id: str) -> int:
    return int(custom_id.lstrip("a")) if custom_id.lstrip("a").isdecimal() else 0


def may_open_form(given: Input) -> bool:
    """Whether the core may answer with a form, which Discord shows only as an interaction's first answer.

    ``checkin`` with no answers, typed or pressed, opens the check-in form; nothing else does.
    """
    if isinstance(given, Typed):
        name, *rest = given.text.split()
        return name == "checkin" and all(word.startswith("#") for word in rest)
    if isinstance(given, Pressed):
        try:
            return decode_action(given.action).verb == Verb.CHECKIN
        except CircleError:
            return False
    return False


def language(locale: str | None) -> str | None:
    """Discord's locale (``es-ES``, ``en-GB``, ``de``) as one of the bot's languages; None when it speaks none."""
    base = (locale or "").split("-")[0].lower()
    return base if base in LANGUAGES else None

"""The one app command, ``/circle``, with a subcommand for every row of the core's grammar.

Each subcommand's typed options say how their values become the grammar line
the core parses (:func:`adapters.discord.translate.grammar_line`), so there is
one grammar whatever the platform. Subcommands for everyone sit at the top;
when there are more than Discord allows in one level (25), the moderators'
go into the ``mod`` group, the workspace admins' into ``admin`` and a person's
own settings and data (``me``, ``export``, ``forget-me``) into ``data``. Reporting a message is a
second application command, a message context menu (:data:`REPORT_MESSAGE`). The definition is plain JSON as Discord's API takes
it (``PUT .../commands``), hashed so start-up syncs only when it changed. Every
description and choice comes from the message catalog, in English with its
translations as Discord's ``*_localizations``, so the client shows the command in
each person's own language.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import IntEnum

from bot.directory import BANDS
from bot.grammar import PREFIX, SUBCOMMANDS, Subcommand
from bot.i18n import Param, Weekday, _, render
from bot.people import LANGUAGES
from bot.place import LINK_LIMIT

NAME = PREFIX.lstrip("/")
MODERATOR_GROUP = "mod"
ADMIN_GROUP = "admin"
DATA_GROUP = "data"
PER_LEVEL = 25  # Discord: options (subcommands or groups) in one level
DESCRIPTION = 100  # Discord: characters of a description
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Discord's locales for each language the bot speaks besides English, the definition's own.
DISCORD_LOCALES = {"es": ("es-ES", "es-419"), "de": ("de",)}


def _clip(text: str) -> str:
    return text if len(text) <= DESCRIPTION else text[: DESCRIPTION - 1].rstrip() + "\u2026"


def localized(field: str, text: Param) -> dict:
    """``text`` as Discord's ``field`` (``description``, ``name``) in English, with ``field_localizations``."""
    english = _clip(render(text, "en"))
    translations = {}
    for language, locales in DISCORD_LOCALES.items():
        translated = _clip(render(text, language))
        if translated != english:
            translations.update(dict.fromkeys(locales, translated))
    return {field: english, f"{field}_localizations": translations}


class Kind(IntEnum):
    """Discord's application command option types."""

    SUBCOMMAND = 1
    GROUP = 2
    STRING = 3
    INTEGER = 4
    BOOLEAN = 5
    USER = 6
    CHANNEL = 7


class Shape(IntEnum):
    """How an option's value appears in the grammar line."""

    WORD = 1  # one argument, quoted if it has spaces
    PROSE = 2  # free text, as typed (check-in answers, a note)
    CIRCLE = 3  # ``#id`` before the other arguments
    MENTION = 4  # a user option: ``<@id>``, which the core matches to a member
    FLAG = 5  # a boolean that adds its own name (``forget-me confirm``)
    WEEKS = 6  # an integer number of weeks: ``for Nw``
    NAMED = 7  # the option's name, then its value (``me timezone Europe/London``)


@dataclass(frozen=True)
class Option:
    name: str
    description: Param
    kind: Kind = Kind.STRING
    shape: Shape = Shape.WORD
    required: bool = False
    autocomplete: bool = False
    choices: tuple[tuple[Param, str], ...] = ()  # (what the person reads, the value)
    low: int | None = None
    high: int | None = None
    max_length: int | None = None

    def payload(self) -> dict:
        option: dict = {"type": int(self.kind), "name": self.name, **localized("description", self.description),
                        "required": self.required}
        if self.autocomplete:
            option["autocomplete"] = True
        if self.choices:
            option["choices"] = [{**localized("name", label), "value": value} for label, value in self.choices]
        if self.low is not None:
            option["min_value"] = self.low
        if self.high is not None:
            option["max_value"] = self.high
        if self.max_length is not None:
            option["max_length"] = self.max_length
        return option


CIRCLE = Option("circle", _("which circle (default: this one, or your only one)"), shape=Shape.CIRCLE,
                autocomplete=True)
DAY_CHOICES = tuple((Weekday(n), day) for n, day in enumerate(WEEKDAYS))
DAY = Option("day", _("weekday of the meeting"), required=True, choices=DAY_CHOICES)
TIME = Option("time", _("local time of the meeting, HH:MM (e.g. 17:00 or 18:45)"), required=True, max_length=5)
ANSWERS = 4000  # Discord: characters of a string option or a modal value
LANGUAGE_CHOICES = tuple((name, code) for code, name in LANGUAGES.items())
BAND_CHOICES = (*((band.name, key) for key, band in BANDS.items()), (_("near my time zone"), "near"))
HANDLE = 40  # characters of a circle's handle

#: Options of each subcommand, in the order their values appear in the grammar line.
OPTIONS: dict[str, tuple[Option, ...]] = {
    "help": (),
    "list": (
        Option("kit", _("only circles on this kit"), shape=Shape.NAMED, autocomplete=True),
        Option("band", _("only circles in this part of the world, or near your time zone"), shape=Shape.NAMED,
               choices=BAND_CHOICES),
        Option("language", _("only circles in this language"), shape=Shape.NAMED, choices=LANGUAGE_CHOICES),
        Option("day", _("only circles meeting on this weekday, in your time zone"), shape=Shape.NAMED,
               choices=DAY_CHOICES),
        Option("after", _("the next page: the circle the last page ended with"), shape=Shape.NAMED,
               max_length=HANDLE),
    ),
    "stats": (),
    "export": (),
    "new": (
        Option("name", _("the circle's name"), required=True, max_length=80),
        Option("kit", _("the curriculum it follows"), required=True, autocomplete=True),
        Option("timezone", _("the meeting's time zone, e.g. Europe/London"), required=True, autocomplete=True),
        DAY,
        TIME,
        Option("places", _("how many people, moderator included (2-8; 4 or 5 works best)"), Kind.INTEGER,
               low=2, high=8),
    ),
    "join": (Option("circle", _("the circle's id, e.g. tuesday-crew"), required=True, autocomplete=True),),
    "info": (Option("circle", _("the circle's id (default: yours)"), autocomplete=True),),
    "checkin": (CIRCLE, Option("answers", _("answers separated by | (leave empty to open the form)"), shape=Shape.PROSE,
                               max_length=ANSWERS)),
    "commit": (CIRCLE, Option("text", _("what you will do before the next meeting"), shape=Shape.PROSE, required=True,
                              max_length=ANSWERS)),
    "struggling": (CIRCLE, Option("note", _("a note only your moderator sees"), shape=Shape.PROSE, max_length=ANSWERS)),
    "report": (CIRCLE, Option("member", _("whom you report (they are not told)"), Kind.USER, shape=Shape.MENTION,
                              required=True),
               Option("what", _("what happened"), shape=Shape.PROSE, max_length=ANSWERS)),
    "attended": (CIRCLE, Option("members", _("moderator: the members who were there (mention them)"),
                                shape=Shape.PROSE)),
    "rsvp": (CIRCLE, Option("answer", _("will you be at the next meeting?"), required=True,
                            choices=((_("yes"), "yes"), (_("no"), "no")))),
    "away": (CIRCLE, Option("until", _("YYYY-MM-DD (inclusive), or back"), required=True, max_length=10)),
    "share": (CIRCLE, Option("story", _("your story, or confirm|withdraw|approve|decline <number>"), shape=Shape.PROSE,
                             required=True, max_length=ANSWERS)),
    "support": (CIRCLE, Option("what", _("e.g. for @sam, yes, who all, reach message, end (empty: your terms)"),
                               shape=Shape.PROSE, max_length=ANSWERS)),
    "me": (Option("timezone", _("set your own time zone (times are shown in it)"), shape=Shape.NAMED,
                  autocomplete=True),
           Option("language", _("set your own language"), shape=Shape.NAMED, choices=LANGUAGE_CHOICES)),
    "calendar": (CIRCLE, Option("reset", _("a new private calendar address (the old one stops working)"),
                                Kind.BOOLEAN, shape=Shape.FLAG)),
    "forget-me": (Option("confirm", _("erase now (without it: see what would be erased)"), Kind.BOOLEAN,
                         shape=Shape.FLAG),),
    "pause": (CIRCLE, Option("weeks", _("pause for this many weeks (default: until resume)"), Kind.INTEGER,
                             shape=Shape.WEEKS, low=1, high=26)),
    "reschedule": (CIRCLE, DAY, TIME),
    "remove": (CIRCLE, Option("member", _("the member to remove"), Kind.USER, shape=Shape.MENTION, required=True)),
    "moderator": (CIRCLE, Option("member", _("the member who moderates from now on"), Kind.USER, shape=Shape.MENTION,
                                 required=True)),
    "again": (CIRCLE, Option("kit", _("the kit of the new run (default: the same)"), autocomplete=True)),
    "place": (CIRCLE, Option("where", _("a video-call link or a room; clear forgets it (empty: show it)"),
                             shape=Shape.PROSE, max_length=LINK_LIMIT)),
    "signup": (Option("hours", _("e.g. starter tue 17-20, thu 18-21 moderate yes (empty: yours; cancel: leave)"),
                      shape=Shape.PROSE, max_length=500),),
    "match": (Option("when", _("empty: now; every mon 09:00 [Area/City]; off"), shape=Shape.PROSE, max_length=100),),
    "faq": (CIRCLE, Option("words", _("your question in a few words (empty: the list)"), shape=Shape.PROSE,
                           max_length=500)),
    "guide": (CIRCLE, Option("section", _("a section's number or title (empty: the contents)"), shape=Shape.PROSE,
                             max_length=100)),
    "comod": (CIRCLE, Option("remove", _("remove them from the role instead"), Kind.BOOLEAN, shape=Shape.FLAG),
              Option("member", _("the member who shares the role"), Kind.USER, shape=Shape.MENTION, required=True)),
    "merge": (CIRCLE, Option("answer", _("answer a request (empty: you ask)"),
                             choices=((_("accept"), "accept"), (_("decline"), "decline"))),
              Option("other", _("the other circle (empty: those that fit)"), max_length=80)),
    "space": (CIRCLE, Option("channel", _("the channel whose private thread the circle meets in"), Kind.CHANNEL,
                             required=True)),
}


def options_of(name: str) -> tuple[Option, ...]:
    """A subcommand's options; one not listed acts on a circle and takes nothing else."""
    return OPTIONS.get(name, (CIRCLE,))


def _subcommand(sub: Subcommand) -> dict:
    # Required options must come first in Discord's list; the grammar order is kept in OPTIONS.
    options = sorted(options_of(sub.name), key=lambda o: not o.required)
    return {"type": int(Kind.SUBCOMMAND), "name": sub.name, **localized("description", sub.summary),
            "options": [o.payload() for o in options]}


#: Groups of subcommands, each with its description; every other subcommand sits at the top.
GROUPS = {
    MODERATOR_GROUP: _("for the circle's moderator (or someone with Manage Server)"),
    ADMIN_GROUP: _("for workspace admins (Manage Server): statistics and matching"),
    DATA_GROUP: _("your settings and your data"),
}
#: The workspace admins' subcommands (the moderators' are those the grammar marks so).
ADMIN_ONLY = frozenset({"stats", "match"})
#: A person's own settings and data, rarely used: grouped to keep the top level within Discord's 25.
DATA = frozenset({"me", "export", "forget-me"})
#: The message context menu that reports a message (Discord's command type 3; names may have spaces).
REPORT_MESSAGE = _("Report to moderators")
MESSAGE_COMMAND = 3


def _group_of(sub: Subcommand) -> str | None:
    if sub.moderator_only:
        return MODERATOR_GROUP
    if sub.name in DATA:
        return DATA_GROUP
    return ADMIN_GROUP if sub.name in ADMIN_ONLY else None


def grouped() -> tuple[list[Subcommand], dict[str, list[Subcommand]]]:
    """(top-level subcommands, the groups' subcommands by group): one level when everything fits in it."""
    subs = list(SUBCOMMANDS.values())
    if len(subs) <= PER_LEVEL:
        return subs, {}
    groups: dict[str, list[Subcommand]] = {}
    for sub in subs:
        if (group := _group_of(sub)) is not None:
            groups.setdefault(group, []).append(sub)
    return [s for s in subs if _group_of(s) is None], groups


def group_of(name: str) -> str | None:
    return next((group for group, subs in grouped()[1].items() if any(s.name == name for s in subs)), None)


def definition() -> list[dict]:
    """The bot's application commands, as ``PUT /applications/{id}/commands`` takes them."""
    top, groups = grouped()
    options = [_subcommand(s) for s in top]
    options += [{"type": int(Kind.GROUP), "name": group, **localized("description", GROUPS[group]),
                 "options": [_subcommand(s) for s in subs]} for group, subs in groups.items()]
    assert len(options) <= PER_LEVEL and all(len(o.get("options", ())) <= PER_LEVEL for o in options)
    about = _("Peer-support circles: weekly check-ins, meetings, follow-up")
    return [{"type": 1, "name": NAME, **localized("description", about),
             "options": options, "contexts": [0], "integration_types": [0]},
            {"type": MESSAGE_COMMAND, **localized("name", REPORT_MESSAGE), "contexts": [0], "integration_types": [0]}]


def definition_hash() -> str:
    """Changes exactly when the definition does; start-up syncs only then."""
    return hashlib.sha256(json.dumps(definition(), sort_keys=True).encode()).hexdigest()[:16]

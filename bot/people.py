"""A person's own settings: the time zone and language they read the bot in.

Platforms tell some of it (Slack a zone and a locale, Discord a locale); a person
can set either with ``/circle me``, and what they set wins.
"""

from __future__ import annotations

from bot.circle import Actor, Circle
from bot.decision import Out
from bot.effects import Message, ToldOfClosedDms
from bot.errors import CircleError
from bot.i18n import _, hint, join

#: The languages the bot can be read in.
LANGUAGES = {"en": _("English"), "es": _("Spanish"), "de": _("German")}


def parse_language(code: str) -> str:
    """A language code such as ``es`` or ``es-ES`` as one of :data:`LANGUAGES`.

    Raises:
        CircleError: not a language the bot speaks.
    """
    base = code.strip().replace("_", "-").split("-")[0].lower()
    if base not in LANGUAGES:
        raise CircleError(_("I can speak {languages}; try e.g. {example}.", languages=join(list(LANGUAGES)),
                            example=hint("me", "language", "es")))
    return base


def spoken(code: str | None) -> str | None:
    """A platform's language code (``es-ES``, ``de_DE``) as one of :data:`LANGUAGES`; ``None`` for one the bot does not speak."""
    base = (code or "").strip().replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None


def person_message(actor: Actor, *, changed: bool) -> Message:
    """What the person has set, and how to change it."""
    zone = actor.tz or _("not set (times are shown in each circle's zone)")
    language = LANGUAGES.get(actor.locale or "", LANGUAGES["en"])
    lines = (
        _("Time zone: {zone}", zone=zone),
        _("Language: {language}", language=language),
        _("Change them with {zone} or {language}.", zone=hint("me", "timezone", "<Area/City>"),
          language=hint("me", "language", "en|es|de")),
    )
    return Message(lines, title=_("Saved. You read times and messages like this now:") if changed else _("Your settings"))


def zone_question() -> Message:
    """Asked once of someone whose platform tells no time zone."""
    return Message(
        (
            _("Which time zone are you in? Tell me once with {command} and every time I show you is in it.",
              command=hint("me", "timezone", "<Area/City>")),
        ),
        title=_("One question"),
    )


def tell_of_closed_dms(circle: Circle, actor: Actor, out: Out) -> None:
    """Say in the circle's space that ``actor``'s DMs are refused (if they are, and they are in it), once.

    The platform refused a direct message to them and the delivery was parked, never
    retried; they hear of it here, where they just acted, and can open their DMs.
    """
    if not actor.dms_refused or circle.member(actor.user) is None:
        return
    out.post(
        Message(
            (
                _("{name}, my direct messages to you are refused, so you may have missed reminders or notes.",
                  name=actor.name),
                _("To get them, allow direct messages from this server's members in its privacy settings; "
                  "{command} shows where your circle stands.", command=hint("info")),
            ),
            title=_("I cannot reach you by direct message"),
        ),
        suffix="dms-refused",
    )
    out.effects.append(ToldOfClosedDms(actor.user))

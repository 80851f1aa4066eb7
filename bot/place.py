"""Where a circle meets: a video-call link or a room, as its moderator gives it.

A link is checked before it is kept (http or https, a host, no spaces, quotes or
angle brackets, at most :data:`LINK_LIMIT` characters), so no post, calendar or
App Home ever carries a ``javascript:`` link or a broken one. Anything else is a
room's name, e.g. ``Room 4.12, second floor``.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from bot.errors import CircleError
from bot.i18n import _

LINK_LIMIT = 500
ROOM_LIMIT = 100
#: ``place clear`` (or one of these words) forgets the place.
CLEAR_WORDS = frozenset({"clear", "none", "off", "remove"})
#: A place that opens with a scheme and ``//`` (``https://``), or is one word with a scheme
#: (``javascript:...``), is meant as a link.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:(//|\S+$)")
_NOT_IN_LINK = re.compile(r"[\s<>\"'\\`{}|^]")


def is_link(place: str) -> bool:
    """Whether a kept place is a link (rather than a room's name)."""
    return place.lower().startswith(("http://", "https://"))


def parse_place(text: str) -> str:
    """A place as typed, checked: a link kept as given, or a room's name.

    Raises:
        CircleError: a link that is not http or https, has no host, or is too long or malformed;
            a room name that is too long or holds characters that are not text.
    """
    text = text.strip()
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in text):
        raise CircleError(_("A place is one line of plain text: a link or a room's name."))
    if _SCHEME.match(text):
        return _link(text)
    if len(text) > ROOM_LIMIT:
        raise CircleError(
            _("A room's name has at most {limit} characters; this one has {length}.", limit=ROOM_LIMIT, length=len(text))
        )
    if "<" in text or ">" in text:
        raise CircleError(_("A room's name cannot hold < or >."))
    return text


def _link(text: str) -> str:
    if len(text) > LINK_LIMIT:
        raise CircleError(
            _("A link has at most {limit} characters; this one has {length}.", limit=LINK_LIMIT, length=len(text))
        )
    if not text.lower().startswith(("http:", "https:")):
        raise CircleError(
            _("Only http and https links can be a meeting place, e.g. {example}; a room is named in words, e.g. {room}.",
              example="https://meet.example.com/crew", room="Room 4.12")
        )
    if not _host(text) or _NOT_IN_LINK.search(text):
        raise CircleError(
            _("That link is not one I can use; copy it again from your video-call app, e.g. {example}.",
              example="https://meet.example.com/crew")
        )
    return text


def _host(link: str) -> str | None:
    """The link's host; ``None`` when it has none, or a malformed host or port."""
    try:
        parts = urlsplit(link)
        return parts.hostname if parts.port is None or parts.port > 0 else None
    except ValueError:
        return None

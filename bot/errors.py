"""Domain errors: each carries a human sentence for the person who caused it."""

from __future__ import annotations

from bot.i18n import Text


class CircleError(Exception):
    """A command that cannot be carried out; nothing was changed.

    Attributes:
        text: what to tell the person, from the message catalog.
    """

    def __init__(self, text: Text):
        super().__init__(text.msgid)
        self.text = text


class UsageError(CircleError):
    """The command itself is malformed; ``text`` includes the usage line."""

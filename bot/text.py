"""Clean what people type before anything else reads it.

Text reaches the core from chat platforms, JSON payloads and terminals, and
any of them can carry characters that are not text: a lone surrogate
(``"\\ud800"`` in JSON) cannot be encoded as UTF-8, so storing it fails; a NUL
byte is refused by PostgreSQL; other control characters garble what the
circle reads. :func:`clean` is the one place that turns such input into
ordinary text. The grammar applies it to every typed command; adapters apply it
to form answers and button payloads the same way.
"""

from __future__ import annotations

import re

from bot.errors import UsageError
from bot.i18n import _

#: The longest input accepted, in characters (Slack's slash commands and form fields stay well below it).
MAX_INPUT = 4000
_SURROGATE = re.compile("[\ud800-\udfff]")
_LINE_BREAK = re.compile("\r\n|[\r\x85\u2028\u2029]")
#: C0 and C1 control characters and DEL, except tab and newline.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str, limit: int = MAX_INPUT) -> str:
    """``text`` as ordinary storable text.

    Every kind of line break becomes ``\\n``; lone surrogates
    become U+FFFD; NUL and every other control character except newline and tab
    are dropped. Everything else, emoji and right-to-left marks included, is kept.

    Args:
        text: what a person typed or a platform sent on their behalf.
        limit: the most characters accepted, counted after cleaning.

    Returns:
        The cleaned text.

    Raises:
        UsageError: the text is longer than ``limit``; nothing is done with it.
    """
    if _SURROGATE.search(text):
        # A valid pair (two code points, as some decoders leave it) becomes its character; a lone one U+FFFD.
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    text = _CONTROL.sub("", _LINE_BREAK.sub("\n", text))
    if len(text) > limit:
        raise UsageError(
            _("That is too long: at most {limit} characters, please (it has {length}).", limit=limit, length=len(text))
        )
    return text

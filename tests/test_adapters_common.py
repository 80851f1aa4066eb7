"""What the chat adapters share: messages as text, the progress bar, splitting long text."""

from __future__ import annotations

from adapters.common import message_text, progress_bar, split_text, week_of
from bot.effects import Message
from bot.i18n import _


def test_a_message_reads_as_its_title_then_its_lines():
    message = Message((_("Hello {name}", name="bob"), "plain"), title=_("Week {week} of {total}: {title}", week=3,
                                                                              total=8, title="Goals"))
    assert message_text(message, "en") == "Week 3 of 8: Goals\nHello bob\nplain"
    assert week_of(message) == (3, 8)
    assert week_of(Message(("x",), title=_("Graduation"))) is None
    assert week_of(Message(("x",))) is None


def test_progress_bar_fills_in_proportion_and_never_overflows():
    assert progress_bar(3, 6) == "\u25b0\u25b0\u25b0\u25b1\u25b1\u25b1 3/6"
    assert progress_bar(1, 24) == "\u25b0" + "\u25b1" * 11 + " 1/24"
    assert progress_bar(24, 24) == "\u25b0" * 12 + " 24/24"


def test_split_text_keeps_every_character_and_each_piece_within_the_limit():
    text = "\n".join(["short line", "x" * 25, "word " * 12, "", "end"])
    pieces = split_text(text, 20)
    assert all(len(piece) <= 20 for piece in pieces)
    assert "".join(pieces).replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(" ", "")
    assert split_text("fits", 20) == ["fits"]
    assert split_text("", 20) == [""]

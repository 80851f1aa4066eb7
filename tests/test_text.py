"""bot.text.clean: the one function every typed line passes through before the grammar reads it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import UsageError
from bot.i18n import render
from bot.text import MAX_INPUT, clean


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("Tuesday crew", "Tuesday crew"),
        ("caf\u00e9 \U0001f331 \u05e9\u05dc\u05d5\u05dd\u200f", "caf\u00e9 \U0001f331 \u05e9\u05dc\u05d5\u05dd\u200f"),
        ("cr\udfffew", "cr\ufffdew"),
        ("\ud800", "\ufffd"),
        ("\ud83c\udf31", "\U0001f331"),  # a valid pair left as two code points by a lenient decoder
        ("a\x00b", "ab"),
        ("bell\x07 and escape\x1b[31m", "bell and escape[31m"),
        ("one\r\ntwo\rthree\u2028four", "one\ntwo\nthree\nfour"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),
        ("\x85\x9f\x7f", "\n"),
    ],
)
def test_clean_keeps_text_and_drops_what_is_not(typed, kept):
    assert clean(typed) == kept


def test_oversized_input_is_refused_with_its_length():
    assert clean("x" * MAX_INPUT) == "x" * MAX_INPUT
    with pytest.raises(UsageError) as caught:
        clean("x" * (MAX_INPUT + 1))
    assert render(caught.value.text) == f"That is too long: at most {MAX_INPUT} characters, please (it has {MAX_INPUT + 1})."


@given(st.text(alphabet=st.characters(exclude_categories=()), max_size=200))
def test_cleaned_text_is_utf8_without_control_characters_and_cleaning_twice_changes_nothing(typed):
    cleaned = clean(typed)
    cleaned.encode("utf-8")  # no lone surrogate survives
    assert not [ch for ch in cleaned if (ord(ch) < 32 and ch not in "\n\t") or 0x7F <= ord(ch) <= 0x9F]
    assert clean(cleaned) == cleaned

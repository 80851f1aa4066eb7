"""Forms longer than one modal: pages of five, answers kept until the last page."""

from __future__ import annotations

from adapters.discord.forms import PagedForms, page_of
from bot.actions import Action, Verb, encode_action
from bot.circle import UserRef
from bot.effects import FormField, OpenForm

ACTION = encode_action(Action(Verb.SUBMIT_CHECKIN, "c1", 2))


def form(questions: int) -> OpenForm:
    fields = tuple(FormField(f"q{n}", f"Question {n}") for n in range(questions))
    return OpenForm(UserRef("discord", "1", "7"), "c1", "Check-in", fields, Action(Verb.SUBMIT_CHECKIN, "c1", 2))


def test_a_form_of_one_page_carries_its_action_alone():
    forms = PagedForms()
    assert forms.open("7", form(5), ACTION) == ACTION and page_of(ACTION) is None


def test_a_longer_form_collects_every_page_before_it_is_submitted():
    forms = PagedForms()
    first = forms.open("7", form(7), ACTION)
    assert page_of(first).number == 0 and forms.pages("7", page_of(first)) == 2
    second = forms.submit("7", page_of(first), tuple(f"a{n}" for n in range(5)))
    assert page_of(second).number == 1 and forms.form("7", page_of(second)) is not None
    assert forms.submit("7", page_of(second), ("a5", "a6")) == tuple(f"a{n}" for n in range(7))
    assert forms.submit("7", page_of(second), ("again",)) is None  # done: nothing held any more
    assert forms.form("8", page_of(first)) is None  # and never anyone else's

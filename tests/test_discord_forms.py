"""Forms longer than one modal: pages of five, answers kept in the database until the last page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dbfixtures import database_url, engine, pg_schema  # noqa: F401  (fixtures)

from adapters.discord.forms import PagedForms, page_of
from bot.actions import Action, Verb, encode_action
from bot.circle import UserRef
from bot.effects import FormField, OpenForm
from bot.i18n import _
from storage.repository import Store

ACTION = encode_action(Action(Verb.SUBMIT_CHECKIN, "c1", 2))
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
BOB, CAROL = "discord:1:7", "discord:1:8"


def form(questions: int) -> OpenForm:
    fields = tuple(FormField(f"q{n}", f"Question {n}") for n in range(questions))
    return OpenForm(UserRef("discord", "1", "7"), "c1", _("Check in"), fields, Action(Verb.SUBMIT_CHECKIN, "c1", 2))


def test_a_form_of_one_page_carries_its_action_alone(engine):
    forms = PagedForms(Store(engine), lambda: NOW)
    assert forms.open(BOB, form(5), ACTION) == ACTION and page_of(ACTION) is None
    assert forms.form(BOB, page_of(f"{ACTION}~0")) is None  # nothing held for a form of one page


def test_a_longer_form_collects_every_page_before_it_is_submitted(engine):
    forms = PagedForms(Store(engine), lambda: NOW)
    first = forms.open(BOB, form(7), ACTION)
    assert page_of(first).number == 0 and forms.pages(BOB, page_of(first)) == 2
    second = forms.submit(BOB, page_of(first), tuple(f"a{n}" for n in range(5)))
    assert page_of(second).number == 1 and forms.form(BOB, page_of(second)) == form(7)
    assert forms.submit(BOB, page_of(second), ("a5", "a6")) == tuple(f"a{n}" for n in range(7))
    assert forms.submit(BOB, page_of(second), ("again",)) is None  # done: nothing held any more
    assert forms.form(CAROL, page_of(first)) is None  # and never anyone else's


def test_a_form_survives_a_restart_between_its_pages_and_a_page_sent_twice_counts_once(engine):
    store = Store(engine)
    first = PagedForms(store, lambda: NOW).open(BOB, form(12), ACTION)
    before = PagedForms(store, lambda: NOW)
    second = before.submit(BOB, page_of(first), tuple(f"a{n}" for n in range(5)))
    assert before.submit(BOB, page_of(first), tuple(f"b{n}" for n in range(5))) == second  # page 1 again: replaced
    after = PagedForms(Store(engine), lambda: NOW + timedelta(minutes=5))  # a new process: nothing in memory
    assert after.form(BOB, page_of(second)) == form(12)
    third = after.submit(BOB, page_of(second), tuple(f"a{n}" for n in range(5, 10)))
    answers = after.submit(BOB, page_of(third), ("a10", "a11"))
    assert answers == (*(f"b{n}" for n in range(5)), *(f"a{n}" for n in range(5, 12)))


def test_a_page_whose_earlier_page_never_came_is_not_taken_for_the_form(engine):
    forms = PagedForms(Store(engine), lambda: NOW)
    first = forms.open(BOB, form(12), ACTION)
    assert forms.submit(BOB, page_of(f"{page_of(first).action}~2"), ("x",)) is None
    assert forms.form(BOB, page_of(first)) == form(12)  # still held, from the start


def test_abandoned_forms_are_dropped_after_a_day_and_by_forget_me(engine):
    store = Store(engine)
    forms = PagedForms(store, lambda: NOW)
    forms.open(BOB, form(7), ACTION)
    forms.open(CAROL, form(7), ACTION)
    with store.transaction() as tx:
        tx.forget_person(UserRef("discord", "1", "8"))
    assert forms.form(CAROL, page_of(f"{ACTION}~0")) is None and forms.form(BOB, page_of(f"{ACTION}~0"))
    assert store.forget_old(NOW, NOW - timedelta(hours=1)) == (0, 0)
    assert store.forget_old(NOW, NOW + timedelta(days=1)) == (0, 1)
    assert forms.form(BOB, page_of(f"{ACTION}~0")) is None

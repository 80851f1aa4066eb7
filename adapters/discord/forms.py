"""Forms longer than one modal (five inputs): pages, with the answers so far kept in the database until the last page.

A single-page form's modal carries the form's encoded action as its
``custom_id``, so its submission is routed after any restart. A longer form's
pages carry ``<action>~<page>``; Discord cannot answer a modal with another
modal, so each page but the last is answered with a button that opens the next.
The form and the answers so far are held in ``form_drafts`` (see
:class:`storage.models.FormDraftRow`), so the next page opens, and the last one
submits every answer, after a restart or on another replica.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from adapters.discord.render import MODAL_INPUTS, modal_pages
from bot.effects import OpenForm
from storage.codec import dump_answers, dump_form, load_answers, load_form
from storage.repository import Store

PAGE = "~"


@dataclass(frozen=True)
class Page:
    action: str  # the form's encoded action
    number: int


def page_of(custom_id: str) -> Page | None:
    """The page a ``custom_id`` names, or None for a whole form's (or a button's) action."""
    action, mark, number = custom_id.rpartition(PAGE)
    return Page(action, int(number)) if mark and number.isdecimal() else None


class PagedForms:
    """The forms people are filling in page by page, by their user key and the form's action.

    Every method reads or writes the database: call them from a worker thread.

    Args:
        store: where the drafts are kept.
        now: the clock (a draft's age decides when an abandoned one is dropped).
    """

    def __init__(self, store: Store, now: Callable[[], datetime]):
        self.store = store
        self.now = now

    def open(self, user: str, form: OpenForm, action: str) -> str:
        """The first modal's ``custom_id``; a form of several pages is held for ``user``."""
        return action if modal_pages(form) == 1 else self.hold(user, form, action)

    def hold(self, user: str, form: OpenForm, action: str) -> str:
        """Hold ``form`` for a button that opens its first page (``<action>~0``); answers so far start empty."""
        self.store.hold_form(user, action, dump_form(form), dump_answers(()), self.now())
        return f"{action}{PAGE}0"

    def form(self, user: str, page: Page) -> OpenForm | None:
        held = self.store.held_form(user, page.action)
        return load_form(held[0]) if held else None

    def pages(self, user: str, page: Page) -> int:
        form = self.form(user, page)
        return modal_pages(form) if form else 1

    def submit(self, user: str, page: Page, answers: tuple[str, ...]) -> tuple[str, ...] | str | None:
        """Every answer once the last page is in; else the next page's ``custom_id``.

        None: no such form is held (dropped as stale, or by ``forget-me``), or an earlier page never came.
        A page sent twice (a double click, a retried request) replaces its own answers rather than adding them again.
        """
        held = self.store.held_form(user, page.action)
        if held is None:
            return None
        form, so_far = load_form(held[0]), load_answers(held[1])
        if len(so_far) < page.number * MODAL_INPUTS:
            return None
        so_far = (so_far[: page.number * MODAL_INPUTS] + answers)[: len(form.fields)]
        if page.number + 1 >= modal_pages(form):
            self.store.drop_form(user, page.action)
            return so_far
        self.store.hold_form(user, page.action, held[0], dump_answers(so_far), self.now())
        return f"{page.action}{PAGE}{page.number + 1}"

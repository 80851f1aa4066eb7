"""Forms longer than one modal (five inputs): pages, with the answers so far kept until the last page.

A single-page form's modal carries the form's encoded action as its
``custom_id``, so its submission is routed after any restart. A longer form's
pages carry ``<action>~<page>``; Discord cannot answer a modal with another
modal, so each page but the last is answered with a button that opens the next.
The answers so far are held in this process until the last page comes back.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.discord.render import modal_pages
from bot.effects import OpenForm

PAGE = "~"


@dataclass(frozen=True)
class Page:
    action: str  # the form's encoded action
    number: int


def page_of(custom_id: str) -> Page | None:
    """The page a ``custom_id`` names, or None for a whole form's (or a button's) action."""
    action, mark, number = custom_id.rpartition(PAGE)
    return Page(action, int(number)) if mark and number.isdigit() else None


class PagedForms:
    def __init__(self) -> None:
        self._open: dict[tuple[str, str], tuple[OpenForm, tuple[str, ...]]] = {}

    def open(self, user: str, form: OpenForm, action: str) -> str:
        """The first modal's ``custom_id``; a form of several pages is remembered for ``user``."""
        return action if modal_pages(form) == 1 else self.hold(user, form, action)

    def hold(self, user: str, form: OpenForm, action: str) -> str:
        """Remember ``form`` for a button that opens its first page (``<action>~0``)."""
        self._open[(user, action)] = (form, ())
        return f"{action}{PAGE}0"

    def form(self, user: str, page: Page) -> OpenForm | None:
        held = self._open.get((user, page.action))
        return held[0] if held else None

    def pages(self, user: str, page: Page) -> int:
        form = self.form(user, page)
        return modal_pages(form) if form else 1

    def submit(self, user: str, page: Page, answers: tuple[str, ...]) -> tuple[str, ...] | str | None:
        """Every answer once the last page is in; else the next page's ``custom_id`` (None: not open here)."""
        held = self._open.get((user, page.action))
        if held is None:
            return None
        form, so_far = held
        so_far = (so_far + answers)[: len(form.fields)]
        if page.number + 1 >= modal_pages(form):
            del self._open[(user, page.action)]
            return so_far
        self._open[(user, page.action)] = (form, so_far)
        return f"{page.action}{PAGE}{page.number + 1}"

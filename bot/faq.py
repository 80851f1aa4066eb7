"""The kit's frequently asked questions: the list, or the answer closest to a few words.

Scoring is small and deterministic, and reads the words in the reader's language:
words are lower-cased, accents come off, common words (``the``, ``que``, ``ich``)
are dropped and endings trimmed (``meetings`` and ``meeting`` match), and a
misspelt word still counts when it is close enough (difflib). A question's words
count fully, its answer's half. When no entry scores well enough, the person is
told so and shown the questions.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from functools import lru_cache

from bot import commands as c
from bot import messages as m
from bot.circle import Circle
from bot.decision import Context, Out
from bot.effects import Message
from bot.i18n import Text, _, hint, language
from kits.schema import FaqEntry, Kit

#: The share of a question's meaning (0-1) below which nothing is said to match.
GOOD_ENOUGH = 0.34
#: How alike two words must be (difflib's ratio) to count as the same word misspelt.
CLOSE = 0.8

STOP_WORDS = {
    "en": "a an and are am be can do does for how i if in is it me my of on or the to what when where who why will "
          "with you your this that there get",
    "es": "a al como con cual de del el en es esta este hay la las lo los me mi no o para por que se si su te tu un "
          "una y yo qué cómo cuál",
    "de": "am an auf bei bin das dass der die ein eine einen es für ich im in ist mein mich mir mit was wenn wer wie "
          "wo zu und oder kann muss",
}
#: Endings trimmed from a word of at least five letters, longest first.
ENDINGS = {
    "en": ("ings", "ing", "ies", "es", "ed", "s"),
    "es": ("aciones", "ación", "ciones", "ción", "mente", "es", "as", "os", "a", "o", "s", "e"),
    "de": ("ungen", "ung", "en", "er", "es", "e", "n", "s"),
}


def _plain(word: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", word) if not unicodedata.combining(ch))


@lru_cache(maxsize=4096)
def words(text: str, lang: str) -> frozenset[str]:
    """The words of ``text`` that carry meaning, trimmed to their stems."""
    stops = {_plain(w) for w in STOP_WORDS.get(lang, "").split()}
    found = set()
    for word in re.findall(r"\w+", _plain(text.lower())):
        if word in stops or len(word) < 2:
            continue
        for ending in ENDINGS.get(lang, ()):
            if len(word) >= 5 and word.endswith(ending):
                word = word[: -len(ending)]
                break
        found.add(word)
    return frozenset(found)


def _weight(word: str, question: frozenset[str], answer: frozenset[str]) -> float:
    if word in question:
        return 1.0
    if difflib.get_close_matches(word, question, n=1, cutoff=CLOSE):
        return 0.8
    if word in answer:
        return 0.5
    return 0.0


def score(query: str, entry: FaqEntry, lang: str) -> float:
    """How well ``entry`` answers ``query``, from 0 (nothing in common) to 1."""
    asked = words(query, lang)
    if not asked:
        return 0.0
    question, answer = words(entry.question, lang), words(entry.answer, lang)
    return sum(_weight(word, question, answer) for word in sorted(asked)) / len(asked)


def best(kit: Kit, query: str, lang: str) -> FaqEntry | None:
    """The entry that answers ``query`` best (the first of equals), or ``None`` when none does well enough."""
    scored = [(score(query, entry, lang), -n, entry) for n, entry in enumerate(kit.faq)]
    top = max(scored, key=lambda s: s[:2])
    return top[2] if top[0] >= GOOD_ENOUGH else None


def faq_message(kit: Kit, query: str, lang: str, circle: str | None = None) -> Message:
    """The answer closest to ``query``, or (none, or no query) the list of questions."""
    questions: list[Text | str] = [_("\u2022 {question}", question=entry.question) for entry in kit.faq]
    ask = _("Ask with {command}.", command=hint("faq", "<words>", circle=circle))
    if not query.strip():
        return m.plain(*questions, ask, title=_("Questions about {kit}", kit=kit.name))
    found = best(kit, query, lang)
    if found is None:
        return m.plain(
            _("Nothing here answers \u201c{query}\u201d well. These are the questions I can answer:", query=query),
            *questions,
            _("Your moderator can help with anything else."),
            title=_("No close answer"),
        )
    return m.plain(found.answer, title=found.question)


def _faq(circle: Circle, cmd: c.Faq, ctx: Context, out: Out) -> Circle:
    out.reply(ctx.actor.user, faq_message(ctx.kit, cmd.words, language(ctx.actor.locale or circle.locale), circle.handle))
    return circle


HANDLERS = {c.Faq: _faq}

"""The FAQ's scoring (bot/faq.py): in each language, misspelt, and honest when nothing fits."""

from __future__ import annotations

import pytest

from bot.faq import best, score, words
from kits import builtin_kits


@pytest.fixture(scope="module")
def starter():
    return builtin_kits()["starter"]


@pytest.mark.parametrize(
    ("lang", "query", "question"),
    [
        ("en", "what if I miss meetings", "What happens if I miss a meeting?"),
        ("en", "who can see what I answered", "Who sees my answers?"),
        ("en", "leaving the circle", "How do I leave the circle?"),
        ("en", "is it therapy", "Is this therapy?"),
        ("en", "therapie?", "Is this therapy?"),  # misspelt
        ("en", "how was I matched", "How was I matched with these people?"),
        ("es", "quién ve mis respuestas", "¿Quién ve mis respuestas?"),
        ("es", "que pasa si falto a las reuniones", "¿Qué pasa si falto a una reunión?"),
        ("es", "como dejo el circulo", "¿Cómo dejo el círculo?"),
        ("de", "wer sieht meine Antwort", "Wer sieht meine Antworten?"),
        ("de", "Treffen verpassen", "Was passiert, wenn ich ein Treffen verpasse?"),
    ],
)
def test_the_closest_question_answers(starter, lang, query, question):
    found = best(starter.translated(lang), query, lang)
    assert found is not None and found.question == question


@pytest.mark.parametrize("query", ["quantum physics", "", "the", "xyzzy plugh"])
def test_nothing_close_is_said_to_be_nothing(starter, query):
    assert best(starter, query, "en") is None


def test_scoring_is_deterministic_and_reads_words_in_their_language(starter):
    entry = starter.faq[0]
    assert score("miss a meeting", entry, "en") == score("miss a meeting", entry, "en") > 0.9
    assert words("Treffen, verpassen!", "de") == words("treffen verpasse", "de")
    assert words("reunión reuniones", "es") == {"reunion"}

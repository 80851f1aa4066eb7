"""Core values to JSON and back, with pydantic's adapters for the frozen dataclasses."""

from __future__ import annotations

from functools import lru_cache

from pydantic import TypeAdapter

from bot.circle import Circle
from bot.effects import DELIVERY_TYPES, Delivery, OpenForm

_CIRCLE = TypeAdapter(Circle)
_TEXT = TypeAdapter(str)
_FORM = TypeAdapter(OpenForm)
_ANSWERS = TypeAdapter(tuple[str, ...])
_DELIVERIES: dict[str, type] = {t.__name__: t for t in DELIVERY_TYPES}


@lru_cache(maxsize=None)
def _adapter(kind: str) -> TypeAdapter:
    return TypeAdapter(_DELIVERIES[kind])


def dump_circle(circle: Circle) -> str:
    return _CIRCLE.dump_json(circle).decode()


def load_circle(data: str) -> Circle:
    return _CIRCLE.validate_json(data)


def dump_delivery(effect: Delivery) -> tuple[str, str]:
    """The effect's type name and its JSON."""
    kind = type(effect).__name__
    return kind, _adapter(kind).dump_json(effect).decode()


def load_delivery(kind: str, payload: str) -> Delivery:
    return _adapter(kind).validate_json(payload)


def dump_text(text: str) -> str:
    """``text`` as a quoted JSON string, exactly as it appears inside a dumped payload."""
    return _TEXT.dump_json(text).decode()


def dump_form(form: OpenForm) -> str:
    return _FORM.dump_json(form).decode()


def load_form(data: str) -> OpenForm:
    return _FORM.validate_json(data)


def dump_answers(answers: tuple[str, ...]) -> str:
    return _ANSWERS.dump_json(answers).decode()


def load_answers(data: str) -> tuple[str, ...]:
    return _ANSWERS.validate_json(data)

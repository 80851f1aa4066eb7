"""A person's own data: a copy of all of it (``export``), or none of it left (``forget-me``).

What a circle stores about a person is their membership (a
:class:`~bot.circle.Member`) and their *records*: the entries of the circle's
tuple fields whose type has a ``user`` (check-ins, commitments, RSVPs, red
flags, nudges, stories, ...). :data:`RECORD_FIELDS` is read from the type hints
of :class:`~bot.circle.Circle`, so a new kind of record is exported and
forgotten without anyone having to remember this module.

Forgetting keeps the shape of the records and erases the rest: each record
stays, with its text blanked and its ``user`` replaced by a stand-in that cannot
be traced back, so "four of five checked in for week 3" stays true.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, fields, is_dataclass, replace
from datetime import date, datetime
from functools import cache
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints

from bot import messages as m
from bot.circle import Circle, UserRef
from bot.decision import Out
from bot.effects import Button, Message, SendFile
from bot.grammar import PREFIX
from bot.i18n import _
from bot.running import departed
from bot.sharing import withdraw_all

#: Stand-ins for forgotten people have ids like ``former-member-3f9a...``.
STAND_IN_PREFIX = "former-member-"


def _record_type(hint: Any) -> type | None:
    """``X`` for a ``tuple[X, ...]`` hint whose dataclass ``X`` has a ``user`` field."""
    args = get_args(hint)
    if get_origin(hint) is tuple and args and is_dataclass(args[0]):
        return args[0] if "user" in {f.name for f in fields(args[0])} else None
    return None


RECORD_FIELDS: tuple[str, ...] = tuple(
    name for name, hint in get_type_hints(Circle).items() if name != "members" and _record_type(hint) is not None
)


def _records(circle: Circle, user: UserRef) -> dict[str, list[Any]]:
    return {name: [r for r in getattr(circle, name) if r.user == user] for name in RECORD_FIELDS}


def holds(circle: Circle, user: UserRef) -> bool:
    """Whether ``circle`` stores anything about ``user``."""
    return circle.member(user) is not None or any(_records(circle, user).values())


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, frozenset | set):
        return sorted(value)
    raise TypeError(f"cannot export {type(value).__name__}")


def _without_user(record: Any) -> dict[str, Any]:
    return {k: v for k, v in asdict(record).items() if k != "user"}


def export_file(circles: Iterable[Circle], user: UserRef, now: datetime) -> SendFile:
    """Everything ``circles`` hold about ``user`` — and nobody else's words — as a JSON file."""
    mine = [circle for circle in circles if holds(circle, user)]
    data = {
        "exported_at": now.isoformat(),
        "person": asdict(user),
        "circles": [
            {
                "circle": {"id": circle.id, "name": circle.name, "kit": circle.kit_id, "state": circle.state.value},
                "membership": _without_user(member) if (member := circle.member(user)) else None,
                **{name: [_without_user(r) for r in records] for name, records in _records(circle, user).items()},
            }
            for circle in mine
        ],
    }
    return SendFile(
        user,
        f"circlebot-export-{now.date().isoformat()}.json",
        json.dumps(data, indent=2, ensure_ascii=False, default=_json_value),
        note=_("Everything Circlebot stores about you in this workspace (circles: {count}). {privacy}", count=len(mine), privacy=m.SEEN_BY_YOU),
    )


def _is_text(hint: Any) -> bool:
    return hint is str or (get_origin(hint) in (Union, UnionType) and str in get_args(hint))


@cache
def _text_fields(record_type: type) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The names of ``record_type``'s free-text fields: single texts, and tuples of texts (answers)."""
    hints = get_type_hints(record_type)
    several = tuple(name for name, hint in hints.items() if get_origin(hint) is tuple and get_args(hint)[:1] == (str,))
    single = tuple(name for name, hint in hints.items() if _is_text(hint))
    return single, several


def traces(circles: Iterable[Circle], user: UserRef) -> set[str]:
    """Every string in ``circles`` that ``user`` wrote or that names them: what must not outlive them elsewhere."""
    found = {user.id}
    for circle in circles:
        member = circle.member(user)
        if member:
            found.add(member.name)
        for records in _records(circle, user).values():
            for record in records:
                single, several = _text_fields(type(record))
                found.update(getattr(record, name) for name in single)
                found.update(text for name in several for text in getattr(record, name))
    return {text for text in found if text}


def _erased(record: Any, stand_in: UserRef) -> Any:
    single, several = _text_fields(type(record))
    blanks = {name: "" for name in single} | {name: ("",) * len(getattr(record, name)) for name in several}
    return replace(record, user=stand_in, **blanks)


def stand_in(user: UserRef, token: str) -> UserRef:
    """An anonymous member in ``user``'s workspace; ``token`` must be random and kept nowhere."""
    return UserRef(user.platform, user.workspace, f"{STAND_IN_PREFIX}{token}")


def forgotten(circle: Circle, user: UserRef, anonymous: UserRef, out: Out) -> Circle:
    """``circle`` with ``user`` gone: out of the members, their records kept for ``anonymous`` but blank.

    Raises:
        CircleError: ``user`` moderates the circle and others remain in it.
    """
    member = circle.member(user)
    if member:
        circle = departed(circle, member, out)
        if circle.members:
            out.post(m.plain(_("A member has left the circle.")))
    circle = withdraw_all(circle, user)
    erased = {name: tuple(_erased(r, anonymous) if r.user == user else r for r in getattr(circle, name)) for name in RECORD_FIELDS}
    return replace(circle, **erased)


def forget_preview(circles: Iterable[Circle], user: UserRef) -> Message:
    """What ``forget-me confirm`` would erase, circle by circle."""
    lines = []
    for circle in circles:
        count = sum(len(records) for records in _records(circle, user).values())
        membership = _("you are a member") if circle.member(user) else _("you have left it")
        lines.append(
            _(
                "\u2022 \u201c{name}\u201d ({membership}): {count} entries \u2014 check-ins, commitments, answers, stories and the like",
                name=circle.name,
                membership=membership,
                count=count,
            )
        )
    if not lines:
        return m.plain(_("Circlebot stores nothing about you in this workspace."), m.SEEN_BY_YOU, title=_("Nothing to erase"))
    return Message(
        (
            _("This erases your answers, commitments, stories and notes, and your name, in every circle here:"),
            *lines,
            _("You leave the circles you are in. The circles keep only anonymous counts, such as how many people checked in each week."),
            _("It cannot be undone. Take a copy first with {export} if you want one.", export=f"{PREFIX} export"),
            _("To go ahead, type {command}.", command=f"{PREFIX} forget-me confirm"),
            m.SEEN_BY_YOU,
        ),
        title=_("Forget me?"),
        buttons=(Button(_("Erase everything about me"), "forget-me confirm"),),
    )


def forgotten_message(count: int) -> Message:
    return m.plain(
        _("Done: your answers and your name are erased (circles: {count}).", count=count),
        _("Thank you for the time you gave your circles. Take care."),
        title=_("You are forgotten"),
    )
